"""Property: whatever (JSON-able) change a service records, the stored entry verifies.

The hash is computed before the row goes through the database's JSON and datetime types;
this checks the canonical form survives that round trip for awkward values.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from civicshield import audit
from civicshield.core import Actor, FrozenClock
from civicshield.migrations import upgrade
from civicshield.store import Database
from tests.conftest import NOW, make_settings

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
changes = st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=5)


def test_any_change_round_trips_and_verifies(tmp_path_factory: object) -> None:
    base = Path(tmp_path_factory.mktemp("prop"))  # type: ignore[attr-defined]
    url = f"sqlite:///{base / 'audit.db'}"
    upgrade(url)
    db = Database(make_settings(base, database_url=url))
    clock = FrozenClock(NOW)

    @given(changes=changes, summary=st.text(max_size=200), micro=st.integers(0, 999_999))
    def check(changes: dict[str, object], summary: str, micro: int) -> None:
        clock.advance(timedelta(microseconds=micro))
        with db.session() as session:
            audit.record(
                session,
                actor=Actor(kind="user", name="prop"),
                action="prop.test",
                entity_type="thing",
                entity_id="1",
                clock=clock,
                summary=summary,
                changes=changes,
            )
        with db.session() as session:
            report = audit.verify_chain(session)
        assert report.ok, report.reason

    check()
    db.dispose()
