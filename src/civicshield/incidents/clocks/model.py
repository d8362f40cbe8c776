"""Jurisdiction profiles as typed, validated data (the YAML files under `profiles/`).

A profile is one legal regime; each obligation in it is one clock with its own start event.
A deadline is exactly one of: `hours` (statutory, elapsed hours), `months` (statutory, calendar
months) or `target_hours` + `wording` (the law says "promptly" or similar: an internal target the
city configures, never presented as statutory).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "REGISTER_OBLIGATIONS",
    "REQUIREMENTS",
    "START_EVENTS",
    "Deadline",
    "DeadlineKind",
    "Localized",
    "NoticeField",
    "Obligation",
    "Profile",
    "Retention",
    "StartEventKind",
]

StartEventKind = Literal[
    "cause_to_believe",
    "became_aware",
    "determined",
    "discovered",
    "confirmed_review_begun",
    "ransom_paid",
    "notification_sent",
    "hold_lifted",
]
START_EVENTS: tuple[str, ...] = StartEventKind.__args__  # type: ignore[attr-defined]

# Conditions an obligation may depend on; each is a recorded assessment on the case.
Requirement = Literal[
    "risk_of_serious_injury",  # Québec s. 63.8
    "significant_effect",  # Mexico LGPDPPSO 2017 art. 40
    "risk",  # GDPR art. 33(1): unless unlikely to result in a risk
    "high_risk",  # GDPR art. 34(1)
    "significant_incident",  # NIS2 art. 23(3)
    "real_risk_of_significant_harm",  # PIPEDA s. 10.1(1)
    "ransomware",  # Fla. Stat. § 282.3185
    "severity_3_to_5",  # Fla. Stat. § 282.3185 with § 282.318(3)(c)
]
REQUIREMENTS: tuple[str, ...] = Requirement.__args__  # type: ignore[attr-defined]

DeadlineKind = Literal["statutory", "internal-target"]

# Obligations met by an entry in the city's confidentiality-incident register, not by a notice.
REGISTER_OBLIGATIONS = frozenset(
    {"qc-a21.register", "gdpr.art33-5", "mx-lgpdppso.log", "pipeda.record"}
)

_ID = r"^[a-z0-9][a-z0-9-]*$"
_OBLIGATION_ID = r"^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Localized(_Strict):
    """A text in the three UI languages (data, so not in the Babel catalogues)."""

    en: str = Field(min_length=1)
    es: str = Field(min_length=1)
    fr: str = Field(min_length=1)

    def get(self, language: str) -> str:
        """The text for a language tag such as `fr-CA`; English when the language is unknown."""
        base = language.split("-", 1)[0].lower()
        return str(getattr(self, base)) if base in ("en", "es", "fr") else self.en


class Deadline(_Strict):
    hours: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)
    target_hours: float | None = Field(default=None, gt=0)
    wording: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        forms = [self.hours is not None, self.months is not None, self.target_hours is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of hours, months or target_hours")
        if (self.target_hours is None) != (self.wording is None):
            raise ValueError("target_hours needs the law's wording (and wording needs a target)")
        return self

    @property
    def kind(self) -> DeadlineKind:
        return "internal-target" if self.target_hours is not None else "statutory"


class NoticeField(_Strict):
    """One required item of a notice, with where the law asks for it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Localized
    article: str = Field(min_length=1)


class Retention(_Strict):
    months: int = Field(gt=0)
    start_event: StartEventKind
    article: str = Field(min_length=1)


class Obligation(_Strict):
    id: str = Field(pattern=_OBLIGATION_ID)
    title: Localized
    article: str = Field(min_length=1)
    trigger: str = Field(min_length=1)
    start_event: StartEventKind
    deadline: Deadline
    recipient: Localized
    requires: tuple[Requirement, ...] = ()
    suspendable: bool = False
    suspension_article: str | None = None
    follows: str | None = Field(default=None, pattern=_OBLIGATION_ID)
    notice_fields: tuple[NoticeField, ...] = ()
    retention: Retention | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.follows is not None and self.start_event != "notification_sent":
            raise ValueError("an obligation that follows another starts at its notification_sent")
        if self.suspendable and not self.suspension_article:
            raise ValueError("a suspendable obligation cites the article allowing the hold")
        ids = [f.id for f in self.notice_fields]
        if len(set(ids)) != len(ids):
            raise ValueError("notice_fields ids repeat")
        return self

    @property
    def kind(self) -> DeadlineKind:
        return self.deadline.kind

    @property
    def profile_id(self) -> str:
        return self.id.split(".", 1)[0]


class Profile(_Strict):
    id: str = Field(pattern=_ID)
    version: str = Field(min_length=1)
    name: Localized
    citation: str = Field(min_length=1)
    binds_city: str = Field(min_length=1)
    confidence: str = Field(min_length=1)
    sources: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _obligations_belong(self) -> Self:
        ids = [o.id for o in self.obligations]
        for ob in self.obligations:
            if ob.profile_id != self.id:
                raise ValueError(f"obligation {ob.id} does not start with '{self.id}.'")
            if ob.follows is not None and ob.follows not in ids:
                raise ValueError(f"obligation {ob.id} follows unknown {ob.follows}")
        if len(set(ids)) != len(ids):
            raise ValueError("obligation ids repeat")
        return self

    def obligation(self, obligation_id: str) -> Obligation:
        for ob in self.obligations:
            if ob.id == obligation_id:
                return ob
        raise KeyError(obligation_id)
