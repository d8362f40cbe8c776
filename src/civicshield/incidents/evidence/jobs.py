"""`incidents.evidence_verify`: check every piece of evidence once a day (tampering shows up
on the case page even when nobody downloads the file)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from civicshield.core.actor import SYSTEM
from civicshield.incidents.evidence.integrity import check_blob, record_check
from civicshield.incidents.evidence.keys import load_keyring
from civicshield.incidents.models import Evidence
from civicshield.jobs import JobContext, JobDefinition

__all__ = ["JOBS", "VERIFY_JOB"]

VERIFY_JOB = "incidents.evidence_verify"


def _verify(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.services["settings"]
    ring = load_keyring(settings)
    checked, tampered = 0, []
    for ev in ctx.session.scalars(select(Evidence).order_by(Evidence.id)):
        result = record_check(
            ctx.session, ev, check_blob(settings, ring, ev), actor=SYSTEM.label, clock=ctx.clock
        )
        checked += 1
        if not result.intact:
            tampered.append(ev.id)
            ctx.log.warning(f"evidence {ev.id} of case {ev.case_id}: {result.problem}")
    ctx.log.info(f"{checked} piece(s) of evidence checked, {len(tampered)} tampered")
    return {"checked": checked, "tampered": tampered}


JOBS = [
    JobDefinition(
        name=VERIFY_JOB,
        run=_verify,
        every_seconds=24 * 3600,
        first_run_after_seconds=3600,
        description="Decrypt every piece of case evidence and check its SHA-256.",
    )
]
