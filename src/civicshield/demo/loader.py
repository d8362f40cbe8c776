"""Load the demo city idempotently: people, a demo API token, plugin demo data, a first job."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from civicshield import accounts, jobs
from civicshield.accounts import Permission, TokenCreate, UserCreate
from civicshield.core import Actor, NotFound
from civicshield.demo.credentials import (
    CREDENTIALS_FILE,
    read_credentials,
    write_credentials,
)
from civicshield.demo.people import DEMO_PEOPLE, SIEM_TOKEN_NAME, SIEM_TOKEN_OWNER, DemoPerson
from civicshield.runtime import Runtime

__all__ = ["DEMO_ACTOR", "DemoResult", "load_demo"]

DEMO_ACTOR = Actor(kind="system", name="demo")
FIRST_JOB = "audit.verify"


@dataclass(frozen=True)
class DemoResult:
    """What `load_demo` did: what it created, what was already there, where the secrets are."""

    city: str
    credentials_path: Path
    credentials_created: bool
    password: str
    admin_username: str
    siem_token: str | None
    people: tuple[DemoPerson, ...]
    users_created: tuple[str, ...] = ()
    users_present: tuple[str, ...] = ()
    passwords_reset: tuple[str, ...] = ()
    token_created: bool = False
    job_queued: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(
            self.users_created
            or self.passwords_reset
            or self.token_created
            or self.job_queued
            or self.credentials_created
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "city": self.city,
            "credentials_path": str(self.credentials_path),
            "credentials_created": self.credentials_created,
            "password": self.password,
            "admin_username": self.admin_username,
            "siem_token": self.siem_token,
            "users_created": list(self.users_created),
            "users_present": list(self.users_present),
            "passwords_reset": list(self.passwords_reset),
            "token_created": self.token_created,
            "job_queued": self.job_queued,
            "changed": self.changed,
            "notes": list(self.notes),
            "users": [
                {
                    "username": p.username,
                    "display_name": p.display_name,
                    "role": p.role.value,
                    "sectors": [s.value for s in p.sectors],
                    "language": p.language,
                    "timezone": p.timezone,
                }
                for p in self.people
            ],
        }


def _ensure_person(
    session: Session,
    rt: Runtime,
    person: DemoPerson,
    *,
    password: str,
    reset: bool,
    actor: Actor,
) -> str:
    """'created', 'reset' or 'present'."""
    try:
        user = accounts.get_user_by_username(session, person.username)
    except NotFound:
        data = UserCreate(
            username=person.username,
            password=password,
            role=person.role,
            email=person.email,
            display_name=person.display_name,
            sectors=list(person.sectors),
            language=person.language,
            timezone=person.timezone,
        )
        accounts.create_user(session, data, actor=actor, clock=rt.clock, config=rt.accounts)
        return "created"
    if not reset:
        return "present"
    # A new credentials file: make the existing account match it (audited as a reset).
    accounts.reset_password(
        session,
        user.id,
        actor=actor,
        clock=rt.clock,
        config=rt.accounts,
        new_password=password,
        must_change=False,
    )
    return "reset"


def _ensure_token(
    session: Session, rt: Runtime, stored: str | None, *, actor: Actor, notes: list[str]
) -> tuple[str | None, bool]:
    """The raw demo token (reusing the stored one while it still works) and whether it is new."""
    owner = accounts.get_user_by_username(session, SIEM_TOKEN_OWNER)
    if not owner.is_active:
        notes.append(f"{SIEM_TOKEN_OWNER} is disabled, so the demo API token was not created")
        return None, False
    now = rt.clock.now()
    mine = [
        t
        for t in accounts.list_tokens(session, owner_id=owner.id, limit=1000).items
        if t.name == SIEM_TOKEN_NAME
    ]
    for token in mine:
        usable = token.expires_at is None or token.expires_at > now
        if usable and stored and stored.startswith(f"cs_{token.prefix}_"):
            return stored, False
    for token in mine:  # its raw value is lost (or it expired): replace it
        accounts.revoke_token(session, token.id, actor=actor, clock=rt.clock)
    created = accounts.create_token(
        session,
        TokenCreate(name=SIEM_TOKEN_NAME, scopes=[Permission.DASHBOARD_VIEW], expires_in_days=365),
        owner_id=owner.id,
        actor=actor,
        clock=rt.clock,
    )
    return created.token, True


def load_demo(runtime: Runtime, *, actor: Actor | None = None) -> DemoResult:
    """Create the demo city's people, API token and first job, then let plugins add theirs.

    Idempotent: a second run finds everything present, writes no audit entry and keeps the
    credentials file. The database must be migrated (`civicshield init`)."""
    actor = actor or DEMO_ACTOR
    settings = runtime.settings
    path = settings.data_dir / CREDENTIALS_FILE
    stored = read_credentials(path)
    new_file = stored is None
    usernames = [person.username for person in DEMO_PEOPLE]
    password = stored["password"] if stored else accounts.generate_password(*usernames)
    token = (stored.get("siem_token") or None) if stored else None
    outcome: dict[str, list[str]] = {"created": [], "present": [], "reset": []}
    notes: list[str] = []
    with runtime.session() as session:
        for person in DEMO_PEOPLE:
            status = _ensure_person(
                session, runtime, person, password=password, reset=new_file, actor=actor
            )
            outcome[status].append(person.username)
        token, token_created = _ensure_token(session, runtime, token, actor=actor, notes=notes)
        plugin_notes = runtime.plugins.hook.civicshield_load_demo(
            session=session, clock=runtime.clock, settings=settings
        )
        notes.extend(note for returned in plugin_notes for note in (returned or ()))
        job_queued = False
        if (
            FIRST_JOB in runtime.jobs
            and jobs.list_jobs(session, name=FIRST_JOB, limit=1).total == 0
        ):
            jobs.enqueue(
                session,
                FIRST_JOB,
                registry=runtime.jobs,
                clock=runtime.clock,
                requested_by=actor.label,
            )
            job_queued = True
    if new_file or token_created:
        write_credentials(path, city=settings.city_name, password=password, token=token)
    if outcome["reset"]:
        notes.append(
            "existing demo accounts now use the new demo password: " + ", ".join(outcome["reset"])
        )
    return DemoResult(
        city=settings.city_name,
        credentials_path=path.resolve(),
        credentials_created=new_file,
        password=password,
        admin_username="admin",
        siem_token=token,
        people=DEMO_PEOPLE,
        users_created=tuple(outcome["created"]),
        users_present=tuple(outcome["present"] + outcome["reset"]),
        passwords_reset=tuple(outcome["reset"]),
        token_created=token_created,
        job_queued=job_queued,
        notes=tuple(notes),
    )
