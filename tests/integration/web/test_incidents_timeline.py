"""The case page's observables and timeline sections, the timeline exports, the report page
and its PDF, and the metrics page: per role and sector scope."""

from __future__ import annotations

import csv
import io
from typing import Any

from civicshield import incidents
from civicshield.core import SYSTEM, Role, Sector
from civicshield.incidents import CaseCreate
from civicshield.incidents.observables import ObservableCreate, add_observable, list_observables
from civicshield.runtime import Runtime
from tests.integration.web.support import post_form


def _new_case(rt: Runtime, title: str, sectors: list[Sector]) -> int:
    with rt.session() as session:
        data = CaseCreate(title=title, sectors=sectors)
        return incidents.create_case(session, data, actor=SYSTEM, clock=rt.clock).id


def _share(rt: Runtime, case_id: int, value: str) -> int:
    with rt.session() as s:
        data = ObservableCreate(type="ipv4", value=value)
        return add_observable(s, case_id, data, actor=SYSTEM, clock=rt.clock).id


def test_observables_add_errors_remove_and_related(runtime: Runtime, as_role: Any) -> None:
    water = _new_case(runtime, "Pump station PLC writes", [Sector.WATER])
    other = _new_case(runtime, "Second pump", [Sector.WATER])
    energy = _new_case(runtime, "Substation scan", [Sector.ENERGY])
    _share(runtime, other, "203.0.113.7")
    _share(runtime, energy, "203.0.113.7")
    client = as_role(Role.ANALYST)
    url = f"/incidents/{water}"
    bad = post_form(client, url, f"{url}/observables", {"type": "ipv4", "value": "10.0.0.300"})
    assert bad.status_code == 422 and 'data-testid="observable-error"' in bad.text
    assert "IPv4" in bad.text and 'value="10.0.0.300"' in bad.text
    short = post_form(client, url, f"{url}/observables", {"type": "md5", "value": "abc"})
    assert short.status_code == 422 and "32 hexadecimal" in short.text
    ok = post_form(
        client, url, f"{url}/observables", {"type": "ipv4", "value": " 203.0.113.7 ", "ioc": "on"}
    )
    assert ok.status_code == 303
    again = post_form(client, url, f"{url}/observables", {"type": "ipv4", "value": "203.0.113.7"})
    assert again.status_code == 409
    with runtime.session() as s:
        (added,) = list_observables(s, water)
    assert added.ioc and added.value == "203.0.113.7"
    page = client.get(url).text
    assert f'data-testid="observable-row-{added.id}"' in page
    assert f'data-testid="related-case-{other}"' in page
    assert f'data-testid="related-case-{energy}"' in page
    assert 'data-testid="observable-add"' in page and 'data-testid="observable-type"' in page
    operator = as_role(Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    seen = operator.get(url).text
    assert f'data-testid="related-case-{other}"' in seen
    assert f'related-case-{energy}"' not in seen
    viewer = as_role(Role.VIEWER)
    assert 'data-testid="observable-add"' not in viewer.get(url).text
    removed = post_form(client, url, f"{url}/observables/{added.id}/delete")
    assert removed.status_code == 303
    with runtime.session() as s:
        assert list_observables(s, water) == []


def test_timeline_section_exports_report_and_metrics(runtime: Runtime, as_role: Any) -> None:
    water = _new_case(runtime, "=HYPERLINK(pump)", [Sector.WATER])
    energy = _new_case(runtime, "Substation scan", [Sector.ENERGY])
    _share(runtime, water, "198.51.100.1")
    client = as_role(Role.VIEWER)
    page = client.get(f"/incidents/{water}").text
    assert page.count('data-testid="timeline-entry"') >= 2
    assert 'data-testid="timeline-export-csv"' in page and 'data-testid="report-link"' in page
    only = client.get(f"/incidents/{water}?kind=observable").text
    assert only.count('data-testid="timeline-entry"') == 1
    rows = list(csv.DictReader(io.StringIO(client.get(f"/incidents/{water}/timeline.csv").text)))
    assert {r["kind"] for r in rows} == {"action", "observable"}
    data = client.get(f"/incidents/{water}/timeline.json").json()
    assert data["case_id"] == water and len(data["entries"]) == len(rows)
    printable = client.get(f"/incidents/{water}/timeline/print")
    assert printable.status_code == 200 and "198.51.100.1" in printable.text
    report = client.get(f"/incidents/{water}/report?blocks=segment-ot&lang=es")
    assert report.status_code == 200 and 'data-testid="report-pdf"' in report.text
    assert "Segmentar la red OT de la red TI" in report.text
    bad = client.get(f"/incidents/{water}/report?blocks=nope")
    assert bad.status_code == 422 and "nope" in bad.text
    pdf = client.get(f"/incidents/{water}/report.pdf?blocks=segment-ot")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    operator = as_role(Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    assert operator.get(f"/incidents/{energy}/timeline.csv").status_code == 404
    assert operator.get(f"/incidents/{energy}/report").status_code == 404
    metrics = client.get("/incidents/metrics?period=all")
    assert metrics.status_code == 200 and 'data-testid="metrics-sector-water"' in metrics.text
    mine = operator.get("/incidents/metrics?period=all").text
    assert 'data-testid="metrics-sector-water"' in mine
    assert 'data-testid="metrics-sector-energy"' not in mine
