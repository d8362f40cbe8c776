"""CVE JSON 5 records (cvelistV5, cisagov/vulnrichment), with CISA's ADP enrichment.

Schema: https://cveproject.github.io/cve-schema/. Read here: ``cveMetadata`` (id, state,
published/updated), ``containers.cna`` (descriptions, ``metrics[]`` with ``cvssV2_0``,
``cvssV3_0``, ``cvssV3_1``, ``cvssV4_0``, ``problemTypes``) and ``containers.adp[]``; the
"CISA ADP Vulnrichment" container adds ``metrics[].other`` of type ``ssvc`` (Exploitation,
Automatable, Technical Impact) and sometimes ``kev`` (dateAdded, reference), CVSS 3.1, CWEs and
CPEs. Applicability comes from `civicshield.vulns.applicability.parse_cve5`.

Local sources: one record per ``.json`` file (a cvelistV5 checkout: ``cves/2024/20xxx/CVE-….json``),
or ``.jsonl`` / ``.jsonl.gz`` with one record per line. Over HTTP: single records from the CVE
Services API (``GET {base}/{CVE id}``); the bulk source is a local checkout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from civicshield.vulns.applicability import ApplicabilityError, parse_cve5
from civicshield.vulns.feeds._fields import (
    CVE_ID,
    as_dict,
    opt_date,
    opt_datetime,
    opt_float,
    opt_list,
    opt_str,
    req_str,
)
from civicshield.vulns.feeds._http import (
    FeedError,
    FeedResult,
    Fetcher,
    Problem,
    RecordError,
    load_json,
    read_bytes,
)
from civicshield.vulns.feeds.records import CveRecord, CvssScore, Description, KevMark, Ssvc
from civicshield.vulns.packages import packages_from_cve5

__all__ = [
    "CVE5_API_URL",
    "Cve5Result",
    "fetch_cve5",
    "load_cve5",
    "parse_cve5_jsonl",
    "parse_cve5_record",
]

CVE5_API_URL = "https://cveawg.mitre.org/api/cve"
_CVSS_KEYS = {"cvssV2_0": "2.0", "cvssV3_0": "3.0", "cvssV3_1": "3.1", "cvssV4_0": "4.0"}
_SSVC_KEYS = {
    "exploitation": "exploitation",
    "automatable": "automatable",
    "technical impact": "technical_impact",
}


@dataclass
class Cve5Result(FeedResult[CveRecord]):
    pass


def _metrics(block: Mapping[str, Any], path: str, label: str, kind: str) -> list[CvssScore]:
    out = []
    for mi, metric in enumerate(opt_list(block, "metrics", path)):
        mpath = f"{path}.metrics[{mi}]"
        for key, version in _CVSS_KEYS.items():
            if key not in as_dict(metric, mpath):
                continue
            data = as_dict(metric[key], f"{mpath}.{key}")
            out.append(
                CvssScore(
                    version=opt_str(data, "version", f"{mpath}.{key}") or version,
                    vector=req_str(data, "vectorString", f"{mpath}.{key}"),
                    base_score=opt_float(data, "baseScore", f"{mpath}.{key}"),
                    base_severity=opt_str(data, "baseSeverity", f"{mpath}.{key}"),
                    source=label,
                    kind=kind,
                )
            )
    return out


def _other(block: Mapping[str, Any], path: str) -> tuple[Ssvc | None, KevMark | None]:
    ssvc: Ssvc | None = None
    kev: KevMark | None = None
    for mi, metric in enumerate(opt_list(block, "metrics", path)):
        other = as_dict(metric, f"{path}.metrics[{mi}]").get("other")
        if other is None:
            continue
        opath = f"{path}.metrics[{mi}].other"
        other = as_dict(other, opath)
        content = as_dict(other.get("content", {}), f"{opath}.content")
        kind = (opt_str(other, "type", opath) or "").lower()
        if kind == "ssvc":
            values: dict[str, str | None] = {}
            for oi, option in enumerate(opt_list(content, "options", f"{opath}.content")):
                for name, value in as_dict(option, f"{opath}.content.options[{oi}]").items():
                    attr = _SSVC_KEYS.get(name.strip().lower())
                    if attr is not None:
                        values[attr] = str(value).strip().lower() if value is not None else None
            ssvc = Ssvc(
                exploitation=values.get("exploitation"),
                automatable=values.get("automatable"),
                technical_impact=values.get("technical_impact"),
                version=opt_str(content, "version", f"{opath}.content"),
                role=opt_str(content, "role", f"{opath}.content"),
                timestamp=opt_datetime(content, "timestamp", f"{opath}.content"),
            )
        elif kind == "kev":
            kev = KevMark(
                date_added=opt_date(content, "dateAdded", f"{opath}.content"),
                reference=opt_str(content, "reference", f"{opath}.content"),
            )
    return ssvc, kev


def _cwes(block: Mapping[str, Any], path: str) -> list[str]:
    out = []
    for pi, problem in enumerate(opt_list(block, "problemTypes", path)):
        ppath = f"{path}.problemTypes[{pi}]"
        for di, desc in enumerate(opt_list(as_dict(problem, ppath), "descriptions", ppath)):
            cwe = opt_str(as_dict(desc, f"{ppath}.descriptions[{di}]"), "cweId")
            if cwe:
                out.append(cwe)
    return out


def parse_cve5_record(record: Any) -> CveRecord:
    """One CVE JSON 5 record; raises `RecordError` (with a JSON path) when malformed."""
    record = as_dict(record, "$")
    meta = as_dict(record.get("cveMetadata"), "$.cveMetadata")
    cve_id = req_str(meta, "cveId", "$.cveMetadata").strip()
    if not CVE_ID.match(cve_id):
        raise RecordError("$.cveMetadata.cveId", f"not a CVE id: {cve_id!r}")
    containers = as_dict(record.get("containers"), "$.containers")
    cna = as_dict(containers.get("cna", {}), "$.containers.cna")
    cna_name = opt_str(as_dict(cna.get("providerMetadata", {}), "$"), "shortName") or ""
    cvss = _metrics(cna, "$.containers.cna", f"cna:{cna_name}".rstrip(":"), "cna")
    cwes = _cwes(cna, "$.containers.cna")
    ssvc: Ssvc | None = None
    kev: KevMark | None = None
    for ai, adp in enumerate(opt_list(containers, "adp", "$.containers")):
        apath = f"$.containers.adp[{ai}]"
        adp = as_dict(adp, apath)
        name = opt_str(as_dict(adp.get("providerMetadata", {}), apath), "shortName") or ""
        cvss.extend(_metrics(adp, apath, f"adp:{name}".rstrip(":"), "adp"))
        cwes.extend(c for c in _cwes(adp, apath) if c not in cwes)
        found_ssvc, found_kev = _other(adp, apath)
        ssvc = ssvc or found_ssvc
        kev = kev or found_kev
    descriptions = []
    for di, desc in enumerate(opt_list(cna, "descriptions", "$.containers.cna")):
        dpath = f"$.containers.cna.descriptions[{di}]"
        desc = as_dict(desc, dpath)
        descriptions.append(
            Description(opt_str(desc, "lang", dpath) or "en", req_str(desc, "value", dpath))
        )
    try:
        applicability = parse_cve5(record)
    except ApplicabilityError as exc:
        raise RecordError(exc.path, exc.problem) from None
    return CveRecord(
        cve_id=cve_id,
        source="cve5",
        state=opt_str(meta, "state", "$.cveMetadata"),
        published=opt_datetime(meta, "datePublished", "$.cveMetadata"),
        modified=opt_datetime(meta, "dateUpdated", "$.cveMetadata"),
        descriptions=tuple(descriptions),
        cvss=tuple(cvss),
        cwes=tuple(cwes),
        ssvc=ssvc,
        kev=kev,
        applicability=applicability,
        packages=packages_from_cve5(record, cve_id),
    )


def _add(result: Cve5Result, raw: Any, source: str, position: str) -> None:
    try:
        result.items.append(parse_cve5_record(raw))
    except RecordError as exc:
        cve = ""
        if isinstance(raw, dict) and isinstance(raw.get("cveMetadata"), dict):
            cve = f" ({raw['cveMetadata'].get('cveId')})"
        result.problems.append(Problem(source, f"{position}{cve} {exc.path}", exc.problem))


def parse_cve5_jsonl(data: bytes, source: str) -> Cve5Result:
    """One record per line; a line that is not JSON or not a valid record is skipped."""
    result = Cve5Result()
    for line_no, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
            column = f" column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            result.problems.append(Problem(source, f"line {line_no}{column}", message))
            continue
        _add(result, raw, source, f"line {line_no}")
    return result


def _load_json_file(path: Path, result: Cve5Result) -> None:
    doc = load_json(read_bytes(path), str(path))
    records = doc if isinstance(doc, list) else [doc]
    for i, raw in enumerate(records):
        _add(result, raw, str(path), f"[{i}]" if isinstance(doc, list) else "record")


def load_cve5(
    path: Path, *, progress: Callable[[int, int | None], None] | None = None
) -> Cve5Result:
    """From a `.jsonl[.gz]` or `.json` file, or a folder (every `CVE-*.json` and `*.jsonl*` in
    it, recursively). A file that is not JSON at all raises `FeedError` in single-file mode and
    is reported and skipped in folder mode."""
    if not path.is_dir():
        return _load_file(path, Cve5Result())
    files = sorted(p for p in path.rglob("*") if p.is_file() and _is_cve5_file(p))
    result = Cve5Result()
    for done, file in enumerate(files, start=1):
        try:
            _load_file(file, result)
        except FeedError as exc:
            result.problems.append(Problem(exc.source, exc.position or "file", exc.problem))
        if progress is not None:
            progress(done, len(files))
    return result


def _is_cve5_file(path: Path) -> bool:
    name = path.name
    return (name.startswith("CVE-") and name.endswith(".json")) or ".jsonl" in name


def _load_file(path: Path, result: Cve5Result) -> Cve5Result:
    if ".jsonl" in path.name:
        result.extend(parse_cve5_jsonl(read_bytes(path), str(path)))
    else:
        _load_json_file(path, result)
    return result


def fetch_cve5(
    fetcher: Fetcher,
    cve_ids: Iterable[str],
    *,
    base_url: str = CVE5_API_URL,
    max_age: timedelta = timedelta(hours=12),
) -> tuple[Cve5Result, bool]:
    """Fetch single records (cached per id) from the CVE Services API; `from_cache` is true
    when every record came from the cache."""
    result = Cve5Result()
    all_cached = True
    for cve_id in cve_ids:
        if not CVE_ID.match(cve_id):
            raise FeedError(base_url, None, f"not a CVE id: {cve_id!r}")
        url = f"{base_url.rstrip('/')}/{cve_id}"
        got = fetcher.download(url, fetcher.cache_dir / "cve5" / f"{cve_id}.json", max_age=max_age)
        all_cached = all_cached and got.from_cache
        _add(result, load_json(read_bytes(got.path), url), url, "record")
    return result, all_cached
