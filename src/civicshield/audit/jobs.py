"""Audit background jobs: verify the chain daily so tampering is noticed without anyone asking."""

from __future__ import annotations

from typing import Any

from civicshield.audit.service import verify_chain
from civicshield.core.errors import CivicShieldError
from civicshield.jobs import JobContext, JobDefinition

__all__ = ["JOBS", "AuditChainBroken"]


class AuditChainBroken(CivicShieldError):
    title = "Audit chain broken"
    slug = "audit-broken"


def _verify(ctx: JobContext) -> dict[str, Any]:
    report = verify_chain(ctx.session)
    if not report.ok:
        ctx.log.error(f"audit chain broken at entry {report.broken_at}: {report.reason}")
        raise AuditChainBroken(f"audit chain broken at entry {report.broken_at}: {report.reason}")
    ctx.log.info(f"audit chain intact: {report.checked} entries checked")
    return report.model_dump()


JOBS = [
    JobDefinition(
        name="audit.verify",
        run=_verify,
        max_attempts=1,
        description="Verify the hash chain of the audit log.",
        every_seconds=86400,
    ),
]
