"""Persistence plumbing: engine/session factory, declarative base, portable column types."""

from civicshield.store.base import NAMING_CONVENTION, Base
from civicshield.store.db import Database, make_engine
from civicshield.store.types import UTCDateTime

__all__ = ["NAMING_CONVENTION", "Base", "Database", "UTCDateTime", "make_engine"]
