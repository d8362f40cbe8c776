"""Incident tables: cases, their append-only field history, the alerts they hold, the tasks a
playbook created; the legal clocks (start events, assessments, holds, reminders, notices and the
register); evidence with its chain of custody; observables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = [
    "Case",
    "CaseAlert",
    "CaseAssessment",
    "CaseChange",
    "CaseClock",
    "CaseHold",
    "CaseNotice",
    "CaseReminder",
    "CaseStartEvent",
    "CaseTask",
    "CustodyEntry",
    "Evidence",
    "Observable",
    "RegisterEntry",
]


class Case(Base):
    """One incident. `sectors` and `asset_ids` are those its alerts (or people) named; a sector
    operator sees a case that touches one of their sectors."""

    __tablename__ = "incident_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16), index=True)
    tlp: Mapped[str] = mapped_column(String(16), default="amber")
    pap: Mapped[str] = mapped_column(String(16), default="amber")
    status: Mapped[str] = mapped_column(String(16), index=True, default="new")
    resolution: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    team: Mapped[list[str]] = mapped_column(JSON, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    asset_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    playbook_id: Mapped[str] = mapped_column(String(100), default="")
    playbook_version: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(32), default="manual")  # manual, alerts, report
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    first_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseChange(Base):
    """One changed field of one case (never edited, never deleted): MTTD/MTTR and audits read it."""

    __tablename__ = "incident_case_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class CaseAlert(Base):
    """An alert gathered into a case (an alert belongs to at most one case)."""

    __tablename__ = "incident_case_alert"
    __table_args__ = (UniqueConstraint("alert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(200))


class CaseTask(Base):
    """A task of a case, from a playbook or added by hand. An automated action that touches OT,
    cameras or the citizen portal waits for a person's approval (`approved_by`)."""

    __tablename__ = "incident_case_task"
    __table_args__ = (UniqueConstraint("case_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(200))  # "<playbook>/<task id>" or "manual/<n>"
    phase: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(64), default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    automated_action: Mapped[str] = mapped_column(String(200), default="")
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str] = mapped_column(String(200), default="")


class CaseClock(Base):
    """A legal obligation a case runs (one jurisdiction profile's clock). Its start comes from
    the case's start events; `withdrawn_at` ends it without deleting it (the reason is kept)."""

    __tablename__ = "incident_clock"
    __table_args__ = (UniqueConstraint("case_id", "obligation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    obligation_id: Mapped[str] = mapped_column(String(100))
    profile_version: Mapped[str] = mapped_column(String(32))
    policy: Mapped[str] = mapped_column(String(16), default="pause")  # hold policy
    target_hours: Mapped[float | None] = mapped_column()  # the internal target used, if any
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str] = mapped_column(String(200), default="")
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")


class CaseStartEvent(Base):
    """One audited start event ("cause to believe", "became aware", "ransom paid"…). Never edited:
    a correction is a new row naming the row it `corrects`."""

    __tablename__ = "incident_start_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    obligation_id: Mapped[str | None] = mapped_column(String(100))  # scoped to one clock
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    zone: Mapped[str] = mapped_column(String(64), default="UTC")  # the zone it was given in
    note: Mapped[str] = mapped_column(Text, default="")
    corrects: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))


class CaseAssessment(Base):
    """A recorded decision on a condition (risk of serious injury, high risk…), kept even when
    the answer is "do not notify"; the latest per requirement counts, earlier ones stay."""

    __tablename__ = "incident_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    requirement: Mapped[str] = mapped_column(String(64))
    met: Mapped[bool] = mapped_column(Boolean)
    factors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasoning: Mapped[str] = mapped_column(Text)
    consulted: Mapped[str] = mapped_column(String(300), default="")
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assessed_by: Mapped[str] = mapped_column(String(200))


class CaseHold(Base):
    """An investigation hold on the case's suspendable clocks (or on one of them)."""

    __tablename__ = "incident_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    obligation_id: Mapped[str | None] = mapped_column(String(100))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(300))
    review_on: Mapped[str] = mapped_column(String(10))  # ISO date
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))
    lifted_by: Mapped[str] = mapped_column(String(200), default="")


class CaseReminder(Base):
    """A reminder raised for a clock (in-app, and by e-mail from its level on); one per clock,
    level and deadline, so the job can run any number of times."""

    __tablename__ = "incident_reminder"
    __table_args__ = (UniqueConstraint("case_id", "obligation_id", "level", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    obligation_id: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    emailed_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str] = mapped_column(String(200), default="")


class CaseNotice(Base):
    """A notice for one obligation: a draft with the regime's required fields, then sent once
    (recipient, channel, time and the exact copy sent, with its SHA-256)."""

    __tablename__ = "incident_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    obligation_id: Mapped[str] = mapped_column(String(100), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    recipient: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(300), default="")  # e-mail, postal, portal URL
    channel: Mapped[str] = mapped_column(String(16), default="email")
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_by: Mapped[str] = mapped_column(String(200), default="")
    copy: Mapped[str] = mapped_column(Text, default="")
    copy_sha256: Mapped[str] = mapped_column(String(64), default="")
    message_id: Mapped[str] = mapped_column(String(300), default="")


class RegisterEntry(Base):
    """One version of a case's entry in the confidentiality-incident register (the union of
    Québec r. 3.1 s. 7, GDPR 33(5), Mexico's bitácora and PIPEDA's record). Append-only: a change
    is a new version; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "incident_register"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Evidence(Base):
    """A file kept for a case: encrypted at rest (AES-256-GCM) under `<data_dir>/evidence/`,
    never in the database; the SHA-256 of the plaintext is fixed at upload."""

    __tablename__ = "incident_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="RESTRICT"), index=True
    )
    filename: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob: Mapped[str] = mapped_column(String(100), unique=True)  # file name in the store
    key_id: Mapped[str] = mapped_column(String(32))  # which key encrypted it
    description: Mapped[str] = mapped_column(Text, default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by: Mapped[str] = mapped_column(String(200))
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    intact: Mapped[bool | None] = mapped_column(Boolean)  # result of the last check


class CustodyEntry(Base):
    """The chain of custody of one piece of evidence (append-only)."""

    __tablename__ = "incident_custody"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("incident_evidence.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))  # upload, download, verify, transfer, rekey
    detail: Mapped[str] = mapped_column(Text, default="")


class Observable(Base):
    """An observable of a case (IP, domain, URL, hash, e-mail…); cases sharing one are related."""

    __tablename__ = "incident_observable"
    __table_args__ = (UniqueConstraint("case_id", "type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("incident_case.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(2000), index=True)
    ioc: Mapped[bool] = mapped_column(Boolean, default=False)
    tlp: Mapped[str] = mapped_column(String(16), default="amber")
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(200))
