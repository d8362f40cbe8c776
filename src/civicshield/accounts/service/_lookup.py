"""Loading a user row by id, with the one NotFound message every use case gives."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicshield.accounts.models import User
from civicshield.core.errors import NotFound

__all__ = ["load_user"]


def load_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user
