"""Loading CORDIS bulk files into the database: all or nothing.

Both files are read and checked completely before anything is written (:mod:`cordis` refuses a
file with any bad row); then one transaction replaces the projects they name and their
participants. Rows of ``organization.csv`` whose project is in neither the file nor the
database are refused, naming the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.db import transaction

from rempart.core import audit
from rempart.funding import cordis
from rempart.funding.models import CordisParticipation, CordisProject

BATCH_ROWS = 2_000


@dataclass(frozen=True)
class ImportSummary:
    projects: int
    participations: int
    security_related: int


def import_cordis(
    projects_source: str | Path | IO[str], organisations_source: str | Path | IO[str]
) -> ImportSummary:
    """Read both files, then replace their projects and participants in one transaction.

    Raises :class:`cordis.CordisError` (one sentence) with nothing written."""
    projects = cordis.read_projects(projects_source)
    participations = cordis.read_organisations(organisations_source)
    in_file = {project.grant_id for project in projects}
    unknown = {p.project_id for p in participations} - in_file
    if unknown:
        known = set(
            CordisProject.objects.filter(grant_id__in=unknown).values_list("grant_id", flat=True)
        )
        missing = sorted(unknown - known)
        if missing:
            raise cordis.CordisError(
                f"organization file names project {missing[0]}, which is neither in the project "
                f"file nor already loaded ({len(missing)} such project(s))"
            )
    project_rows = [
        CordisProject(
            grant_id=p.grant_id,
            acronym=p.acronym,
            title=p.title,
            status=p.status,
            start_date=p.start_date,
            end_date=p.end_date,
            total_cost_eur=p.total_cost_eur,
            ec_max_contribution_eur=p.ec_max_contribution_eur,
            legal_basis=p.legal_basis,
            topics=p.topics,
            framework=p.framework,
            funding_scheme=p.funding_scheme,
            objective=p.objective,
            security_related=p.security_related,
        )
        for p in projects
    ]
    participation_rows = [
        CordisParticipation(
            project_id=p.project_id,
            organisation_id=p.organisation_id,
            name=p.name,
            short_name=p.short_name,
            country=p.country,
            city=p.city,
            role=p.role,
            activity_type=p.activity_type,
            legal_type=p.legal_type,
            ec_contribution_eur=p.ec_contribution_eur,
        )
        for p in participations
    ]
    touched = in_file | {p.project_id for p in participations}
    with transaction.atomic():
        touched_list = sorted(touched)
        for start in range(0, len(touched_list), BATCH_ROWS):
            chunk = touched_list[start : start + BATCH_ROWS]
            CordisParticipation.objects.filter(project_id__in=chunk).delete()
        CordisProject.objects.bulk_create(
            project_rows,
            batch_size=BATCH_ROWS,
            update_conflicts=True,
            unique_fields=["grant_id"],
            update_fields=[
                f.name for f in CordisProject._meta.concrete_fields if f.name != "grant_id"
            ],
        )
        CordisParticipation.objects.bulk_create(participation_rows, batch_size=BATCH_ROWS)
        summary = ImportSummary(
            len(project_rows),
            len(participation_rows),
            sum(1 for p in project_rows if p.security_related),
        )
        audit.record(
            "import",
            object_type="funding.cordis",
            object_repr=f"CORDIS: {summary.projects} projects, "
            f"{summary.participations} participations",
            detail={"projects": summary.projects, "participations": summary.participations},
        )
    return summary
