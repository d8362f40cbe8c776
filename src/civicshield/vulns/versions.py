"""A total order for version strings as vendors write them (firmware, not only semver).

A version is lower-cased, CPE quoting is removed (``15.1\\(1\\)xb``), a leading ``v`` before a
digit is dropped, and the rest is split into runs of digits and runs of letters; every other
character (``.`` ``-`` ``_`` ``+`` ``(`` ``)`` ``~`` space ...) only separates tokens. The key is
the token list, where

* a number compares numerically (``4`` < ``10``, ``01`` == ``1``);
* a pre-release word (dev, snapshot, alpha, beta, milestone, pre, preview, rc) sorts *before*
  the end of the version (``1.0-rc1`` < ``1.0``);
* any other letter run (``a`` in ``16.12.4a``, ``build``, ``p``, ``sp``, ``xb``) sorts *after* the
  end of the version but before a number (``16.12.4`` < ``16.12.4a`` < ``16.12.10``);
* zero numbers before the end or before a pre-release word are dropped, so
  ``1.0`` == ``1.0.0`` == ``1`` and ``1.0-rc1`` == ``1.0.0.rc1``.

Keys are tuples ended by a terminator element, so plain tuple comparison is a total order
(antisymmetric, transitive) and two versions are equal exactly when their keys are equal.
"""

from __future__ import annotations

import re
from functools import lru_cache

from civicshield.core.errors import Invalid

__all__ = [
    "UNKNOWN_VERSIONS",
    "VersionError",
    "VersionKey",
    "compare_versions",
    "in_range",
    "is_unknown",
    "version_key",
]

# Values that do not name a version: CPE ANY / NA, empty, and CVE5's "n/a".
UNKNOWN_VERSIONS = frozenset({"", "*", "-", "n/a"})

_PRE_RELEASE = {
    "dev": 0,
    "snapshot": 0,
    "alpha": 1,
    "beta": 2,
    "milestone": 3,
    "pre": 4,
    "preview": 4,
    "rc": 5,
}
# Element ranks: pre-release word < end of version < other letters < number.
_R_PRE, _R_END, _R_ALPHA, _R_NUM = 0, 1, 2, 3
_END = (_R_END, 0, "")
_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")

VersionKey = tuple[tuple[int, int, str], ...]


class VersionError(Invalid):
    title = "Invalid version"
    slug = "invalid-version"


def is_unknown(version: str | None) -> bool:
    return version is None or version.strip().lower() in UNKNOWN_VERSIONS


@lru_cache(maxsize=131072)
def version_key(version: str) -> VersionKey:
    """The sort key of a version string; raises VersionError for ``*``, ``-``, ``n/a`` or empty."""
    if is_unknown(version):
        raise VersionError(f"not a version: {version!r}")
    text = re.sub(r"\\(.)", r"\1", version.strip().lower())
    if len(text) > 1 and text[0] == "v" and text[1].isdigit():
        text = text[1:]
    elements: list[tuple[int, int, str]] = []
    for token in _TOKEN.findall(text):
        if token.isdigit():
            elements.append((_R_NUM, int(token), ""))
        elif token in _PRE_RELEASE:
            _drop_trailing_zeros(elements)
            elements.append((_R_PRE, _PRE_RELEASE[token], token))
        else:
            elements.append((_R_ALPHA, 0, token))
    _drop_trailing_zeros(elements)
    if not elements and not _TOKEN.search(text):
        # Only punctuation ("+", "..."): keep the text so the order stays total.
        elements.append((_R_ALPHA, 0, text))
    elements.append(_END)
    return tuple(elements)


def _drop_trailing_zeros(elements: list[tuple[int, int, str]]) -> None:
    while elements and elements[-1] == (_R_NUM, 0, ""):
        elements.pop()


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` sorts before, equal to or after `b`."""
    ka, kb = version_key(a), version_key(b)
    return (ka > kb) - (ka < kb)


def _bound(value: str | None) -> VersionKey | None:
    # NVD leaves absent bounds out; CVE5 writes "*" (lessThan "*") or "0" for "from the start".
    if is_unknown(value):
        return None
    assert value is not None
    return version_key(value)


def in_range(
    version: str | None,
    *,
    start_including: str | None = None,
    start_excluding: str | None = None,
    end_including: str | None = None,
    end_excluding: str | None = None,
) -> bool | None:
    """Whether `version` lies in the range; None when the version is unknown (``*``/``-``/empty).

    Bounds that are None, empty, ``*`` or ``-`` are absent. With no bound at all, any known
    version is in range.
    """
    if is_unknown(version):
        return None
    assert version is not None
    key = version_key(version)
    lo_in = _bound(start_including)
    if lo_in is not None and key < lo_in:
        return False
    lo_ex = _bound(start_excluding)
    if lo_ex is not None and key <= lo_ex:
        return False
    hi_in = _bound(end_including)
    if hi_in is not None and key > hi_in:
        return False
    hi_ex = _bound(end_excluding)
    return not (hi_ex is not None and key >= hi_ex)
