"""The vendor version order and ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicshield.vulns.versions import (
    VersionError,
    compare_versions,
    in_range,
    version_key,
)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("16.12.4a", "16.12.10"),
        ("16.12.4", "16.12.4a"),
        ("16.12.4a", "16.12.4b"),
        ("1.0-rc1", "1.0"),
        ("1.0-alpha", "1.0-beta"),
        ("1.0-beta2", "1.0-rc1"),
        ("1.0.0-rc1", "1.0.1"),
        ("6.42", "6.42.1"),
        ("6.9", "6.42"),
        ("V4.1.2", "V4.10"),
        ("5.5.0", "5.5.0_build190528"),
        ("5.5.0_build190528", "5.5.1"),
        ("15.1(1)xb", "15.1(2)"),
        ("2.16", "2.16ww"),
        ("9.8", "9.9.1"),
    ],
)
def test_order(lower: str, higher: str) -> None:
    assert compare_versions(lower, higher) == -1
    assert compare_versions(higher, lower) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0", "1.0.0"),
        ("1", "1.0.0"),
        ("v2.3", "2.3"),
        ("V2.3", "2.3.0"),
        ("1.0-rc1", "1.0.0.rc1"),
        ("2.0_1", "2.0-1"),
        ("2.0.1", "2-0-1"),
        ("15.1(1)XB", r"15.1\(1\)xb"),
        ("01.02", "1.2"),
    ],
)
def test_equal(a: str, b: str) -> None:
    assert compare_versions(a, b) == 0
    assert version_key(a) == version_key(b)


@pytest.mark.parametrize("bad", ["", "*", "-", "  ", "n/a", "N/A"])
def test_not_a_version(bad: str) -> None:
    with pytest.raises(VersionError):
        version_key(bad)


def test_in_range_bounds() -> None:
    assert in_range("6.42", end_including="6.42") is True
    assert in_range("6.42", end_excluding="6.42") is False
    assert in_range("6.41.9", end_excluding="6.42") is True
    assert in_range("9.0", start_including="9.0", end_excluding="9.8") is True
    assert in_range("9.0", start_excluding="9.0") is False
    assert in_range("8.9.9", start_including="9.0") is False
    assert in_range("1.0", start_including="*", end_excluding="-") is True  # absent bounds
    assert in_range("1.0") is True


@pytest.mark.parametrize("unknown", [None, "", "*", "-"])
def test_in_range_unknown_version_is_none(unknown: str | None) -> None:
    assert in_range(unknown, end_including="6.42") is None


_VERSION = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=30).map(str),
        st.sampled_from(["a", "b", "rc", "beta", "alpha", "build", "p", "xb", "dev"]),
    ),
    min_size=1,
    max_size=6,
).flatmap(
    lambda toks: st.lists(
        st.sampled_from([".", "-", "_", ""]), min_size=len(toks), max_size=len(toks)
    ).map(lambda seps: "v" + "".join(t + s for t, s in zip(toks, seps, strict=True)))
)


@given(_VERSION, _VERSION)
def test_antisymmetric(a: str, b: str) -> None:
    assert compare_versions(a, b) == -compare_versions(b, a)
    if compare_versions(a, b) == 0:
        assert version_key(a) == version_key(b)


@given(_VERSION, _VERSION, _VERSION)
def test_transitive(a: str, b: str, c: str) -> None:
    x, y, z = sorted([a, b, c], key=version_key)
    assert compare_versions(x, y) <= 0
    assert compare_versions(y, z) <= 0
    assert compare_versions(x, z) <= 0
    if compare_versions(a, b) <= 0 and compare_versions(b, c) <= 0:
        assert compare_versions(a, c) <= 0


@given(_VERSION, _VERSION)
def test_range_agrees_with_order(a: str, b: str) -> None:
    assert in_range(a, end_including=b) is (compare_versions(a, b) <= 0)
    assert in_range(a, end_excluding=b) is (compare_versions(a, b) < 0)
    assert in_range(a, start_including=b) is (compare_versions(a, b) >= 0)
    assert in_range(a, start_excluding=b) is (compare_versions(a, b) > 0)
