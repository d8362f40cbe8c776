"""Package applicability: which CVEs affect a software component named by a package URL (purl).

CVE JSON 5 names packages in `affected[]` entries by `collectionURL` (the registry) and
`packageName`, with the same `versions[]` ranges as products (CVE Record Format 5.1,
https://cveproject.github.io/cve-schema/). A registry maps to a purl type (pypi.org -> pypi,
npmjs -> npm, Maven Central -> maven, ...), the package name to purl namespace + name by that
type's rules (https://github.com/package-url/purl-spec, PURL-TYPES). Components are then looked
up by (type, namespace, name) and their version checked against the ranges with the same
vendor-aware comparator the CPE matcher uses. NVD has no purls, so these matches come only from
CVE records that name packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from packageurl import PackageURL

from civicshield.vulns.applicability import VersionRange, cve5_ranges
from civicshield.vulns.versions import VersionError

__all__ = [
    "PackageHit",
    "PackageIndex",
    "PackageSpec",
    "package_key",
    "packages_from_cve5",
    "registry_type",
]

_REGISTRIES = {
    "pypi.org": "pypi",
    "pypi.python.org": "pypi",
    "npmjs.com": "npm",
    "www.npmjs.com": "npm",
    "registry.npmjs.org": "npm",
    "repo.maven.apache.org": "maven",
    "repo1.maven.org": "maven",
    "search.maven.org": "maven",
    "central.sonatype.com": "maven",
    "rubygems.org": "gem",
    "crates.io": "cargo",
    "packagist.org": "composer",
    "nuget.org": "nuget",
    "www.nuget.org": "nuget",
    "pkg.go.dev": "golang",
    "proxy.golang.org": "golang",
    "github.com": "github",
    "hex.pm": "hex",
    "pub.dev": "pub",
    "cocoapods.org": "cocoapods",
    "hub.docker.com": "docker",
}
_PEP503 = re.compile(r"[-_.]+")


def registry_type(collection_url: str) -> str | None:
    host = urlsplit(collection_url.strip()).hostname or ""
    return _REGISTRIES.get(host.lower())


def package_key(ptype: str, namespace: str | None, name: str) -> tuple[str, str, str]:
    """(type, namespace, name) compared case-insensitively; PyPI names PEP 503-normalised."""
    ptype = ptype.lower()
    ns = (namespace or "").strip("/").lower()
    nm = name.lower()
    if ptype == "pypi":
        nm = _PEP503.sub("-", nm)
    return ptype, ns, nm


def _split_name(ptype: str, package: str) -> tuple[str | None, str]:
    package = package.strip()
    if ptype == "maven" and (":" in package or "/" in package):
        group, _, artifact = package.replace("/", ":").rpartition(":")
        return group, artifact
    if ptype in ("npm", "composer", "github", "golang", "docker") and "/" in package:
        namespace, _, name = package.rpartition("/")
        return namespace, name
    return None, package


@dataclass(frozen=True, slots=True)
class PackageSpec:
    """One affected package of one CVE, with its affected ranges (empty: every version)."""

    type: str
    namespace: str | None
    name: str
    ranges: tuple[VersionRange, ...]
    where: str  # JSON path of the affected entry, for the explanation

    def describe(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        rng = "; ".join(str(r) for r in self.ranges) or "all versions"
        return f"pkg:{self.type}/{ns}{self.name} ({rng})"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "namespace": self.namespace,
            "name": self.name,
            "where": self.where,
            "ranges": [{k: v for k, v in vars_of(r).items() if v is not None} for r in self.ranges],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PackageSpec:
        return cls(
            type=raw["type"],
            namespace=raw.get("namespace"),
            name=raw["name"],
            where=raw.get("where", ""),
            ranges=tuple(VersionRange(**r) for r in raw.get("ranges", [])),
        )


def vars_of(r: VersionRange) -> dict[str, str | None]:
    return {
        "start_including": r.start_including,
        "start_excluding": r.start_excluding,
        "end_including": r.end_including,
        "end_excluding": r.end_excluding,
    }


def packages_from_cve5(record: Mapping[str, Any], cve_id: str) -> tuple[PackageSpec, ...]:
    """Every `affected[]` entry (CNA and ADP) that names a package in a known registry."""
    containers = record.get("containers")
    if not isinstance(containers, dict):
        return ()
    blocks: list[tuple[str, Any]] = [("$.containers.cna", containers.get("cna"))]
    adps = containers.get("adp")
    if isinstance(adps, list):
        blocks += [(f"$.containers.adp[{i}]", adp) for i, adp in enumerate(adps)]
    out: list[PackageSpec] = []
    for bpath, block in blocks:
        affected = block.get("affected") if isinstance(block, dict) else None
        for ei, entry in enumerate(affected if isinstance(affected, list) else []):
            if not isinstance(entry, dict):
                continue
            url, package = entry.get("collectionURL"), entry.get("packageName")
            if not isinstance(url, str) or not isinstance(package, str) or not package:
                continue
            ptype = registry_type(url)
            if ptype is None:
                continue
            path = f"{bpath}.affected[{ei}]"
            ranges = cve5_ranges(entry, cve_id, path)
            if ranges is None:  # no versions: defaultStatus says
                if str(entry.get("defaultStatus", "")).lower() != "affected":
                    continue
                ranges = [VersionRange()]
            if not ranges:
                continue  # only unaffected versions listed
            namespace, name = _split_name(ptype, package)
            out.append(PackageSpec(ptype, namespace, name, tuple(ranges), path))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PackageHit:
    cve_id: str
    spec: PackageSpec
    purl: str
    certain: bool  # False when the component has no version to compare

    @property
    def why(self) -> str:
        note = "" if self.certain else " (possible: the component has no version)"
        return f"{self.purl} is in {self.spec.describe()} at {self.spec.where}{note}"


class PackageIndex:
    """(type, namespace, name) -> the CVEs' package specs; one dict lookup per component."""

    def __init__(self, cves: Iterable[tuple[str, Sequence[PackageSpec]]]) -> None:
        self._by_key: dict[tuple[str, str, str], list[tuple[str, PackageSpec]]] = {}
        for cve_id, specs in cves:
            for spec in specs:
                key = package_key(spec.type, spec.namespace, spec.name)
                self._by_key.setdefault(key, []).append((cve_id, spec))

    def __len__(self) -> int:
        return len(self._by_key)

    def match(self, purl: str) -> list[PackageHit]:
        try:
            p = PackageURL.from_string(purl)
        except ValueError:
            return []
        hits: list[PackageHit] = []
        for cve_id, spec in self._by_key.get(package_key(p.type, p.namespace, p.name), []):
            if not p.version:
                hits.append(PackageHit(cve_id, spec, purl, certain=False))
                continue
            try:
                inside = any(r.contains(p.version) for r in spec.ranges)
            except VersionError:
                continue
            if inside:
                hits.append(PackageHit(cve_id, spec, purl, certain=True))
        return hits
