"""SigmaHQ rule packs: download a release asset (pinned URL pattern, SHA-256 checked, cached on
disk) or take a local folder or `.zip` (offline cities), and install it atomically.

    pack = RulePack()                                   # the pinned default release
    installed = download(pack, data_dir / "rules", cache_dir=data_dir / "cache" / "rules")
    installed = install_from_path(Path("sigma_all_rules.zip"), data_dir / "rules")

`DEFAULT_TAG` is pinned on purpose (a release, not "latest"), so every city runs the same
rules until someone chooses to move; pass another `tag` (`rules update --tag`) to override.
The HTTP transport is injectable (`httpx.MockTransport` in tests); nothing here picks a host
other than the pinned pattern. An install is written beside its target and renamed into place,
so a failed install never leaves a half-written rules folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import httpx

from civicshield.core import ExternalServiceError, Invalid

__all__ = [
    "DEFAULT_ASSET",
    "DEFAULT_TAG",
    "PACK_NAME",
    "URL_PATTERN",
    "InstalledPack",
    "RulePack",
    "download",
    "file_sha256",
    "install_from_path",
]

DEFAULT_TAG = "r2025-06-02"  # pinned SigmaHQ release; override with RulePack(tag=...)
DEFAULT_ASSET = "sigma_all_rules.zip"
URL_PATTERN = "https://github.com/SigmaHQ/sigma/releases/download/{tag}/{asset}"
PACK_NAME = "sigmahq"
MANIFEST = "pack.json"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RulePack:
    """One release asset: `tag` and `asset` fill `URL_PATTERN`; `sha256` (lower-case hex) is
    checked after download when set."""

    tag: str = DEFAULT_TAG
    asset: str = DEFAULT_ASSET
    sha256: str | None = None

    def __post_init__(self) -> None:
        for name, value in (("tag", self.tag), ("asset", self.asset)):
            if not _SAFE.match(value):
                raise Invalid(f"rule pack {name} {value!r} may only hold letters, digits, . _ -")
        if self.sha256 is not None:
            object.__setattr__(self, "sha256", self.sha256.strip().lower())
            if not _HEX64.match(self.sha256 or ""):
                raise Invalid(f"rule pack sha256 {self.sha256!r} is not 64 hex digits")

    @property
    def url(self) -> str:
        return URL_PATTERN.format(tag=self.tag, asset=self.asset)


@dataclass(frozen=True)
class InstalledPack:
    """What `install_from_path` / `download` put in place (also written to `pack.json`)."""

    path: Path
    source: str
    sha256: str
    files: int
    installed_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "source": self.source,
            "sha256": self.sha256,
            "files": self.files,
            "installed_at": self.installed_at.isoformat(),
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _folder_sha256(root: Path) -> tuple[str, int]:
    """SHA-256 over the sorted relative paths and contents of every file; and the file count."""
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file_sha256(path).encode() + b"\n")
    return digest.hexdigest(), len(files)


def _check_member(name: str, archive: Path) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise Invalid(f"refusing {archive.name}: member {name!r} would land outside the pack")


def _extract(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            for member in members:  # check every name before writing anything
                _check_member(member.filename, archive)
            bundle.extractall(into)
    except zipfile.BadZipFile as exc:
        raise Invalid(f"{archive} is not a valid zip file: {exc}") from exc


def install_from_path(
    source: Path, dest_root: Path, *, name: str = PACK_NAME, origin: str | None = None
) -> InstalledPack:
    """Install a rules folder or `.zip` as `dest_root/<name>/`, replacing any earlier install
    only once the new one is complete; `origin` (e.g. the download URL) is recorded as the
    source instead of the local path. Raises `Invalid` for a missing source, a bad zip or a
    member that escapes the pack (absolute path or `..`)."""
    if not source.exists():
        raise Invalid(f"rule pack source does not exist: {source}")
    is_zip = source.is_file()
    if is_zip and not zipfile.is_zipfile(source):
        raise Invalid(f"rule pack source must be a folder or a .zip file: {source}")
    dest_root.mkdir(parents=True, exist_ok=True)
    target = dest_root / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.new-", dir=dest_root))
    try:
        tree = staging / name
        if is_zip:
            tree.mkdir()
            _extract(source, tree)
            digest = file_sha256(source)
            files = sum(1 for p in tree.rglob("*") if p.is_file())
        else:
            shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".git", MANIFEST))
            digest, files = _folder_sha256(tree)
        installed = InstalledPack(
            path=target,
            source=origin or str(source.resolve()),
            sha256=digest,
            files=files,
            installed_at=datetime.now(UTC).replace(microsecond=0),
        )
        manifest = json.dumps(installed.to_dict(), indent=2) + "\n"
        (tree / MANIFEST).write_text(manifest, encoding="utf-8")
        old = staging / "old"
        if target.exists():
            target.rename(old)  # same folder, same file system: a rename, not a copy
        tree.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return installed


def download(
    pack: RulePack,
    dest_root: Path,
    *,
    transport: httpx.BaseTransport | None = None,
    cache_dir: Path,
) -> InstalledPack:
    """Fetch `pack.url` into `cache_dir/<tag>/<asset>` (reused when present and its checksum
    matches), verify it, then `install_from_path`. Raises `ExternalServiceError` on HTTP
    failures and checksum mismatches (the bad file is removed)."""
    cached = cache_dir / pack.tag / pack.asset
    if cached.is_file():
        if pack.sha256 is None or file_sha256(cached) == pack.sha256:
            return install_from_path(cached, dest_root, origin=pack.url)
        cached.unlink()
    cached.parent.mkdir(parents=True, exist_ok=True)
    part = cached.with_name(cached.name + ".part")
    try:
        with (
            httpx.Client(transport=transport, follow_redirects=True, timeout=60) as client,
            client.stream("GET", pack.url) as response,
        ):
            if response.status_code != 200:
                raise ExternalServiceError(
                    f"downloading {pack.url} failed: HTTP {response.status_code}"
                )
            with part.open("wb") as out:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
    except httpx.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise ExternalServiceError(f"downloading {pack.url} failed: {exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    actual = file_sha256(part)
    if pack.sha256 is not None and actual != pack.sha256:
        part.unlink()
        raise ExternalServiceError(
            f"checksum mismatch for {pack.url}: expected sha256 {pack.sha256}, got {actual}"
        )
    part.replace(cached)
    return install_from_path(cached, dest_root, origin=pack.url)
