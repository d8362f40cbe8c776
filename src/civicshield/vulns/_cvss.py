"""CVSS scoring (the `cvss` library) and the choice of which published metric counts.

A CVE can carry several metrics (NVD Primary, the CNA's, CISA ADP's; v2 to v4.0) that disagree;
the policy decides which one counts, and the others are named when their score differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from civicshield.core.enums import Severity
from civicshield.vulns.policy import CvssChoice

__all__ = [
    "CvssError",
    "CvssPick",
    "CvssResult",
    "cvss_metrics",
    "cvss_severity",
    "pick_cvss",
    "score_vector",
    "source_class",
    "source_label",
]


class CvssError(ValueError):
    """A CVSS vector the `cvss` library refuses; the message names the vector and the reason."""


@dataclass(frozen=True, slots=True)
class CvssResult:
    version: str  # "2.0", "3.0", "3.1" or "4.0"
    base_score: float
    severity: Severity
    vector: str


def cvss_severity(score: float, version: str) -> Severity:
    """CVSS qualitative rating: v3/v4 None/Low/Medium/High/Critical (FIRST spec); v2 has no
    None or Critical band (NVD's v2 ranges), so 0.0 is Low there."""
    if version.startswith("2"):
        return Severity.LOW if score < 4.0 else Severity.MEDIUM if score < 7.0 else Severity.HIGH
    if score == 0.0:
        return Severity.INFORMATIONAL
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    return Severity.HIGH if score < 9.0 else Severity.CRITICAL


def score_vector(vector: str) -> CvssResult:
    """Parse and score a v2, v3.0, v3.1 or v4.0 base vector (v2 has no `CVSS:` prefix)."""
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            version, score = "4.0", float(CVSS4(text).base_score)
        elif text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            version, score = text[5:8], float(CVSS3(text).base_score)
        elif text.startswith("CVSS:"):
            raise CvssError(f"CVSS vector {vector!r}: unsupported version {text.split('/')[0]!r}")
        else:
            version, score = "2.0", float(CVSS2(text).base_score)
    except CVSSError as exc:
        raise CvssError(f"CVSS vector {vector!r} is not valid: {exc}") from None
    return CvssResult(version, score, cvss_severity(score, version), text)


def cvss_metrics(vector: str) -> dict[str, str]:
    """The metric letters of a vector (`{"AV": "N", ...}`), without scoring it."""
    parts = vector.strip().split("/")
    return dict(p.split(":", 1) for p in parts if ":" in p and not p.startswith("CVSS:"))


def source_class(source: str, kind: str) -> str:
    """The policy's name for who published a metric: cisa-adp, adp, nvd, cna or scanner."""
    src, knd = source.strip().lower(), kind.strip().lower()
    if knd == "scanner":
        return "scanner"
    if src.startswith("adp:") or knd == "adp":
        return "cisa-adp" if "cisa" in src else "adp"
    if src == "nvd@nist.gov" or knd == "primary":
        return "nvd"
    return "cna"


def source_label(source: str, kind: str) -> str:
    """How the explanation names a source: "NVD", "CISA ADP", "CNA (qlik)", "scanner"."""
    cls = source_class(source, kind)
    if cls in ("nvd", "scanner"):
        return {"nvd": "NVD", "scanner": "the scanner"}[cls]
    if cls == "cisa-adp":
        return "CISA ADP"
    name = source.split(":", 1)[1] if ":" in source else source
    return f"{'ADP' if cls == 'adp' else 'CNA'} ({name})" if name else cls.upper()


@dataclass(frozen=True, slots=True)
class CvssPick:
    result: CvssResult
    source: str  # label, e.g. "NVD"
    computed: bool  # the record had no score: it was computed from the vector
    notes: list[str] = field(default_factory=list)  # disagreements, ignored vectors


@dataclass(frozen=True, slots=True)
class _Candidate:
    result: CvssResult
    label: str
    cls: str
    computed: bool


def _candidate(raw: Mapping[str, Any], notes: list[str]) -> _Candidate | None:
    vector = str(raw.get("vector") or "").strip()
    label = source_label(str(raw.get("source") or ""), str(raw.get("kind") or ""))
    cls = source_class(str(raw.get("source") or ""), str(raw.get("kind") or ""))
    score = raw.get("base_score")
    version = str(raw.get("version") or "")
    if isinstance(score, int | float) and not isinstance(score, bool) and version and vector:
        value = float(score)
        result = CvssResult(version, value, cvss_severity(value, version), vector)
        return _Candidate(result, label, cls, computed=False)
    try:
        return _Candidate(score_vector(vector), label, cls, computed=True)
    except CvssError as exc:
        notes.append(f"Ignored the CVSS metric from {label}: {exc}.")
        return None


def pick_cvss(
    scores: Sequence[Mapping[str, Any]], choice: CvssChoice | None = None
) -> CvssPick | None:
    """The metric that counts under `choice` (by version then source, or source then version),
    or None when there is none usable. Scores are computed from the vector when absent."""
    choice = choice or CvssChoice()
    notes: list[str] = []
    found = [c for c in (_candidate(s, notes) for s in scores) if c is not None]
    if not found:
        return None

    def rank(c: _Candidate) -> tuple[int, int]:
        v = _index(choice.versions, c.result.version)
        s = _index(choice.sources, c.cls)
        return (v, s) if choice.prefer == "version" else (s, v)

    best = min(found, key=rank)  # min keeps the first of equals: record order breaks ties
    major = best.result.version.split(".")[0]
    differing = sorted(
        {
            (c.label, c.result.version, c.result.base_score)
            for c in found
            if c.result.version.split(".")[0] == major
            and abs(c.result.base_score - best.result.base_score) >= choice.disagreement
        }
    )
    if differing:
        others = "; ".join(f"{lbl} gives {sc:.1f} (v{ver})" for lbl, ver, sc in differing)
        notes.append(
            f"Sources disagree: {best.label} gives {best.result.base_score:.1f} "
            f"(v{best.result.version}); {others}."
        )
    return CvssPick(best.result, best.label, best.computed, notes)


def _index(order: Sequence[str], value: str) -> int:
    return order.index(value) if value in order else len(order)
