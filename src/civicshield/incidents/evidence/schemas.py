"""Evidence shapes for the web, the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CustodyRead",
    "CustodyTransfer",
    "EvidenceRead",
    "Integrity",
    "RekeyReport",
    "VerifyResult",
]

Integrity = Literal["intact", "tampered", "unchecked"]


class CustodyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str  # upload, download, verify, transfer, rekey
    detail: str


class EvidenceRead(BaseModel):
    """One piece: what it is, its fixed SHA-256, its last integrity check and its custody."""

    id: int
    case_id: int
    filename: str
    media_type: str = Field(description="As declared at upload; always served as octet-stream.")
    size: int
    sha256: str
    key_id: str = Field(description="Which evidence key encrypts it (never the key itself).")
    description: str
    uploaded_at: datetime
    uploaded_by: str
    last_verified_at: datetime | None
    integrity: Integrity
    problem: str = Field(default="", description="Why the last check failed (when tampered).")
    custodian: str = Field(description="Who holds custody now (uploader or last transfer).")
    custody: list[CustodyRead]


class CustodyTransfer(BaseModel):
    """Hand custody of a piece to a named person."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=1, max_length=200, description="The person taking custody.")
    note: str = Field(default="", max_length=2000)


class VerifyResult(BaseModel):
    evidence_id: int
    case_id: int
    filename: str
    intact: bool
    problem: str


class RekeyReport(BaseModel):
    new_key_id: str
    rekeyed: list[int] = Field(description="Evidence ids now under the new key.")
    already: list[int] = Field(description="Evidence ids that were under it already.")
    tampered: list[VerifyResult] = Field(description="Left alone under their old key.")
    dropped_keys: list[str] = Field(description="Key ids removed from the key file.")
    kept_keys: list[str] = Field(description="Key ids still in the key file.")
