"""The city's segmentation policy as people edit it: read, check, save (atomic, audited), go
back to the default, and preview what a policy would have flagged over the stored flows.

The policy is a YAML file, `<data_dir>/segmentation.yaml` (the default policy until one is
saved); continuous detection picks a saved policy up at its next micro-batch.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import yaml
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core import Settings
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import FieldError, Invalid
from civicshield.detect.segmentation import (
    DEFAULT_POLICY,
    FLOW_DATASETS,
    POLICY_FILE,
    Evaluator,
    Issue,
    Policy,
    check_policy,
    parse_policy,
)
from civicshield.telemetry.paths import event_store

__all__ = [
    "PolicyCheck",
    "PolicyState",
    "Preview",
    "check_policy_text",
    "current_policy",
    "preview_policy",
    "reset_policy",
    "save_policy",
]

MAX_POLICY_BYTES = 512 * 1024
_FLOW_COLUMNS = ("@timestamp", "source.ip", "destination.ip", "network.transport",
                 "destination.port", "event.dataset")  # fmt: skip


@dataclass(frozen=True)
class PolicyCheck:
    """A policy text checked: the policy when it parses, and every problem found."""

    policy: Policy | None
    issues: list[Issue]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]


@dataclass(frozen=True)
class PolicyState:
    text: str
    source: str  # "city" (saved) or "default"
    check: PolicyCheck
    saved_at: datetime | None


@dataclass
class Preview:
    """What a policy would have flagged among the stored flows of a period."""

    since: datetime
    until: datetime
    flows: int = 0
    denied: int = 0
    by_rule: list[dict[str, Any]] = field(default_factory=list)
    by_path: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(), "until": self.until.isoformat(),
            "flows": self.flows, "denied": self.denied, "by_rule": self.by_rule,
            "by_path": self.by_path, "samples": self.samples,
        }  # fmt: skip


def check_policy_text(text: str) -> PolicyCheck:
    """Parse and check a policy; YAML and shape errors become issues with their place."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        return PolicyCheck(None, [Issue("error", "policy", "larger than 512 KiB")])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "policy"
        return PolicyCheck(None, [Issue("error", where, f"not YAML: {exc}")])
    try:
        policy = parse_policy(data)
    except Invalid as exc:
        issues = [Issue("error", ".".join(map(str, e.loc)) or "policy", e.msg) for e in exc.errors]
        return PolicyCheck(None, issues or [Issue("error", "policy", exc.detail)])
    return PolicyCheck(policy, check_policy(policy))


def current_policy(settings: Settings) -> PolicyState:
    path = settings.data_dir / POLICY_FILE
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        saved = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        return PolicyState(text, "city", check_policy_text(text), saved)
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    return PolicyState(text, "default", check_policy_text(text), None)


def save_policy(
    session: Session, settings: Settings, text: str, *, actor: Actor, clock: Clock
) -> PolicyState:
    """Save the city's policy; refused (nothing written) while it has errors."""
    checked = check_policy_text(text)
    if checked.errors:
        raise Invalid(
            f"the policy has {len(checked.errors)} error(s); nothing was saved",
            [FieldError(("body", "policy", i.where), i.message) for i in checked.errors],
        )
    assert checked.policy is not None
    path = settings.data_dir / POLICY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".segmentation-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    policy = checked.policy
    audit.record(
        session, actor=actor, action="segmentation.save", entity_type="segmentation_policy",
        entity_id=policy.id, clock=clock,
        summary=f"segmentation policy {policy.version}: {len(policy.zones)} zones, "
        f"{len(policy.rules)} rules, {len(checked.issues)} warning(s)",
    )  # fmt: skip
    return current_policy(settings)


def reset_policy(
    session: Session, settings: Settings, *, actor: Actor, clock: Clock
) -> PolicyState:
    """Go back to the default policy (the saved file is removed; the audit log keeps who)."""
    path = settings.data_dir / POLICY_FILE
    if path.is_file():
        path.unlink()
        audit.record(
            session, actor=actor, action="segmentation.reset", entity_type="segmentation_policy",
            entity_id="city", clock=clock, summary="back to the default segmentation policy",
        )  # fmt: skip
    return current_policy(settings)


def preview_policy(
    settings: Settings,
    policy: Policy,
    *,
    now: datetime,
    days: int = 7,
    samples: int = 20,
) -> Preview:
    """Evaluate `policy` over the stored flows of the last `days` days."""
    since = now - timedelta(days=days)
    out = Preview(since=since, until=now)
    lazy = event_store(settings).scan(datasets=sorted(FLOW_DATASETS), since=since, until=now)
    present = [c for c in _FLOW_COLUMNS if c in lazy.collect_schema().names()]
    if len(present) < len(_FLOW_COLUMNS):
        return out
    flows = lazy.select(present).collect()
    out.flows = flows.height
    if not flows.height:
        return out
    judged = Evaluator(policy).evaluate(flows).filter(pl.col("segmentation.action") == "deny")
    out.denied = judged.height
    by_rule = judged.group_by("segmentation.rule", "segmentation.reason", "segmentation.severity")
    out.by_rule = [
        {"rule": r, "reason": why, "severity": sev, "flows": n, "sources": s,
         "first": first.isoformat(), "last": last.isoformat()}
        for r, why, sev, n, s, first, last in by_rule.agg(
            pl.len(), pl.col("source.ip").n_unique(), pl.col("@timestamp").min().alias("_first"),
            pl.col("@timestamp").max().alias("_last"),
        ).sort("len", descending=True).iter_rows()
    ]  # fmt: skip
    paths = judged.group_by(
        "source.zone", "destination.zone", "network.transport", "destination.port"
    ).len()
    out.by_path = [
        {"from": a, "to": b, "protocol": p, "port": port, "flows": n}
        for a, b, p, port, n in paths.sort("len", descending=True).head(50).iter_rows()
    ]
    out.samples = [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
        for row in judged.sort("@timestamp", descending=True).head(samples).iter_rows(named=True)
    ]
    return out
