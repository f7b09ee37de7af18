# A decision's message named the permit's holder ("delivery permit p-17 (Boulangerie du Port)
# valid ..."), and access viewers, the live stream, the API and cameras read messages: holders
# are for access editors only. The engine no longer writes them; this removes them from the
# messages already stored. The holder may have changed since, so what is removed is the
# parenthesis after "permit <id>" up to one of the phrases the engine writes after it.

import re

from django.db import migrations

#: What follows a permit's description in the engine's messages (rempart.access.decide).
AFTER = (
    " is ",
    " covers ",
    " expired on ",
    " does not apply on ",
    " valid ",
    " allows ",
    " has no PIN",
)


def _scrubbed(message: str, ident: str) -> str:
    after = "|".join(re.escape(text) for text in AFTER)
    pattern = rf"(permit {re.escape(ident)}) \(.*?\)(?={after}|;|$)"
    return re.sub(pattern, r"\1", message)


def scrub(apps, schema_editor):
    decision_model = apps.get_model("access", "AccessDecision")
    rows = (
        decision_model.objects.exclude(permit_ident="")
        .filter(message__contains="(")
        .only("pk", "permit_ident", "message")
        .order_by("pk")
    )
    last_pk = 0
    while True:  # in batches by id: no cursor stays open over the table being updated
        batch = list(rows.filter(pk__gt=last_pk)[:2000])
        if not batch:
            return
        last_pk = batch[-1].pk
        changed = []
        for decision in batch:
            message = _scrubbed(decision.message, decision.permit_ident)
            if message != decision.message:
                decision.message = message
                changed.append(decision)
        decision_model.objects.bulk_update(changed, ["message"])


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0006_passage_expiry_and_one_per_plate"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
