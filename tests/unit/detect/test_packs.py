"""Rule packs: download (mock transport only), checksum, cache, zip-slip, atomic install."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from civicshield.core import ExternalServiceError, Invalid
from civicshield.detect import load_rules
from civicshield.detect.sigma.packs import (
    DEFAULT_TAG,
    RulePack,
    download,
    file_sha256,
    install_from_path,
)

from .rulefiles import rule_yaml, write_rule

ID1 = "11111111-1111-4111-8111-111111111111"
ID2 = "22222222-2222-4222-8222-222222222222"


def make_zip(path: Path, members: dict[str, str] | None = None) -> Path:
    members = members or {
        "rules/windows/a.yml": rule_yaml(ID1, title="Rule A"),
        "rules/linux/b.yml": rule_yaml(ID2, title="Rule B"),
    }
    with zipfile.ZipFile(path, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    return path


class Server:
    """An httpx.MockTransport serving one body; counts the requests it answered."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status, self.calls = body, status, 0
        self.urls: list[str] = []

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.calls += 1
            self.urls.append(str(request.url))
            return httpx.Response(self.status, content=self.body)

        return httpx.MockTransport(handle)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "pack.zip")


def test_a_pack_url_follows_the_pinned_pattern() -> None:
    pack = RulePack()
    assert pack.tag == DEFAULT_TAG
    assert pack.url.endswith(f"/releases/download/{DEFAULT_TAG}/sigma_all_rules.zip")
    assert RulePack(tag="r2024-01-01").url.endswith("/r2024-01-01/sigma_all_rules.zip")
    with pytest.raises(Invalid, match="tag"):
        RulePack(tag="../evil")
    with pytest.raises(Invalid, match="64 hex"):
        RulePack(sha256="abc")


def test_download_verifies_the_checksum_and_installs(tmp_path: Path, archive: Path) -> None:
    body = archive.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    server = Server(body)
    pack = RulePack(sha256=digest.upper())
    installed = download(
        pack, tmp_path / "rules", transport=server.transport(), cache_dir=tmp_path / "cache"
    )
    assert server.urls == [pack.url]
    assert installed.path == tmp_path / "rules" / "sigmahq"
    assert installed.sha256 == digest and installed.files == 2
    assert installed.source == pack.url
    manifest = json.loads((installed.path / "pack.json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == digest and manifest["files"] == 2
    report = load_rules([installed.path])
    assert report.ok and sorted(r.id for r in report.rules) == [ID1, ID2]
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_a_checksum_mismatch_installs_nothing(tmp_path: Path, archive: Path) -> None:
    server = Server(archive.read_bytes())
    pack = RulePack(sha256="0" * 64)
    with pytest.raises(ExternalServiceError) as caught:
        download(
            pack, tmp_path / "rules", transport=server.transport(), cache_dir=tmp_path / "cache"
        )
    assert "0" * 64 in caught.value.detail
    assert file_sha256(archive) in caught.value.detail
    assert not (tmp_path / "rules" / "sigmahq").exists()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_an_http_error_is_an_external_service_error(tmp_path: Path) -> None:
    server = Server(b"not here", status=404)
    with pytest.raises(ExternalServiceError, match="HTTP 404"):
        download(
            RulePack(), tmp_path / "rules", transport=server.transport(), cache_dir=tmp_path / "c"
        )
    assert not (tmp_path / "rules" / "sigmahq").exists()


def test_a_cached_download_is_reused(tmp_path: Path, archive: Path) -> None:
    body = archive.read_bytes()
    server = Server(body)
    pack = RulePack(sha256=hashlib.sha256(body).hexdigest())
    for _ in range(2):
        installed = download(
            pack, tmp_path / "rules", transport=server.transport(), cache_dir=tmp_path / "cache"
        )
    assert server.calls == 1
    assert installed.files == 2


def test_a_zip_slip_member_is_refused(tmp_path: Path) -> None:
    for bad in ("../escape.yml", "/etc/evil.yml", "rules/../../escape.yml"):
        evil = make_zip(tmp_path / "evil.zip", {"rules/ok.yml": rule_yaml(ID1), bad: "x: 1\n"})
        with pytest.raises(Invalid, match="outside the pack"):
            install_from_path(evil, tmp_path / "rules")
        assert not (tmp_path / "rules" / "sigmahq").exists()
        assert not (tmp_path / "escape.yml").exists()
    assert list((tmp_path / "rules").iterdir()) == []  # no staging folder left behind


def test_install_from_a_folder(tmp_path: Path) -> None:
    source = tmp_path / "mine"
    write_rule(source, "windows/a.yml", rule_yaml(ID1))
    write_rule(source, "linux/b.yml", rule_yaml(ID2))
    installed = install_from_path(source, tmp_path / "rules")
    assert installed.files == 2 and len(installed.sha256) == 64
    assert (installed.path / "windows" / "a.yml").is_file()
    again = install_from_path(source, tmp_path / "other")
    assert again.sha256 == installed.sha256  # the folder digest is stable
    with pytest.raises(Invalid, match="does not exist"):
        install_from_path(tmp_path / "none", tmp_path / "rules")
    (tmp_path / "notes.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(Invalid, match=r"folder or a \.zip"):
        install_from_path(tmp_path / "notes.txt", tmp_path / "rules")


def test_a_new_install_replaces_the_old_one_whole(tmp_path: Path, archive: Path) -> None:
    old_source = tmp_path / "old"
    write_rule(old_source, "stale/old.yml", rule_yaml(ID2))
    dest = tmp_path / "rules"
    install_from_path(old_source, dest)
    bad = make_zip(tmp_path / "bad.zip", {"../x.yml": "x: 1\n"})
    with pytest.raises(Invalid):
        install_from_path(bad, dest)
    assert (dest / "sigmahq" / "stale" / "old.yml").is_file()  # a failed install changes nothing

    installed = install_from_path(archive, dest)
    assert not (dest / "sigmahq" / "stale").exists()
    assert (dest / "sigmahq" / "rules" / "windows" / "a.yml").is_file()
    assert installed.sha256 == file_sha256(archive)
    assert [p.name for p in dest.iterdir()] == ["sigmahq"]
