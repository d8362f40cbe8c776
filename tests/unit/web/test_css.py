"""The stylesheet's colour tokens: every enum colour token exists, both dark blocks agree, and
text pairs meet WCAG AA contrast (4.5:1) in both themes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicshield.core import Severity, Tlp

CSS = (Path(__file__).resolve().parents[3] / "src/civicshield/web/static/app.css").read_text(
    encoding="utf-8"
)


def _block(selector_pattern: str) -> dict[str, str]:
    match = re.search(selector_pattern + r"\s*\{(.*?)\n\s*\}", CSS, re.S)
    assert match, selector_pattern
    return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", match.group(1)))


LIGHT = _block(r':root,\s*\[data-theme="light"\]')
DARK = _block(r'\n\[data-theme="dark"\]')
SYSTEM_DARK = _block(r'@media \(prefers-color-scheme: dark\) \{\s*\[data-theme="system"\]')
THEMES = {"light": LIGHT, "dark": {**LIGHT, **DARK}}


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_enum_colour_tokens_exist() -> None:
    for member in [*Severity, *Tlp]:
        assert f"--{member.colour}" in LIGHT, member


def test_system_dark_equals_explicit_dark() -> None:
    assert SYSTEM_DARK == DARK


PAIRS = [
    ("text", "bg"),
    ("text", "surface"),
    ("text", "surface-2"),
    ("muted", "bg"),
    ("muted", "surface"),
    ("muted", "surface-2"),
    ("accent", "surface"),
    ("accent", "bg"),
    ("accent-text", "accent"),
    ("danger", "surface"),
    ("danger", "danger-soft"),
    ("danger-text", "danger"),
    ("ok-text", "ok"),
    ("text", "ok-soft"),
    ("text", "warn-soft"),
    ("text", "accent-soft"),
    ("neutral-badge-text", "neutral-badge"),
    *[(f"sev-{s.value}-text", f"sev-{s.value}") for s in Severity],
]


@pytest.mark.parametrize("theme", list(THEMES))
@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_text_contrast_meets_aa(theme: str, fg: str, bg: str) -> None:
    tokens = THEMES[theme]
    ratio = contrast(tokens[f"--{fg}"].strip(), tokens[f"--{bg}"].strip())
    assert ratio >= 4.5, f"{theme}: --{fg} on --{bg} is {ratio:.2f}:1"


def test_tlp_colours_on_black() -> None:
    for name in ("clear", "green", "amber", "red"):
        assert contrast(LIGHT[f"--tlp-{name}"], LIGHT["--tlp-bg"]) >= 4.5
