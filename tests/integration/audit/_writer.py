"""Run as a separate process: append N audit entries to the database at URL, one per commit."""

from __future__ import annotations

import sys

from civicshield import audit
from civicshield.core import Actor, SystemClock, load_settings
from civicshield.store import Database


def main(url: str, name: str, count: int) -> None:
    db = Database(
        load_settings(
            environment="test", database_url=url, secret_key="test-secret-key-0123456789abcdef"
        )
    )
    actor = Actor(kind="system", name=name)
    for i in range(count):
        with db.session() as session:
            audit.record(
                session,
                actor=actor,
                action="test.write",
                entity_type="probe",
                entity_id=f"{name}-{i}",
                clock=SystemClock(),
            )
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
