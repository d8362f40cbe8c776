"""The CLI writes job statuses and token scopes out (so `--help` imports no database code);
they must stay equal to the enums."""

from civicshield.accounts import Permission
from civicshield.cli.jobs import STATUSES
from civicshield.cli.tokens import SCOPES
from civicshield.jobs import JobStatus


def test_job_statuses_in_help_match_the_enum() -> None:
    assert ", ".join(s.value for s in JobStatus) == STATUSES


def test_token_scopes_in_help_match_the_enum() -> None:
    assert ", ".join(p.value for p in Permission) == SCOPES
