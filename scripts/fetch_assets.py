#!/usr/bin/env python3
"""Fetch the pinned third-party front-end assets listed in ``assets.json``.

For every entry the tarball is downloaded with ``npm pack NAME@VERSION`` (the ordinary npm
client, so registry configuration, proxies and caches are npm's business), its sha512 is checked
against the pinned ``integrity`` and only the listed files are extracted to their destinations.

Outputs, all generated and git-ignored:

* the listed files (``{version}`` in a destination is replaced by the entry's version);
* ``<root>/manifest.json`` for every output root: logical name -> versioned file name + sha384
  SRI, so the web layer (and the browser tests) never hard-code a version;
* ``<served root>/integrity.json``: versioned file name -> sha384 SRI for every served
  script and stylesheet, for ``integrity=`` attributes;
* ``<root>/.assets-stamp``: the manifest hash plus the sha256 of every file written, so an
  unchanged manifest with intact files costs no network at all.

Standard library only. Exit status: 0 success, 1 failure (message on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = REPO_ROOT / "assets.json"
STAMP_NAME = ".assets-stamp"
# Bump when the layout of what this script writes changes, so old stamps stop matching.
OUTPUT_SCHEMA = "2"
DEFAULT_ROOTS = {
    "served": "src/civicshield/web/static/vendor",
    "test": "tests/browser/vendor",
}
SRI_SUFFIXES = (".js", ".css", ".mjs")
NPM_TIMEOUT_S = 300


class AssetError(Exception):
    """A failure worth one clear line on stderr."""


@dataclass(frozen=True)
class FileSpec:
    source: str  # path inside the package, e.g. "dist/htmx.min.js"
    dest: Path  # absolute destination
    rel: str  # destination relative to its output root, POSIX style


@dataclass(frozen=True)
class Entry:
    package: str
    version: str
    integrity: str
    served: bool
    root: Path
    files: tuple[FileSpec, ...]
    names: dict[str, str] = field(default_factory=dict)  # logical name -> source path

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


def _log(message: str) -> None:
    print(f"fetch_assets: {message}", file=sys.stderr)


def _require_str(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise AssetError(f"{where}: '{key}' must be a non-empty string")
    return value


def _safe_relative(path_text: str, where: str) -> PurePosixPath:
    path = PurePosixPath(path_text)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise AssetError(f"{where}: path {path_text!r} must be relative and stay inside")
    return path


def load_manifest(path: Path) -> tuple[list[Entry], dict[str, Path], bytes]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AssetError(f"cannot read manifest {path}: {exc}") from exc
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise AssetError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("packages"), list):
        raise AssetError(f"{path}: expected an object with a 'packages' list")

    roots_raw = doc.get("roots", DEFAULT_ROOTS)
    if not isinstance(roots_raw, dict) or set(roots_raw) != {"served", "test"}:
        raise AssetError(f"{path}: 'roots' must name exactly 'served' and 'test'")
    roots = {
        kind: REPO_ROOT / _safe_relative(str(rel), f"roots.{kind}")
        for kind, rel in roots_raw.items()
    }

    entries: list[Entry] = []
    seen_dest: dict[Path, str] = {}
    for index, raw in enumerate(doc["packages"]):
        where = f"{path.name}: packages[{index}]"
        if not isinstance(raw, dict):
            raise AssetError(f"{where} must be an object")
        package = _require_str(raw, "package", where)
        where = f"{path.name}: {package}"
        version = _require_str(raw, "version", where)
        integrity = _require_str(raw, "integrity", where)
        if not integrity.startswith("sha512-"):
            raise AssetError(f"{where}: integrity must be an npm 'sha512-...' SRI string")
        served = raw.get("served")
        if not isinstance(served, bool):
            raise AssetError(f"{where}: 'served' must be true or false")
        root = roots["served" if served else "test"]
        files_raw = raw.get("files")
        if not isinstance(files_raw, dict) or not files_raw:
            raise AssetError(f"{where}: 'files' must be a non-empty object")
        files: list[FileSpec] = []
        for source, dest_text in files_raw.items():
            _safe_relative(source, where)
            if not isinstance(dest_text, str):
                raise AssetError(f"{where}: destination of {source!r} must be a string")
            dest_rel = _safe_relative(dest_text.replace("{version}", version), where)
            dest = REPO_ROOT / dest_rel
            try:
                rel = dest.relative_to(root).as_posix()
            except ValueError:
                raise AssetError(
                    f"{where}: destination {dest_rel} is outside {root.relative_to(REPO_ROOT)}"
                ) from None
            if rel == STAMP_NAME or dest in seen_dest:
                raise AssetError(f"{where}: destination {dest_rel} is reserved or duplicated")
            seen_dest[dest] = package
            files.append(FileSpec(source=source, dest=dest, rel=rel))
        names_raw = raw.get("names", {})
        if not isinstance(names_raw, dict) or not all(
            isinstance(v, str) and v in files_raw for v in names_raw.values()
        ):
            raise AssetError(f"{where}: every 'names' value must be one of its 'files' keys")
        entries.append(
            Entry(
                package=package,
                version=version,
                integrity=integrity,
                served=served,
                root=root,
                files=tuple(files),
                names={str(k): str(v) for k, v in names_raw.items()},
            )
        )
    return entries, roots, data


def manifest_hash(data: bytes) -> str:
    return hashlib.sha256(OUTPUT_SCHEMA.encode() + b"\0" + data).hexdigest()


def sri(algorithm: str, content: bytes) -> str:
    digest = hashlib.new(algorithm, content).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_stamp(root: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads((root / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def up_to_date(entries: list[Entry], roots: dict[str, Path], wanted: str) -> bool:
    """True when every root's stamp matches and every file it lists is intact."""
    expected: dict[Path, set[str]] = {root: set() for root in roots.values()}
    for entry in entries:
        expected[entry.root].update(spec.rel for spec in entry.files)
    for root, rels in expected.items():
        stamp = read_stamp(root)
        if stamp is None or stamp.get("manifest") != wanted:
            return False
        recorded = stamp.get("files")
        if not isinstance(recorded, dict) or not rels <= set(recorded):
            return False
        for rel, digest in recorded.items():
            target = root / rel
            if not target.is_file() or sha256_file(target) != digest:
                return False
    return True


def find_npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm is not installed or not on PATH; it is needed to download the pinned "
            "front-end packages (install it with `make system-deps` or `apt-get install npm`)"
        )
    return npm


def npm_pack(npm: str, entry: Entry, workdir: Path) -> Path:
    """Download ENTRY's tarball into WORKDIR with the ordinary npm client; return its path."""
    command = [
        npm,
        "pack",
        entry.spec,
        "--pack-destination",
        str(workdir),
        "--json",
        "--ignore-scripts",
        "--loglevel=error",
        "--no-fund",
        "--no-audit",
        "--no-update-notifier",
    ]
    try:
        # Run inside WORKDIR so no package.json of ours can influence npm.
        result = subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssetError(
            f"{entry.spec}: download timed out after {NPM_TIMEOUT_S} s (`npm pack`)"
        ) from None
    except OSError as exc:
        raise AssetError(f"{entry.spec}: cannot run npm: {exc}") from exc
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
        tail = "\n    ".join(detail[-8:])
        raise AssetError(
            f"{entry.spec}: download failed (`npm pack` exited {result.returncode}):\n    {tail}"
        )
    try:
        info = json.loads(result.stdout)
        filename = info[0]["filename"]
    except (ValueError, LookupError, TypeError):
        filename = None
    tarball = workdir / filename if isinstance(filename, str) else None
    if tarball is None or not tarball.is_file():
        candidates = sorted(workdir.glob("*.tgz"))
        if len(candidates) != 1:
            raise AssetError(f"{entry.spec}: npm pack did not leave exactly one tarball")
        tarball = candidates[0]
    return tarball


def verify_tarball(entry: Entry, tarball: Path) -> None:
    actual = sri("sha512", tarball.read_bytes())
    if actual != entry.integrity:
        raise AssetError(
            f"INTEGRITY MISMATCH for {entry.spec}: the downloaded tarball does not match the "
            f"pinned integrity in assets.json.\n    pinned:     {entry.integrity}\n"
            f"    downloaded: {actual}\n"
            "    Refusing to use it. If the pin is wrong, check it with "
            f"`npm view {entry.spec} dist.integrity`."
        )


def read_members(entry: Entry, tarball: Path) -> dict[str, bytes]:
    """Return the listed files' bytes, keyed by their path inside the package."""
    wanted = {spec.source for spec in entry.files}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(tarball, mode="r:gz") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if len(parts) < 2:
                    continue
                # npm tarballs hold one top folder (normally "package/"); strip it.
                inner = PurePosixPath(*parts[1:]).as_posix()
                if inner not in wanted or inner in found:
                    continue
                if not member.isfile():
                    raise AssetError(f"{entry.spec}: {inner} is not a regular file in the tarball")
                handle = archive.extractfile(member)
                if handle is None:
                    raise AssetError(f"{entry.spec}: cannot read {inner} from the tarball")
                with handle:
                    found[inner] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise AssetError(f"{entry.spec}: cannot read tarball {tarball.name}: {exc}") from exc
    missing = sorted(wanted - set(found))
    if missing:
        raise AssetError(f"{entry.spec}: not in the package: {', '.join(missing)}")
    return found


def write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(content)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, value: object) -> None:
    write_atomic(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def remove_stale(root: Path, keep: set[str]) -> None:
    """Delete files an earlier run wrote under ROOT that the manifest no longer lists."""
    stamp = read_stamp(root)
    old = stamp.get("files") if stamp else None
    if not isinstance(old, dict):
        return
    for rel in old:
        if rel in keep:
            continue
        try:
            stale = root / _safe_relative(str(rel), "stamp")
        except AssetError:
            continue
        if stale.is_file():
            stale.unlink()
            _log(f"removed stale {stale.relative_to(REPO_ROOT)}")
        parent = stale.parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def fetch(entries: list[Entry], roots: dict[str, Path], wanted: str) -> None:
    npm = find_npm()
    written: dict[Path, dict[str, str]] = {root: {} for root in roots.values()}
    manifests: dict[Path, dict[str, dict[str, str]]] = {root: {} for root in roots.values()}
    integrity: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="civicshield-assets-") as tmp_text:
        tmp = Path(tmp_text)
        # Download and verify everything before touching any destination.
        contents: list[tuple[Entry, dict[str, bytes]]] = []
        for entry in entries:
            started = time.monotonic()
            workdir = tmp / f"{len(contents)}"
            workdir.mkdir()
            tarball = npm_pack(npm, entry, workdir)
            verify_tarball(entry, tarball)
            contents.append((entry, read_members(entry, tarball)))
            _log(f"{entry.spec}: verified ({time.monotonic() - started:.1f} s)")

    for root in roots.values():
        keep = {spec.rel for entry in entries if entry.root == root for spec in entry.files}
        keep |= {"manifest.json", "integrity.json"}
        remove_stale(root, keep)
        # Invalidate the stamp first: an interrupted run must not look complete.
        (root / STAMP_NAME).unlink(missing_ok=True)

    for entry, files in contents:
        by_source = {spec.source: spec for spec in entry.files}
        for spec in entry.files:
            content = files[spec.source]
            write_atomic(spec.dest, content)
            written[entry.root][spec.rel] = hashlib.sha256(content).hexdigest()
            if entry.served and spec.rel.endswith(SRI_SUFFIXES):
                integrity[spec.rel] = sri("sha384", content)
        for logical, source in entry.names.items():
            spec = by_source[source]
            manifests[entry.root][logical] = {
                "file": spec.rel,
                "integrity": sri("sha384", files[source]),
                "package": entry.package,
                "version": entry.version,
            }

    served_root = roots["served"]
    for root in roots.values():
        if written[root] or root == served_root:
            write_json(root / "manifest.json", manifests[root])
            written[root]["manifest.json"] = sha256_file(root / "manifest.json")
    write_json(served_root / "integrity.json", integrity)
    written[served_root]["integrity.json"] = sha256_file(served_root / "integrity.json")

    for root, files_written in written.items():
        if files_written:
            write_json(root / STAMP_NAME, {"manifest": wanted, "files": files_written})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetch the pinned front-end assets.")
    parser.add_argument(
        "--manifest", type=Path, default=DEFAULT_MANIFEST, help="default: assets.json"
    )
    parser.add_argument(
        "--force", action="store_true", help="download even when the stamps say up to date"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="download nothing; exit 1 unless the assets are present and up to date",
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    try:
        entries, roots, data = load_manifest(args.manifest)
        wanted = manifest_hash(data)
        if not args.force and up_to_date(entries, roots, wanted):
            _log(f"up to date ({len(entries)} packages)")
            return 0
        if args.check:
            _log("assets are missing or stale; run `make assets`")
            return 1
        fetch(entries, roots, wanted)
    except AssetError as exc:
        _log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _log("interrupted")
        return 130
    _log(f"fetched {len(entries)} packages in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
