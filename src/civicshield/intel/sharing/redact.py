"""Finding and replacing what must not leave the city, in one string (pure): internal
addresses (pseudonymised with a keyed HMAC, or removed), e-mail addresses, phone numbers and
people's names (redacted). Each function returns the new text and the rules it applied."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from civicshield.intel.sharing.policy import Network, SharingPolicy

__all__ = [
    "EMAIL_REDACTED",
    "NAME_REDACTED",
    "PHONE_REDACTED",
    "REMOVED",
    "Pseudonymiser",
    "is_internal",
    "pseudonym_key",
    "redact_personal",
    "replace_addresses",
]

EMAIL_REDACTED = "[email redacted]"
PHONE_REDACTED = "[phone redacted]"
NAME_REDACTED = "[name redacted]"
REMOVED = "[internal address removed]"
_HKDF_INFO = b"civicshield intel sharing pseudonyms v1"

_IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\w.])"
_IPV6 = r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:/\d{1,3})?(?![\w:])"
_ADDRESS = re.compile(f"{_IPV4}|{_IPV6}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_PHONE = re.compile(r"(?<![\w.:/-])\+?\(?\d[\d\s().-]{6,}\d(?![\w.:/-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def pseudonym_key(secret: str) -> bytes:
    """A key for pseudonyms only, derived from the instance secret (HKDF-SHA256), so that the
    same address maps to the same token in every publication of this city."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(secret.encode("utf-8"))


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str) -> str:
        digest = hmac.new(self._key, value.lower().encode("utf-8"), hashlib.sha256).hexdigest()
        return f"internal-{digest[:16]}"


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def is_internal(net: Network, internal: Sequence[Network]) -> bool:
    return any(
        net.version == inner.version and (net.subnet_of(inner) or inner.subnet_of(net))  # type: ignore[arg-type]
        for inner in internal
    )


def replace_addresses(
    text: str, internal: Sequence[Network], replace: Callable[[str], str]
) -> tuple[str, int]:
    """`text` with every internal address (or network) replaced by `replace(address)`; also
    how many were replaced."""
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        net = _network(match.group(0))
        if net is None or not is_internal(net, internal):
            return match.group(0)
        count += 1
        return replace(str(net.network_address) if net.num_addresses == 1 else str(net))

    return _ADDRESS.sub(swap, text), count


def _is_phone(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    if not 9 <= digits <= 15 or _DATE.search(candidate) or _network(candidate.strip()):
        return False
    return candidate.count(".") < 2  # dotted runs are versions and addresses, not phones


def redact_personal(text: str, policy: SharingPolicy) -> tuple[str, list[str]]:
    """`text` with e-mail addresses, phone numbers and people's names redacted; the rules
    that changed it ("personal-email", "personal-phone", "personal-name")."""
    rules: list[str] = []
    if policy.emails:
        text, n = _EMAIL.subn(EMAIL_REDACTED, text)
        rules += ["personal-email"] if n else []
    if policy.phones:
        found = [m for m in _PHONE.finditer(text) if _is_phone(m.group(0))]
        for m in reversed(found):
            text = text[: m.start()] + PHONE_REDACTED + text[m.end() :]
        rules += ["personal-phone"] if found else []
    if policy.person_names:
        before = text
        if policy.name_titles:
            titles = "|".join(re.escape(t) for t in policy.name_titles)
            name = r"[A-ZÀ-ÖØ-Þ][\w'’-]+"
            text = re.sub(rf"\b(?:{titles})\.?\s+{name}(?:\s+{name}){{0,2}}", NAME_REDACTED, text)
        for person in policy.people:
            text = re.sub(re.escape(person), NAME_REDACTED, text, flags=re.IGNORECASE)
        rules += ["personal-name"] if text != before else []
    return text, rules
