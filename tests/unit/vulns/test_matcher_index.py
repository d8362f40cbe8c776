"""The lazy matcher index (grouped at build, prepared on first use) agrees with criterion_hit."""

from __future__ import annotations

import random
from itertools import product

from civicshield.vulns.applicability import (
    Configuration,
    CpeMatch,
    CveApplicability,
    Node,
    Operator,
    VersionRange,
)
from civicshield.vulns.cpe import Cpe
from civicshield.vulns.matcher import Matcher, criterion_hit

VERSIONS = ["*", "-", "1.0", "1.0.0", "1.2", "2.0-rc1", "2.0", "2.0a", "2.10", "v3.1"]
RANGES = [
    VersionRange(),
    VersionRange(end_excluding="2.0"),
    VersionRange(start_including="1.2", end_including="2.0a"),
    VersionRange(start_excluding="1.0", end_excluding="*"),  # CVE5 writes lessThan "*"
]


def _criteria() -> list[CpeMatch]:
    out = []
    for vendor, version, rng, update, vulnerable in product(
        ("acme", "d-link", "dlink"), VERSIONS, RANGES, ("*", "sp1"), (True, False)
    ):
        if version not in ("*", "-") and rng != VersionRange() and version != "2.0":
            continue  # NVD puts bounds on `*` criteria; keep one concrete+range case
        crit = Cpe("o", vendor, "cam_firmware", version, update)
        out.append(CpeMatch(crit, vulnerable, None, rng))
    return out


def test_every_single_criterion_cve_matches_exactly_when_criterion_hit_says_so() -> None:
    criteria = _criteria()
    cves = [
        CveApplicability(
            f"CVE-{i}", (Configuration(Operator.OR, False, (Node(Operator.OR, False, (m,)),)),)
        )
        for i, m in enumerate(criteria)
    ]
    matcher = Matcher(cves)
    assert matcher.criteria_count == len(criteria)
    targets = [
        Cpe("o", vendor, "cam_firmware", version, update)
        for vendor, version, update in product(
            ("acme", "dlink", "d-link"), VERSIONS, ("*", "-", "sp1")
        )
    ]
    rng = random.Random(3)
    rng.shuffle(targets)  # buckets get prepared in a different order than they were filled
    for target in targets:
        for _ in range(2):  # the first look-up prepares the bucket, the second reuses it
            found = {f.cve_id: f.certainty for f in matcher.match([target])}
            want = {}
            for i, m in enumerate(criteria):
                hit = criterion_hit(m, target)
                if hit is not None and m.vulnerable:
                    want[f"CVE-{i}"] = hit
            assert found == want, target.to_fs()


def test_buckets_are_prepared_only_when_looked_up() -> None:
    a = CpeMatch(Cpe("a", "acme", "web", "1.0"), True)
    b = CpeMatch(Cpe("a", "other", "db", "*"), True, None, VersionRange(end_excluding="9"))
    cves = [
        CveApplicability(
            "CVE-A", (Configuration(Operator.OR, False, (Node(Operator.OR, False, (a,)),)),)
        ),
        CveApplicability(
            "CVE-B", (Configuration(Operator.OR, False, (Node(Operator.OR, False, (b,)),)),)
        ),
    ]
    matcher = Matcher(cves)
    assert [f.cve_id for f in matcher.match([Cpe("a", "acme", "web", "1.0.0")])] == ["CVE-A"]
    ready = {key: bucket.ready is not None for key, bucket in matcher._index.items()}
    assert ready == {("a", "acme", "web"): True, ("a", "other", "db"): False}
    assert [f.cve_id for f in matcher.match([Cpe("a", "other", "db", "8.9")])] == ["CVE-B"]
    assert matcher.match([Cpe("a", "other", "db", "9.0")]) == []


def test_findings_name_the_criterion_at_its_own_node_and_position() -> None:
    fw = [CpeMatch(Cpe("o", "acme", "cam_firmware", v), True, f"id-{v}") for v in ("1.0", "1.1")]
    hw = [CpeMatch(Cpe("h", "acme", h), False, f"id-{h}") for h in ("cam1", "cam2", "cam3")]
    conf = Configuration(
        Operator.AND,
        False,
        (Node(Operator.OR, False, tuple(fw)), Node(Operator.OR, False, tuple(hw))),
    )
    matcher = Matcher([CveApplicability("CVE-X", (conf,))])
    asset = [Cpe("h", "acme", "cam3", "-"), Cpe("o", "acme", "cam_firmware", "1.1")]
    found = matcher.match(asset)
    assert [(f.criterion.match_criteria_id, f.asset_cpe.part) for f in found] == [("id-1.1", "o")]
    assert matcher.match(asset[1:]) == []  # the running-on node must be satisfied too
