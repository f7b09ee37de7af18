"""Evaluation: who rates which objective, the P/S/M/U coverage, actions across exercises.

HSEEP (2020) rates each objective (and its capability) P, S, M or U in the exercise evaluation
guides; evaluators rate the objectives they were assigned, the lead (here a supervisor of the
module) every one. Where evaluators differ, the coverage shows each rating and the lowest, the
one the after-action report carries until the team agrees.
"""

from __future__ import annotations

from typing import Any

from rempart.core.roles import has_role
from rempart.exercises.models import CorrectiveAction, Exercise, Inject, Objective, Rating

#: best to worst
RATING_ORDER = [Rating.P, Rating.S, Rating.M, Rating.U]


def objectives_to_rate(exercise: Exercise, user: Any) -> list[Objective]:
    """Every objective for a supervisor; an evaluator's assigned objectives otherwise."""
    if has_role(user, "exercises", "supervisor"):
        return list(exercise.objectives.all())
    return list(
        Objective.objects.filter(
            exercise=exercise, participant__user=user, participant__role="evaluator"
        ).distinct()
    )


def lowest(ratings: list[str]) -> str:
    return max(ratings, key=lambda r: RATING_ORDER.index(Rating(r))) if ratings else ""


def coverage(exercise: Exercise) -> list[dict[str, Any]]:
    """One row per objective: its ratings, the lowest, the injects testing it (and how many
    were released), the observations recorded against it."""
    rows = []
    for objective in exercise.objectives.prefetch_related("evaluations__evaluator"):
        evaluations = list(objective.evaluations.all())
        injects = Inject.objects.filter(objectives=objective)
        worst = lowest([e.rating for e in evaluations])
        rows.append(
            {
                "objective": objective,
                "evaluations": evaluations,
                "rating": worst,
                "rating_label": Rating(worst).label if worst else "",
                "injects": injects.count(),
                "released": injects.filter(
                    state__in=[Inject.State.RELEASED, Inject.State.COMPLETE]
                ).count(),
                "observations": objective.journalentry_set.count(),
            }
        )
    return rows


def open_actions_on_same_objectives(exercise: Exercise) -> list[CorrectiveAction]:
    """Open corrective actions of the city's earlier exercises on the same capabilities: the
    next exercise on the same objective shows what is still to be done."""
    capabilities = set(exercise.objectives.values_list("capability", flat=True))
    if not capabilities:
        return []
    return list(
        CorrectiveAction.objects.filter(
            exercise__city=exercise.city,
            capability__in=capabilities,
            status__in=CorrectiveAction.OPEN_STATUSES,
        )
        .exclude(exercise=exercise)
        .select_related("exercise", "owner")
    )
