"""The running system's shared objects, built once from settings by the composition root.

Adapters (web, api, worker, cli) receive a `Runtime` instead of building their own engine,
registry or mailer, so one process never holds two of each.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pluggy
from sqlalchemy.orm import Session

from civicshield import incidents
from civicshield.accounts import AccountsConfig
from civicshield.accounts import hooks as accounts_hooks
from civicshield.audit import hooks as audit_hooks
from civicshield.core import hookspecs
from civicshield.core.clock import Clock, SystemClock
from civicshield.core.events import EventBus
from civicshield.core.settings import Settings
from civicshield.incidents import hooks as incidents_hooks
from civicshield.intel import hooks as intel_hooks
from civicshield.jobs import JobRegistry
from civicshield.mail import MailConfig, Mailer
from civicshield.mail import hooks as mail_hooks
from civicshield.rules import hooks as rules_hooks
from civicshield.store import Database
from civicshield.telemetry import hooks as telemetry_hooks
from civicshield.vulns import hooks as vulns_hooks

__all__ = ["DEFAULT_PLUGINS", "Runtime", "build_runtime", "plugin_manager"]

# CivicShield's own features, registered through the same hooks as third-party plugins.
DEFAULT_PLUGINS: list[object] = [
    accounts_hooks,
    audit_hooks,
    incidents_hooks,
    intel_hooks,
    mail_hooks,
    rules_hooks,
    telemetry_hooks,
    vulns_hooks,
]


def plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


@dataclass
class Runtime:
    settings: Settings
    db: Database
    accounts: AccountsConfig
    jobs: JobRegistry
    mailer: Mailer
    plugins: pluggy.PluginManager
    clock: Clock = field(default_factory=SystemClock)
    events: EventBus = field(default_factory=EventBus)
    worker_name: str = field(default_factory=lambda: f"{socket.gethostname()}")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session() as session:
            yield session

    @property
    def services(self) -> dict[str, object]:
        """What job functions may use (`JobContext.services`)."""
        return {
            "settings": self.settings,
            "accounts": self.accounts,
            "mailer": self.mailer,
            "events": self.events,
            "jobs": self.jobs,
            "unit_of_work": self.session,
        }

    def close(self) -> None:
        self.db.dispose()


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, plugins: list[object] | None = None
) -> Runtime:
    """Wire settings into the shared objects and register plugins (ours first)."""
    manager = plugin_manager()
    for plugin in [*DEFAULT_PLUGINS, *(plugins or [])]:
        manager.register(plugin)
    manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    registry = JobRegistry()
    for definitions in manager.hook.civicshield_register_jobs():
        for definition in definitions:
            registry.add(definition)
    runtime = Runtime(
        settings=settings,
        db=Database(settings),
        accounts=AccountsConfig.from_settings(settings),
        jobs=registry,
        mailer=Mailer(MailConfig.from_settings(settings)),
        plugins=manager,
        clock=clock or SystemClock(),
    )
    # Flows that go upward a layer: a report (awareness, later) opens an incident case.
    runtime.events.subscribe(
        incidents.REPORT_RECEIVED, incidents.report_handler(runtime.session, runtime.clock)
    )
    return runtime
