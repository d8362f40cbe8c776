"""Jurisdiction profiles: the shipped data matches the shared vocabulary, malformed files are
refused with their place, and cities can override internal targets (and only those)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from civicshield.core.errors import Invalid, RuleError
from civicshield.incidents.clocks import (
    PROFILES_DIR,
    START_EVENTS,
    compute,
    load_profile,
    load_profiles,
    obligation,
    with_targets,
)

# The shared ids of issue 9 (obligation -> start event, statutory deadline or None).
EXPECTED = {
    "qc-a21.cai": ("cause_to_believe", None),
    "qc-a21.persons": ("cause_to_believe", None),
    "qc-a21.register": ("cause_to_believe", None),
    "mx-lgpdppso.titular": ("confirmed_review_begun", None),
    "mx-lgpdppso.authority": ("confirmed_review_begun", None),
    "mx-lgpdppso.log": ("confirmed_review_begun", None),
    "gdpr.art33": ("became_aware", {"hours": 72}),
    "gdpr.art34": ("became_aware", None),
    "gdpr.art33-5": ("became_aware", None),
    "nis2.early-warning": ("became_aware", {"hours": 24}),
    "nis2.notification": ("became_aware", {"hours": 72}),
    "nis2.final-report": ("notification_sent", {"months": 1}),
    "pipeda.opc": ("determined", None),
    "pipeda.individuals": ("determined", None),
    "pipeda.record": ("determined", None),
    "fl-282.ransomware": ("discovered", {"hours": 12}),
    "fl-282.incident": ("discovered", {"hours": 48}),
}

MINIMAL = """\
id: demo
version: "1"
name: {en: Demo, es: Demo, fr: Démo}
citation: Demo Act s. 1
binds_city: "Yes"
confidence: test data
obligations:
  - id: demo.notice
    title: {en: Notice, es: Aviso, fr: Avis}
    article: s. 1
    trigger: an incident
    start_event: became_aware
    deadline: {hours: 24}
    recipient: {en: Regulator, es: Regulador, fr: Régulateur}
"""


def test_the_six_profiles_and_their_obligations_use_the_shared_ids() -> None:
    profiles = load_profiles()
    assert sorted(profiles) == ["fl-282", "gdpr", "mx-lgpdppso", "nis2", "pipeda", "qc-a21"]
    found = {ob.id: ob for p in profiles.values() for ob in p.obligations}
    assert sorted(found) == sorted(EXPECTED)
    for ob_id, (event, statutory) in EXPECTED.items():
        ob = found[ob_id]
        assert ob.start_event == event and event in START_EVENTS, ob_id
        if statutory is None:
            assert ob.kind == "internal-target" and ob.deadline.wording, ob_id
        else:
            assert ob.kind == "statutory", ob_id
            assert ob.deadline.model_dump(exclude_none=True) == statutory, ob_id


def test_profile_facts_are_cited_and_trilingual() -> None:
    for profile in load_profiles().values():
        assert profile.citation and profile.binds_city and profile.confidence
        assert profile.name.es and profile.name.fr
        for ob in profile.obligations:
            assert ob.article and ob.trigger and ob.recipient.fr, ob.id
            assert all(f.article and f.label.es and f.label.fr for f in ob.notice_fields), ob.id


def test_only_the_quebec_persons_notice_can_be_held() -> None:
    held = [ob.id for p in load_profiles().values() for ob in p.obligations if ob.suspendable]
    assert held == ["qc-a21.persons"]


def test_required_notice_content_is_there() -> None:
    profiles = load_profiles()
    persons = [f.id for f in obligation(profiles, "qc-a21.persons").notice_fields]
    assert len(persons) == 6  # r. 3.1 s. 5 (1)-(6)
    assert [f.id for f in obligation(profiles, "gdpr.art33").notice_fields] == [
        "nature",
        "contact",
        "consequences",
        "measures",
    ]
    assert len(obligation(profiles, "mx-lgpdppso.titular").notice_fields) == 5  # art. 41
    ransomware = {f.id for f in obligation(profiles, "fl-282.ransomware").notice_fields}
    assert {"backup_date", "fiscal_impact"} <= ransomware
    assert obligation(profiles, "nis2.final-report").follows == "nis2.notification"
    record = obligation(profiles, "pipeda.record").retention
    assert record is not None and record.months == 24


def test_targets_can_be_overridden() -> None:
    profiles = with_targets({"qc-a21.cai": 48, "mx-lgpdppso.titular": 24})
    start = datetime(2026, 3, 8, 1, 0, tzinfo=UTC)
    cai = compute(obligation(profiles, "qc-a21.cai"), start)
    assert cai.due_at == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    assert cai.kind == "internal-target"
    titular = compute(obligation(profiles, "mx-lgpdppso.titular"), start)
    assert titular.due_at == datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    # The persons' notice and the shipped profiles are untouched.
    assert obligation(profiles, "qc-a21.persons").deadline.target_hours == 72
    assert obligation(load_profiles(), "qc-a21.cai").deadline.target_hours == 72


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ({"gdpr.art33": 96}, "statutory deadline"),
        ({"fl-282.ransomware": 24}, "statutory deadline"),
        ({"qc-a21.nothing": 24}, "unknown obligation 'qc-a21.nothing'"),
        ({"atlantis.cai": 24}, "unknown obligation"),
        ({"qc-a21.cai": 0}, "positive number of hours"),
        ({"qc-a21.cai": -5}, "positive number of hours"),
    ],
)
def test_bad_target_overrides_are_refused(targets: dict[str, float], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        with_targets(targets)


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_profile_loads(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    assert list(load_profiles(tmp_path)) == ["demo"]


@pytest.mark.parametrize(
    ("old", "new", "line", "where"),
    [
        ("deadline: {hours: 24}", "deadline: {hours: 24, target_hours: 3, wording: x}", 13,
         "obligations[0].deadline: Value error, give exactly one of hours"),
        ("deadline: {hours: 24}", "deadline: {target_hours: 24}", 13,
         "obligations[0].deadline: Value error, target_hours needs the law's wording"),
        ("deadline: {hours: 24}", "deadline: {hours: -1}", 13, "obligations[0].deadline.hours"),
        ("start_event: became_aware", "start_event: noticed", 12, "obligations[0].start_event"),
        ("fr: Avis}", "fr: ''}", 9, "obligations[0].title.fr"),
        ("    article: s. 1\n", "", 8, "obligations[0].article: Field required"),
        ("    trigger: an incident\n", "    trigger: an incident\n    colour: red\n", 12,
         "obligations[0].colour: Extra inputs"),
        ("id: demo.notice", "id: other.notice", 8,
         "obligations[0].id: 'other.notice' does not start with 'demo.'"),
        ("    deadline: {hours: 24}\n",
         "    deadline: {hours: 24}\n    follows: demo.nothing\n", 14,
         "obligations[0].follows: follows unknown obligation 'demo.nothing'"),
        ("deadline: {hours: 24}", "deadline: {hours: 24}\n    follows: demo.notice", 8,
         "an obligation that follows another starts at its notification_sent"),
        ("version: \"1\"", "version: \"1\"\nversion: \"2\"", 3, "version: key given twice"),
        ("name: {en", "name: [en", 3, "not valid YAML"),
    ],
)  # fmt: skip
def test_malformed_profiles_are_refused_with_their_place(
    tmp_path: Path, old: str, new: str, line: int, where: str
) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(RuleError) as caught:
        load_profile(path)
    err = caught.value
    assert isinstance(err, Invalid)
    assert err.source == str(path)
    assert where in err.detail
    assert err.detail.startswith(f"{path}:{line}:"), err.detail
    assert err.errors and err.errors[0].loc[0] == "demo.yaml"


def test_file_name_must_match_the_id(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL, name="gdpr.yaml")
    with pytest.raises(RuleError, match=r"gdpr.yaml:1: id: id 'demo' differs from the file name"):
        load_profile(path)


def test_not_a_mapping_and_empty_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="a profile is a mapping"):
        load_profile(write(tmp_path, "- just\n- a list\n"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RuleError, match=r"no \*.yaml profile"):
        load_profiles(empty)
    with pytest.raises(RuleError, match="does not exist"):
        load_profiles(tmp_path / "missing")


def test_shipped_profiles_live_in_the_package() -> None:
    assert sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")) == sorted(load_profiles())


def test_repeated_obligation_ids_are_refused(tmp_path: Path) -> None:
    ob = MINIMAL[MINIMAL.index("  - id: demo.notice") :]
    path = write(tmp_path, MINIMAL + ob)
    with pytest.raises(
        RuleError, match=r"demo.yaml:15: obligations\[1\].id: 'demo.notice' is given"
    ):
        load_profile(path)
