"""The translation catalogues are complete and current.

Messages are extracted afresh from the code and templates (Babel's API, with `babel.cfg`),
then: the committed `messages.pot` must list exactly those messages (else it is stale: run the
`pybabel extract` command in `babel.cfg`), and every message must be translated, not fuzzy and
with the same placeholders in es_MX and fr_CA.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "src" / "civicshield"
LOCALE_DIR = SOURCE / "locale"
LOCALES = ("es_MX", "fr_CA")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

MsgId = str | tuple[str, ...]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    catalog = Catalog(domain="messages")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SOURCE), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    # Kept in tmp so a failing run can be compared by hand with the committed template.
    with (tmp_path_factory.mktemp("i18n") / "messages.pot").open("wb") as out:
        write_po(out, catalog)
    return catalog


def _ids(catalog: Catalog) -> set[MsgId]:
    return {message.id for message in catalog if message.id}


def test_extraction_finds_the_ui_and_the_enum_labels(fresh: Catalog) -> None:
    ids = _ids(fresh)
    assert {"Sign in", "Administrator", "View the dashboard", "Critical"} <= ids
    assert len(ids) > 250


def test_committed_template_is_current(fresh: Catalog) -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        committed = _ids(read_po(pot))
    new, gone = _ids(fresh) - committed, committed - _ids(fresh)
    assert not new and not gone, (
        f"messages.pot is stale: {len(new)} new, {len(gone)} obsolete "
        f"(new: {sorted(map(str, new))[:5]}, obsolete: {sorted(map(str, gone))[:5]}); "
        "re-run the extract command from babel.cfg, then pybabel update"
    )


def _forms(value: str | tuple[str, ...] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(fresh: Catalog, locale: str) -> None:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    problems: list[str] = []
    for msgid in _ids(fresh):
        key = msgid if isinstance(msgid, str) else msgid[0]
        message = catalog.get(key)
        strings = _forms(message.string if message else None)
        if message is None:
            problems.append(f"missing: {key!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        elif not strings or not all(s.strip() for s in strings):
            problems.append(f"empty: {key!r}")
        elif any(set(PLACEHOLDER.findall(s)) != set(PLACEHOLDER.findall(key)) for s in strings):
            problems.append(f"placeholders differ: {key!r}")
    assert not catalog.fuzzy, f"{locale}: the catalogue header is marked fuzzy"
    assert not problems, f"{locale}: {len(problems)} problem(s): {problems[:10]}"
    assert not catalog.obsolete, f"{locale}: obsolete entries left: {list(catalog.obsolete)[:5]}"
