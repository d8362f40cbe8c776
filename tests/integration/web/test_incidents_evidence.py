"""The evidence section of the case page: upload (multipart, with CSRF), the SHA-256 shown,
Verify, a tampered blob shown as TAMPERED (role="alert"), a refused download with its reason,
a download's headers, custody transfer, and who sees which controls."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

from civicshield import incidents
from civicshield.core import SYSTEM, Role, Sector
from civicshield.incidents import CaseCreate
from civicshield.runtime import Runtime
from tests.integration.web.support import csrf_from

DATA = b"<script>alert('owned')</script>" * 100


def _new_case(rt: Runtime, sectors: list[Sector]) -> int:
    with rt.session() as session:
        data = CaseCreate(title="Defaced portal", sectors=sectors)
        return incidents.create_case(session, data, actor=SYSTEM, clock=rt.clock).id


def _post(client: Any, case_id: int, action: str, **kwargs: Any) -> Any:
    token = csrf_from(client.get(f"/incidents/{case_id}").text)
    data = {"csrf_token": token, **kwargs.pop("data", {})}
    return client.post(action, data=data, follow_redirects=False, **kwargs)


def _integrity(page: str, eid: int) -> str:
    match = re.search(rf'data-testid="evidence-integrity-{eid}".*?</td>', page, re.S)
    assert match, page[:500]
    return html.unescape(match.group(0))


def test_upload_verify_tamper_and_download(runtime: Runtime, as_role: Any) -> None:
    case_id = _new_case(runtime, [Sector.WATER])
    client = as_role(Role.ANALYST)
    made = _post(
        client, case_id, f"/incidents/{case_id}/evidence",
        data={"description": "portal page"}, files={"file": ("index.html", DATA, "text/html")},
    )  # fmt: skip
    assert made.status_code == 303 and made.headers["location"].endswith("#evidence")
    page = client.get(f"/incidents/{case_id}").text
    (eid,) = [int(n) for n in re.findall(r'data-testid="evidence-row-(\d+)"', page)]
    assert hashlib.sha256(DATA).hexdigest() in page and "Not checked yet" in _integrity(page, eid)
    assert "<script>alert" not in page  # the file is never rendered
    for testid in ("evidence-upload", f"evidence-verify-{eid}", f"evidence-download-{eid}"):
        assert f'data-testid="{testid}"' in page
    ok = _post(client, case_id, f"/incidents/{case_id}/evidence/{eid}/verify")
    assert ok.status_code == 303
    assert "Intact" in _integrity(client.get(f"/incidents/{case_id}").text, eid)
    got = _post(client, case_id, f"/incidents/{case_id}/evidence/{eid}/download")
    assert got.status_code == 200 and got.content == DATA
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"

    (blob,) = list((runtime.settings.data_dir / "evidence").iterdir())
    raw = bytearray(blob.read_bytes())
    raw[-20] ^= 0xFF
    blob.write_bytes(bytes(raw))
    _post(client, case_id, f"/incidents/{case_id}/evidence/{eid}/verify")
    shown = _integrity(client.get(f"/incidents/{case_id}").text, eid)
    assert 'role="alert"' in shown and "TAMPERED:" in shown and "authentication failed" in shown
    refused = _post(client, case_id, f"/incidents/{case_id}/evidence/{eid}/download")
    assert refused.status_code == 409 and 'data-testid="evidence-error"' in refused.text
    assert "failed verification" in refused.text


def test_transfer_errors_and_roles(runtime: Runtime, as_role: Any) -> None:
    case_id = _new_case(runtime, [Sector.WATER])
    other = _new_case(runtime, [Sector.ENERGY])
    client = as_role(Role.RESPONDER)
    _post(client, case_id, f"/incidents/{case_id}/evidence", files={"file": ("a.bin", b"a")})
    with runtime.session() as session:
        (piece,) = incidents.evidence.list_evidence(session, case_id)
    moved = _post(
        client, case_id, f"/incidents/{case_id}/evidence/{piece.id}/transfer",
        data={"to": "Det. Roy", "note": "bag 7"},
    )  # fmt: skip
    assert moved.status_code == 303
    page = client.get(f"/incidents/{case_id}").text
    assert "held by Det. Roy" in page and 'data-action="transfer"' in page
    empty = _post(client, case_id, f"/incidents/{case_id}/evidence/{piece.id}/transfer")
    assert empty.status_code == 422 and 'data-testid="evidence-error"' in empty.text
    nofile = _post(client, case_id, f"/incidents/{case_id}/evidence")
    assert nofile.status_code == 422 and "Choose a file" in nofile.text
    viewer = as_role(Role.VIEWER)
    seen = viewer.get(f"/incidents/{case_id}").text
    assert f'data-testid="evidence-row-{piece.id}"' in seen
    assert "evidence-upload" not in seen and f"evidence-download-{piece.id}" not in seen
    token = csrf_from(seen)
    denied = viewer.post(
        f"/incidents/{case_id}/evidence/{piece.id}/download", data={"csrf_token": token}
    )
    assert denied.status_code == 403
    operator = as_role(Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    assert operator.get(f"/incidents/{other}").status_code == 404
    token = csrf_from(operator.get(f"/incidents/{case_id}").text)
    outside = operator.post(
        f"/incidents/{other}/evidence/{piece.id}/verify", data={"csrf_token": token}
    )
    assert outside.status_code == 404
