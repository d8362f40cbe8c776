"""Package (purl) applicability from CVE JSON 5 `collectionURL` + `packageName`."""

from __future__ import annotations

from typing import Any

import pytest

from civicshield.vulns.packages import PackageIndex, PackageSpec, packages_from_cve5


def record(*affected: dict[str, Any]) -> dict[str, Any]:
    return {"containers": {"cna": {"affected": list(affected)}}}


DJANGO = {
    "collectionURL": "https://pypi.org",
    "packageName": "Django",
    "versions": [
        {"version": "3.2", "lessThan": "3.2.5", "status": "affected", "versionType": "semver"},
        {"version": "4.0", "lessThanOrEqual": "4.0.1", "status": "affected"},
        {"version": "4.1", "status": "unaffected"},
    ],
}
LOG4J = {
    "collectionURL": "https://repo.maven.apache.org/maven2",
    "packageName": "org.apache.logging.log4j:log4j-core",
    "versions": [{"version": "2.0-beta9", "lessThan": "2.15.0", "status": "affected"}],
}
NPM = {
    "collectionURL": "https://www.npmjs.com",
    "packageName": "@angular/core",
    "defaultStatus": "affected",
}


def index(*affected: dict[str, Any]) -> PackageIndex:
    specs = packages_from_cve5(record(*affected), "CVE-2099-0001")
    round_tripped = [PackageSpec.from_json(s.to_json()) for s in specs]
    assert round_tripped == list(specs)
    return PackageIndex([("CVE-2099-0001", round_tripped)])


@pytest.mark.parametrize(
    ("purl", "hit"),
    [
        ("pkg:pypi/django@3.2.1", True),
        ("pkg:pypi/Django@3.2.4", True),
        ("pkg:pypi/django@3.2.5", False),  # lessThan is exclusive
        ("pkg:pypi/django@4.0.1", True),  # lessThanOrEqual is inclusive
        ("pkg:pypi/django@4.1", False),  # listed as unaffected
        ("pkg:pypi/django@3.1.9", False),  # before the first affected version
        ("pkg:npm/django@3.2.1", False),  # another ecosystem
        ("pkg:pypi/django-extensions@3.2.1", False),
    ],
)
def test_pypi_ranges(purl: str, hit: bool) -> None:
    assert bool(index(DJANGO).match(purl)) is hit


def test_maven_group_and_artifact_become_namespace_and_name() -> None:
    idx = index(LOG4J)
    (hit,) = idx.match("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    assert hit.certain and "log4j-core" in hit.why and "$.containers.cna.affected[0]" in hit.why
    assert not idx.match("pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1")
    assert not idx.match("pkg:maven/org.example/log4j-core@2.14.1")  # namespace matters


def test_default_status_affected_means_every_version_and_no_version_is_possible() -> None:
    idx = index(NPM)
    (hit,) = idx.match("pkg:npm/%40angular/core@1.0.0")
    assert hit.certain
    (unsure,) = index(DJANGO).match("pkg:pypi/django")
    assert not unsure.certain and "possible" in unsure.why


def test_entries_without_a_known_registry_or_package_are_ignored() -> None:
    affected = [{"version": "1", "status": "affected"}]
    unaffected = [{"version": "1", "status": "unaffected"}]
    rec = record(
        {"vendor": "Moxa", "product": "SDS-3008", "versions": affected},
        {
            "collectionURL": "https://new.abb.com/x",
            "packageName": "fw",
            "defaultStatus": "affected",
        },
        {"collectionURL": "https://pypi.org", "packageName": "x", "versions": unaffected},
    )
    assert packages_from_cve5(rec, "CVE-2099-0002") == ()


def test_a_bad_purl_matches_nothing() -> None:
    assert index(DJANGO).match("not a purl") == []
