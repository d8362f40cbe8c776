"""Generated passwords always pass the policy for the user they are made for."""

from __future__ import annotations

import pytest

from civicshield.accounts import _passwords
from civicshield.accounts._passwords import check_policy, generate_password


def test_a_generated_password_never_contains_the_username(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["Xbo4kLmN2pQrStUvWxYz9aCd", "K7mN2pQrStUvWxYz9aCdEfGh"])
    monkeypatch.setattr(_passwords.secrets, "token_urlsafe", lambda _n: next(draws))
    password = generate_password("bo")
    assert password == "K7mN2pQrStUvWxYz9aCdEfGh"  # the first draw held "bo": drawn again
    check_policy(password, username="bo")


def test_many_generated_passwords_pass_for_short_names() -> None:
    for _ in range(300):
        password = generate_password("bo", "ana")
        check_policy(password, username="bo")
        check_policy(password, username="ana")
