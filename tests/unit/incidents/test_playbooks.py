"""The six city playbooks of issue 9: they load, carry the clocks the research note (§5) implies,
and the loader refuses templates that break the rules, naming the file, line and YAML path."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from civicshield.core import Invalid, RuleError
from civicshield.incidents.playbooks import (
    OBLIGATION_IDS,
    PHASES,
    TEMPLATES,
    load_playbook_file,
    load_playbooks,
    plan,
    suggest,
)

SIX = {
    "ransomware",
    "phishing-bec",
    "iot-camera-botnet",
    "scada-ot-intrusion",
    "citizen-records-breach",
    "ddos-citizen-portal",
}


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return load_playbooks()


def _raw(name: str) -> dict[str, Any]:
    data = yaml.safe_load((TEMPLATES / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _write(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = folder / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _refused(path: Path) -> RuleError:
    with pytest.raises(RuleError) as info:
        load_playbook_file(path)
    assert isinstance(info.value, Invalid)
    assert str(path) in str(info.value)
    return info.value


def _find_action(data: dict[str, Any], target: str) -> tuple[int, int, dict[str, Any]]:
    for p, phase in enumerate(data["phases"]):
        for t, task in enumerate(phase["tasks"]):
            action = task.get("automated_action")
            if action and action["target"] == target:
                return p, t, action
    raise AssertionError(f"no action on {target}")


def test_the_six_playbooks_load(shipped: dict[str, Any]) -> None:
    assert set(shipped) == SIX
    for playbook in shipped.values():
        assert playbook.version >= 1
        order = [PHASES.index(phase.id) for phase in playbook.phases]
        assert order == sorted(order)
        assert {"containment", "recovery", "post_incident"} <= {ph.id for ph in playbook.phases}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "ransomware",
            {"qc-a21.cai", "qc-a21.persons", "qc-a21.register", "gdpr.art33", "gdpr.art33-5",
             "nis2.early-warning", "nis2.notification", "nis2.final-report", "fl-282.ransomware"},
        ),
        ("phishing-bec", {"qc-a21.cai", "gdpr.art33", "mx-lgpdppso.titular", "fl-282.incident"}),
        ("iot-camera-botnet", {"qc-a21.register", "gdpr.art33"}),
        (
            "scada-ot-intrusion",
            {"nis2.early-warning", "nis2.notification", "nis2.final-report", "fl-282.incident"},
        ),
        (
            "citizen-records-breach",
            {"qc-a21.cai", "qc-a21.persons", "qc-a21.register", "mx-lgpdppso.titular",
             "mx-lgpdppso.authority", "mx-lgpdppso.log", "gdpr.art33", "gdpr.art34",
             "gdpr.art33-5"},
        ),
        ("ddos-citizen-portal", {"nis2.early-warning", "fl-282.incident"}),
    ],
)  # fmt: skip
def test_each_playbook_has_the_clocks_the_research_implies(
    shipped: dict[str, Any], name: str, expected: set[str]
) -> None:
    assert expected <= {clock.obligation for clock in shipped[name].clocks}


def test_pi_clocks_are_not_started_by_service_only_playbooks(shipped: dict[str, Any]) -> None:
    # §5.6 and §5.4: no personal-data clocks unless another playbook (breach) is applied.
    for name in ("ddos-citizen-portal", "scada-ot-intrusion"):
        assert not {c.obligation for c in shipped[name].clocks} & {"qc-a21.cai", "gdpr.art33"}


def test_sensitive_actions_in_the_shipped_playbooks_require_approval(
    shipped: dict[str, Any],
) -> None:
    seen = set()
    for playbook in shipped.values():
        for phase in playbook.phases:
            for task in phase.tasks:
                action = task.automated_action
                if action and action.target in {"camera", "ot", "citizen_portal"}:
                    assert action.requires_approval
                    seen.add(action.target)
    assert seen == {"camera", "ot", "citizen_portal"}


@pytest.mark.parametrize(
    ("name", "target"),
    [("iot-camera-botnet", "camera"), ("scada-ot-intrusion", "ot"),
     ("ddos-citizen-portal", "citizen_portal")],
)  # fmt: skip
def test_an_unapproved_action_on_camera_ot_or_portal_is_refused(
    tmp_path: Path, name: str, target: str
) -> None:
    data = _raw(name)
    p, t, action = _find_action(data, target)
    action["requires_approval"] = False
    path = _write(tmp_path, data)
    error = _refused(path)
    where = f"phases[{p}].tasks[{t}].automated_action.requires_approval"
    assert where in str(error)
    assert "requires_approval: true" in str(error)
    assert error.line is not None
    line = path.read_text(encoding="utf-8").splitlines()[error.line - 1]
    assert "requires_approval" in line
    assert error.errors[0].loc[0] == str(path)


def test_a_camera_action_cannot_be_relabelled_to_dodge_approval(tmp_path: Path) -> None:
    data = _raw("iot-camera-botnet")
    p, t, action = _find_action(data, "camera")
    action.update(kind="reset_camera_credentials", target="host", requires_approval=False)
    error = _refused(_write(tmp_path, data))
    assert f"phases[{p}].tasks[{t}].automated_action.target" in str(error)


def test_a_missing_translation_is_refused_with_its_path(tmp_path: Path) -> None:
    data = _raw("ransomware")
    del data["phases"][1]["tasks"][0]["checklist"][1]["fr"]
    error = _refused(_write(tmp_path, data))
    assert "phases[1].tasks[0].checklist[1].fr: missing" in str(error)


def test_an_empty_translation_is_refused(tmp_path: Path) -> None:
    data = _raw("phishing-bec")
    data["summary"]["es"] = "  "
    assert "summary.es" in str(_refused(_write(tmp_path, data)))


@pytest.mark.parametrize(
    ("change", "where", "why"),
    [
        (lambda d: d["clocks"][0].update(obligation="gdpr.art99"), "clocks[0].obligation",
         "unknown obligation"),
        (lambda d: d["clocks"][0].update(condition="sometimes"), "clocks[0].condition",
         "unknown condition"),
        (lambda d: d["phases"][0]["tasks"][0].update(role="janitor"), "phases[0].tasks[0].role",
         "unknown role"),
        (lambda d: d["phases"][0]["tasks"][0].update(role="viewer"), "phases[0].tasks[0].role",
         "unknown role"),
        (lambda d: d["phases"][0]["tasks"][1].update(id=d["phases"][0]["tasks"][0]["id"]),
         "phases[0].tasks[1].id", "not unique"),
        (lambda d: d["phases"].reverse(), "phases[1].id", "NIST order"),
        (lambda d: d["applies_to"].update(techniques=["1486"]), "applies_to.techniques",
         "ATT&CK"),
        (lambda d: d["applies_to"].update(sectors=["mars"]), "applies_to.sectors",
         "unknown sector"),
        (lambda d: d.update(severity="apocalyptic"), "severity", ""),
        (lambda d: d["phases"][0]["tasks"][0].update(due_after_hours=-1),
         "phases[0].tasks[0].due_after_hours", ""),
        (lambda d: d["phases"][0]["tasks"][0].update(owner="x"), "phases[0].tasks[0].owner",
         "unknown key"),
        (lambda d: d.pop("version"), "version: missing", ""),
    ],
)  # fmt: skip
def test_a_template_that_breaks_a_rule_is_refused(
    tmp_path: Path, change: Any, where: str, why: str
) -> None:
    data = _raw("ransomware")
    change(data)
    error = _refused(_write(tmp_path, data))
    assert where in str(error)
    assert why in str(error)


def test_every_problem_in_a_file_is_listed(tmp_path: Path) -> None:
    data = _raw("ddos-citizen-portal")
    del data["title"]["fr"]
    del data["summary"]["es"]
    error = _refused(_write(tmp_path, data))
    assert {e.loc[1:] for e in error.errors} == {("title", "fr"), ("summary", "es")}
    assert "(and 1 more)" in str(error)


def test_malformed_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ransomware.yaml"
    path.write_text("id: ransomware\nversion: 1\ntitle: {en: [unclosed\n", encoding="utf-8")
    error = _refused(path)
    assert "not valid YAML" in str(error)
    assert error.line is not None


def test_a_document_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    assert "must be a YAML mapping" in str(_refused(path))


def test_the_id_must_match_the_file_name(tmp_path: Path) -> None:
    error = _refused(_write(tmp_path, _raw("ransomware"), name="ransom"))
    assert "must match the file name" in str(error)


def test_a_city_folder_loads_its_own_playbooks_and_refuses_duplicates(tmp_path: Path) -> None:
    data = _raw("phishing-bec")
    data["version"] = 2
    _write(tmp_path, data)
    assert load_playbooks(tmp_path)["phishing-bec"].version == 2
    shutil.copy(tmp_path / "phishing-bec.yaml", tmp_path / "phishing-bec.yml")
    with pytest.raises(RuleError, match="duplicate playbook id"):
        load_playbooks(tmp_path)
    with pytest.raises(RuleError, match="does not exist"):
        load_playbooks(tmp_path / "nowhere")


def test_plan_gives_due_instants_in_utc(shipped: dict[str, Any]) -> None:
    # A case opened in Montréal on the night clocks go forward (8 March 2026, 01:30 EST).
    start = datetime(2026, 3, 8, 1, 30, tzinfo=ZoneInfo("America/Toronto"))
    utc = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    tasks = {t.task_id: t for t in plan(shipped["ransomware"], start=start, lang="en")}
    assert tasks["isolate-hosts"].due_at == utc + timedelta(hours=1)
    # due_from: case ignores the phase offset; a phase offset adds to the task's hours.
    assert tasks["privacy-assessment"].due_at == utc + timedelta(hours=24)
    assert tasks["reset-credentials"].due_at == utc + timedelta(hours=24 + 24)
    assert tasks["restore"].due_at == utc + timedelta(hours=48 + 72)
    assert all(t.due_at.tzinfo is UTC for t in tasks.values())
    assert tasks["protect-backups"].role == "it_operations"
    assert tasks["isolate-hosts"].playbook_version == 1


def test_plan_orders_by_due_time_and_keeps_approval(shipped: dict[str, Any]) -> None:
    start = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    tasks = plan(shipped["iot-camera-botnet"], start=start, lang="en")
    assert [t.due_at for t in tasks] == sorted(t.due_at for t in tasks)
    by_id = {t.task_id: t for t in tasks}
    assert by_id["confine-egress"].requires_approval
    assert by_id["reset-cameras"].action is not None
    assert not by_id["block-c2"].requires_approval
    assert not by_id["confirm-botnet"].requires_approval


def test_plan_texts_follow_the_language(shipped: dict[str, Any]) -> None:
    start = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    playbook = shipped["scada-ot-intrusion"]
    fr = {t.task_id: t for t in plan(playbook, start=start, lang="fr-CA")}
    es = {t.task_id: t for t in plan(playbook, start=start, lang="es")}
    source = playbook.phases[0].tasks[0]
    assert fr["process-safety"].title == source.title.fr
    assert es["process-safety"].checklist == tuple(c.es for c in source.checklist)
    with pytest.raises(Invalid, match="unsupported language"):
        plan(playbook, start=start, lang="de")
    with pytest.raises(Invalid, match="time zone"):
        plan(playbook, start=datetime(2026, 5, 4, 12, 0), lang="en")  # noqa: DTZ001


def test_suggest_ransomware_for_its_techniques(shipped: dict[str, Any]) -> None:
    ranked = suggest(["attack.impact", "attack.t1486", "attack.t1490"], [], ["governance"])
    assert ranked[0].id == "ransomware"
    assert suggest([], ["T1486", "T1490"], [], playbooks=shipped)[0].id == "ransomware"


def test_suggest_the_camera_botnet_for_brute_force_on_a_camera(shipped: dict[str, Any]) -> None:
    ranked = suggest(["camera"], ["T1110.001"], ["public_safety"], playbooks=shipped)
    assert ranked[0].id == "iot-camera-botnet"
    # The same technique on a mailbox points to BEC instead.
    assert suggest(["mail"], ["T1110"], ["governance"], playbooks=shipped)[0].id == "phishing-bec"


def test_suggest_needs_more_than_a_sector(shipped: dict[str, Any]) -> None:
    assert suggest([], [], ["water"], playbooks=shipped) == []
    assert suggest(["unrelated"], ["T9999"], [], playbooks=shipped) == []


def test_obligation_ids_match_the_clock_profiles() -> None:
    # The clock profiles are the source of truth; the loader keeps its own copy (no import).
    clocks = pytest.importorskip("civicshield.incidents.clocks")
    profiles = clocks.load_profiles()
    assert {o.id for p in profiles.values() for o in p.obligations} == OBLIGATION_IDS
