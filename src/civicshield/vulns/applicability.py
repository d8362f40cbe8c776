"""Which products a CVE applies to: typed NVD API 2.0 `configurations`, also built from CVE JSON 5.

NVD API 2.0 (https://nvd.nist.gov/developers/vulnerabilities): ``configurations[]`` each with an
optional ``operator`` (AND/OR, default OR) and ``negate``, and ``nodes[]`` with ``operator``,
``negate`` and ``cpeMatch[]`` (``vulnerable``, ``criteria``, ``matchCriteriaId`` and the four
``versionStart/End(In|Ex)cluding`` bounds). CVE JSON 5 (https://cveproject.github.io/cve-schema/)
``containers.cna.cpeApplicability`` has the same shape; ``affected[]`` entries that carry ``cpes``
(CISA ADP does) are turned into configurations, see `parse_cve5`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from civicshield.core.errors import Invalid
from civicshield.vulns.cpe import ANY, NA, Cpe, CpeError, parse_cpe
from civicshield.vulns.versions import VersionError, in_range, is_unknown, version_key

__all__ = [
    "ApplicabilityError",
    "Configuration",
    "CpeMatch",
    "CveApplicability",
    "Node",
    "Operator",
    "VersionRange",
    "configurations_from_json",
    "configurations_to_json",
    "cve5_ranges",
    "iter_nvd_records",
    "parse_cve5",
    "parse_nvd_cve",
    "parse_nvd_page",
]


class ApplicabilityError(Invalid):
    """A CVE record's applicability data is malformed; names the CVE id and the JSON path."""

    title = "Invalid CVE record"
    slug = "invalid-cve-record"

    def __init__(self, cve_id: str, path: str, problem: str) -> None:
        super().__init__(f"{cve_id}: {path}: {problem}")
        self.cve_id = cve_id
        self.path = path
        self.problem = problem


class Operator(StrEnum):
    AND = "AND"
    OR = "OR"


@dataclass(frozen=True, slots=True)
class VersionRange:
    start_including: str | None = None
    start_excluding: str | None = None
    end_including: str | None = None
    end_excluding: str | None = None

    @property
    def is_open(self) -> bool:
        """True when no bound is set."""
        return all(
            is_unknown(b)
            for b in (
                self.start_including,
                self.start_excluding,
                self.end_including,
                self.end_excluding,
            )
        )

    def contains(self, version: str | None) -> bool | None:
        return in_range(
            version,
            start_including=self.start_including,
            start_excluding=self.start_excluding,
            end_including=self.end_including,
            end_excluding=self.end_excluding,
        )

    def __str__(self) -> str:
        parts = []
        if not is_unknown(self.start_including):
            parts.append(f">= {self.start_including}")
        if not is_unknown(self.start_excluding):
            parts.append(f"> {self.start_excluding}")
        if not is_unknown(self.end_including):
            parts.append(f"<= {self.end_including}")
        if not is_unknown(self.end_excluding):
            parts.append(f"< {self.end_excluding}")
        return ", ".join(parts) if parts else "all versions"


@dataclass(frozen=True, slots=True)
class CpeMatch:
    criteria: Cpe
    vulnerable: bool
    match_criteria_id: str | None = None
    range: VersionRange = field(default_factory=VersionRange)

    def describe(self) -> str:
        rng = "" if self.range.is_open else f" ({self.range})"
        return f"{self.criteria.to_fs()}{rng}"


@dataclass(frozen=True, slots=True)
class Node:
    operator: Operator
    negate: bool
    cpe_match: tuple[CpeMatch, ...]


@dataclass(frozen=True, slots=True)
class Configuration:
    operator: Operator
    negate: bool
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class CveApplicability:
    cve_id: str
    configurations: tuple[Configuration, ...]
    source: str = "nvd"

    def criteria(self) -> Iterator[CpeMatch]:
        for conf in self.configurations:
            for node in conf.nodes:
                yield from node.cpe_match


# --- small JSON helpers that know where they are -------------------------------------------


def _get(
    obj: Mapping[str, Any], key: str, kind: type, cve: str, path: str, default: Any = ...
) -> Any:
    if key not in obj:
        if default is ...:
            raise ApplicabilityError(cve, f"{path}.{key}", "missing")
        return default
    value = obj[key]
    if kind is str and isinstance(value, str):
        return value
    if kind is bool and isinstance(value, bool):
        return value
    if kind is list and isinstance(value, list):
        return value
    if kind is dict and isinstance(value, dict):
        return value
    raise ApplicabilityError(
        cve, f"{path}.{key}", f"expected {kind.__name__}, got {type(value).__name__}"
    )


def _operator(obj: Mapping[str, Any], cve: str, path: str) -> Operator:
    raw = _get(obj, "operator", str, cve, path, "OR")
    try:
        return Operator(raw.upper())
    except ValueError:
        raise ApplicabilityError(
            cve, f"{path}.operator", f"must be AND or OR, got {raw!r}"
        ) from None


def _cpe(text: Any, cve: str, path: str) -> Cpe:
    if not isinstance(text, str):
        raise ApplicabilityError(cve, path, f"expected a CPE string, got {type(text).__name__}")
    try:
        return parse_cpe(text)
    except CpeError as exc:
        raise ApplicabilityError(cve, path, exc.detail) from None


def _check_version(value: str | None, cve: str, path: str) -> str | None:
    if value is None or is_unknown(value):
        return value
    try:
        version_key(value)
    except VersionError as exc:
        raise ApplicabilityError(cve, path, exc.detail) from None
    return value


def _parse_cpe_match(obj: Any, cve: str, path: str) -> CpeMatch:
    if not isinstance(obj, dict):
        raise ApplicabilityError(cve, path, "expected an object")
    crit = _cpe(_get(obj, "criteria", str, cve, path), cve, f"{path}.criteria")
    bounds = {}
    for key, attr in (
        ("versionStartIncluding", "start_including"),
        ("versionStartExcluding", "start_excluding"),
        ("versionEndIncluding", "end_including"),
        ("versionEndExcluding", "end_excluding"),
    ):
        raw = _get(obj, key, str, cve, path, None)
        bounds[attr] = _check_version(raw, cve, f"{path}.{key}")
    return CpeMatch(
        criteria=crit,
        vulnerable=_get(obj, "vulnerable", bool, cve, path),
        match_criteria_id=_get(obj, "matchCriteriaId", str, cve, path, None),
        range=VersionRange(**bounds),
    )


def _parse_configurations(raw: Any, cve: str, path: str) -> tuple[Configuration, ...]:
    if not isinstance(raw, list):
        raise ApplicabilityError(cve, path, "expected a list")
    confs = []
    for ci, conf in enumerate(raw):
        cpath = f"{path}[{ci}]"
        if not isinstance(conf, dict):
            raise ApplicabilityError(cve, cpath, "expected an object")
        nodes = []
        for ni, node in enumerate(_get(conf, "nodes", list, cve, cpath)):
            npath = f"{cpath}.nodes[{ni}]"
            if not isinstance(node, dict):
                raise ApplicabilityError(cve, npath, "expected an object")
            matches = tuple(
                _parse_cpe_match(m, cve, f"{npath}.cpeMatch[{mi}]")
                for mi, m in enumerate(_get(node, "cpeMatch", list, cve, npath))
            )
            nodes.append(
                Node(
                    operator=_operator(node, cve, npath),
                    negate=_get(node, "negate", bool, cve, npath, False),
                    cpe_match=matches,
                )
            )
        confs.append(
            Configuration(
                operator=_operator(conf, cve, cpath),
                negate=_get(conf, "negate", bool, cve, cpath, False),
                nodes=tuple(nodes),
            )
        )
    return tuple(confs)


def parse_nvd_cve(obj: Mapping[str, Any]) -> CveApplicability:
    """One NVD API 2.0 ``cve`` object (or a ``{"cve": {...}}`` item of a results page)."""
    if "cve" in obj and isinstance(obj["cve"], dict):
        obj = obj["cve"]
    cve_id = obj.get("id")
    if not isinstance(cve_id, str) or not cve_id:
        raise ApplicabilityError("<unknown CVE>", "$.id", "missing or not a string")
    confs = _parse_configurations(obj.get("configurations", []), cve_id, "$.configurations")
    return CveApplicability(cve_id=cve_id, configurations=confs, source="nvd")


def iter_nvd_records(page: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    vulns = page.get("vulnerabilities")
    if not isinstance(vulns, list):
        raise ApplicabilityError("<page>", "$.vulnerabilities", "missing or not a list")
    for i, item in enumerate(vulns):
        if not isinstance(item, dict) or not isinstance(item.get("cve"), dict):
            raise ApplicabilityError("<page>", f"$.vulnerabilities[{i}].cve", "missing")
        yield item["cve"]


def parse_nvd_page(page: Mapping[str, Any]) -> list[CveApplicability]:
    """An NVD API 2.0 results page (``vulnerabilities[].cve``)."""
    return [parse_nvd_cve(rec) for rec in iter_nvd_records(page)]


# --- CVE JSON 5 ------------------------------------------------------------------------------


def _cve5_ranges(entry: Mapping[str, Any], cve: str, path: str) -> list[VersionRange] | None:
    """Affected ranges of one ``affected[]`` entry; None when it lists no version at all."""
    versions = _get(entry, "versions", list, cve, path, [])
    if not versions:
        return None
    ranges: list[VersionRange] = []
    for vi, ver in enumerate(versions):
        vpath = f"{path}.versions[{vi}]"
        if not isinstance(ver, dict):
            raise ApplicabilityError(cve, vpath, "expected an object")
        if _get(ver, "status", str, cve, vpath, "affected") != "affected":
            continue
        start = _check_version(_get(ver, "version", str, cve, vpath), cve, f"{vpath}.version")
        # CVE5: version "0" means "from the beginning".
        start = None if start is None or start.strip() == "0" else start
        lt = _check_version(_get(ver, "lessThan", str, cve, vpath, None), cve, f"{vpath}.lessThan")
        le = _check_version(
            _get(ver, "lessThanOrEqual", str, cve, vpath, None), cve, f"{vpath}.lessThanOrEqual"
        )
        if lt is None and le is None:
            if start is None or is_unknown(start):
                ranges.append(VersionRange())
            else:  # a single affected version
                ranges.append(VersionRange(start_including=start, end_including=start))
        else:
            ranges.append(VersionRange(start_including=start, end_including=le, end_excluding=lt))
    return ranges


def _adp_matches(entry: Mapping[str, Any], cve: str, path: str) -> list[CpeMatch]:
    """CPE criteria of one ``affected[]`` entry that has ``cpes`` (as CISA ADP writes them).

    ``cpes`` and ``versions`` are parallel lists when they have the same length (one CPE per
    version, e.g. CVE-2024-20433), otherwise every CPE gets every range.
    """
    cpes = [
        _cpe(c, cve, f"{path}.cpes[{i}]")
        for i, c in enumerate(_get(entry, "cpes", list, cve, path, []))
    ]
    if not cpes:
        return []
    ranges = _cve5_ranges(entry, cve, path)
    versions_raw = _get(entry, "versions", list, cve, path, [])
    out: list[CpeMatch] = []
    if ranges is None:
        return [CpeMatch(criteria=c, vulnerable=True) for c in cpes]
    if len(cpes) == len(versions_raw) == len(ranges) and len(cpes) > 1:
        pairs = list(zip(cpes, ranges, strict=True))
    else:
        pairs = [(c, r) for c in cpes for r in ranges]
    for crit, rng in pairs:
        bounded = rng.end_including is not None or rng.end_excluding is not None
        if crit.version not in (ANY, NA) and not bounded:
            out.append(CpeMatch(criteria=crit, vulnerable=True))  # the CPE names the version
        elif crit.version not in (ANY, NA):
            # ADP writes the range's first version into the CPE (fortios:7.4.0 with
            # "7.4.0 <7.4.3"): the range says more, so it wins over the CPE's version.
            out.append(CpeMatch(criteria=replace(crit, version=ANY), vulnerable=True, range=rng))
        else:
            # ADP writes "-" with an explicit range (dir-600_firmware:- <= 2.16ww): the range wins.
            out.append(CpeMatch(criteria=replace(crit, version=ANY), vulnerable=True, range=rng))
    return out


def cve5_ranges(entry: Mapping[str, Any], cve: str, path: str) -> list[VersionRange] | None:
    """The affected version ranges of one CVE JSON 5 ``affected[]`` entry (None: no versions)."""
    return _cve5_ranges(entry, cve, path)


def parse_cve5(record: Mapping[str, Any]) -> CveApplicability:
    """Applicability from a CVE JSON 5 record.

    * ``containers.cna.cpeApplicability`` (same shape as NVD configurations) is used as is;
    * each ``affected[]`` entry with ``cpes`` (CNA or ADP) becomes criteria per `_adp_matches`;
      when a record lists both ``o:`` (firmware) and ``h:`` (hardware) CPEs for a vendor, the
      hardware CPEs become a non-vulnerable "running on" node: AND(OR(firmware), OR(hardware)),
      the NVD pattern. Entries without ``cpes`` (free-text vendor/product) give no criteria.
    """
    meta = record.get("cveMetadata")
    cve_id = meta.get("cveId") if isinstance(meta, dict) else None
    if not isinstance(cve_id, str) or not cve_id:
        raise ApplicabilityError("<unknown CVE>", "$.cveMetadata.cveId", "missing or not a string")
    containers = _get(record, "containers", dict, cve_id, "$")
    confs: list[Configuration] = []
    cna = _get(containers, "cna", dict, cve_id, "$.containers", {})
    if "cpeApplicability" in cna:
        confs.extend(
            _parse_configurations(
                cna["cpeApplicability"], cve_id, "$.containers.cna.cpeApplicability"
            )
        )
    matches: list[CpeMatch] = []
    blocks: list[tuple[str, Mapping[str, Any]]] = [("$.containers.cna", cna)]
    for ai, adp in enumerate(_get(containers, "adp", list, cve_id, "$.containers", [])):
        if not isinstance(adp, dict):
            raise ApplicabilityError(cve_id, f"$.containers.adp[{ai}]", "expected an object")
        blocks.append((f"$.containers.adp[{ai}]", adp))
    for bpath, block in blocks:
        for ei, entry in enumerate(_get(block, "affected", list, cve_id, bpath, [])):
            epath = f"{bpath}.affected[{ei}]"
            if not isinstance(entry, dict):
                raise ApplicabilityError(cve_id, epath, "expected an object")
            matches.extend(_adp_matches(entry, cve_id, epath))
    confs.extend(_configurations_from_matches(matches))
    return CveApplicability(cve_id=cve_id, configurations=tuple(confs), source="cve5")


def _configurations_from_matches(matches: Sequence[CpeMatch]) -> list[Configuration]:
    if not matches:
        return []
    by_vendor: dict[str, list[CpeMatch]] = {}
    for m in matches:
        by_vendor.setdefault(m.criteria.key[1], []).append(m)
    confs = []
    for group in by_vendor.values():
        firmware = [m for m in group if m.criteria.part != "h"]
        hardware = [m for m in group if m.criteria.part == "h"]
        if any(m.criteria.part == "o" for m in group) and hardware:
            running_on = tuple(
                CpeMatch(criteria=replace(m.criteria, version=ANY), vulnerable=False)
                for m in hardware
            )
            confs.append(
                Configuration(
                    operator=Operator.AND,
                    negate=False,
                    nodes=(
                        Node(Operator.OR, False, tuple(firmware)),
                        Node(Operator.OR, False, running_on),
                    ),
                )
            )
        else:
            confs.append(
                Configuration(Operator.OR, False, (Node(Operator.OR, False, tuple(group)),))
            )
    return confs


# --- storage ---------------------------------------------------------------------------------

_BOUNDS = (
    ("versionStartIncluding", "start_including"),
    ("versionStartExcluding", "start_excluding"),
    ("versionEndIncluding", "end_including"),
    ("versionEndExcluding", "end_excluding"),
)


def configurations_to_json(app: CveApplicability) -> list[dict[str, Any]]:
    """The configurations in NVD API 2.0 shape (JSON-safe), whatever the source was, so the
    store keeps one format and `configurations_from_json` reads it back."""
    out: list[dict[str, Any]] = []
    for conf in app.configurations:
        nodes = []
        for node in conf.nodes:
            matches = []
            for m in node.cpe_match:
                item: dict[str, Any] = {"vulnerable": m.vulnerable, "criteria": m.criteria.to_fs()}
                if m.match_criteria_id:
                    item["matchCriteriaId"] = m.match_criteria_id
                for key, attr in _BOUNDS:
                    value = getattr(m.range, attr)
                    if value is not None:
                        item[key] = value
                matches.append(item)
            nodes.append(
                {"operator": node.operator.value, "negate": node.negate, "cpeMatch": matches}
            )
        out.append({"operator": conf.operator.value, "negate": conf.negate, "nodes": nodes})
    return out


def configurations_from_json(cve_id: str, raw: Any, source: str = "nvd") -> CveApplicability:
    """Read back what `configurations_to_json` wrote."""
    return CveApplicability(
        cve_id=cve_id,
        configurations=_parse_configurations(raw, cve_id, "$.configurations"),
        source=source,
    )
