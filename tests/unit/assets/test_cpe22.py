"""The assets-side CPE 2.2 URI -> 2.3 converter (vulns.cpe is a layer above)."""

from __future__ import annotations

import pytest

from civicshield.assets._cpe import cpe22_to_23
from civicshield.assets._normalise import normalise_cpe


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("cpe:/a:openbsd:openssh:7.4", "cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*"),
        ("cpe:/a:igor_sysoev:nginx", "cpe:2.3:a:igor_sysoev:nginx:*:*:*:*:*:*:*:*"),
        (
            "cpe:/o:microsoft:windows_vista::sp2",
            "cpe:2.3:o:microsoft:windows_vista:*:sp2:*:*:*:*:*:*",
        ),
        ("cpe:/o:microsoft:windows_vista::-", "cpe:2.3:o:microsoft:windows_vista:*:-:*:*:*:*:*:*"),
        ("CPE:/A:MySQL:MySQL:5.7.16", "cpe:2.3:a:mysql:mysql:5.7.16:*:*:*:*:*:*:*"),
        # Percent-encoded punctuation is quoted in the formatted string (IR 7695 §6.2).
        ("cpe:/a:acme:ds%282%29:1.0", "cpe:2.3:a:acme:ds\\(2\\):1.0:*:*:*:*:*:*:*"),
        # %02 is the URI spelling of the * wildcard.
        ("cpe:/a:acme:app:1.%02", "cpe:2.3:a:acme:app:1.*:*:*:*:*:*:*:*"),
        # Packed edition: ~edition~sw_edition~target_sw~target_hw~other.
        (
            "cpe:/a:acme:app:2.0:u1:~~pro~android~arm~:en",
            "cpe:2.3:a:acme:app:2.0:u1:*:en:pro:android:arm:*",
        ),
    ],
)
def test_converts_and_result_is_valid_cpe23(uri: str, expected: str) -> None:
    assert cpe22_to_23(uri) == expected
    assert normalise_cpe(expected) == expected


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("cpe:2.3:a:x:y:1:*:*:*:*:*:*:*", "not a CPE 2.2 URI"),
        ("cpe:/x:acme:app", "part must be a, o or h"),
        ("cpe:/a:acme:app:1:2:3:4:5", "at most 7"),
        ("cpe:/a:acme:app%zz", "percent-encoding"),
        ("cpe:/a:acme:app:1::~a~b", "5 '~' fields"),
    ],
)
def test_refuses_with_reason(uri: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        cpe22_to_23(uri)
