"""TAXII filters, version selection and paging on the seeded fixture's high-value collection
(8 object versions: 3 of one indicator, a STIX 2.0 and a 2.1 version of one malware)."""

from __future__ import annotations

import pytest

from civicshield.intel import taxii
from civicshield.runtime import Runtime

from .conftest import HIGH_VALUE, INDICATOR, MALWARE, ROOT, member, query


def _ids(rt: Runtime, q: taxii.Query, **kw: object) -> list[tuple[str, str]]:
    with rt.session() as session:
        page = taxii.objects_page(session, member(rt), ROOT, HIGH_VALUE, q, view="manifest", **kw)  # type: ignore[arg-type]
    return [(m["id"], m["version"]) for m in page.items]


def test_default_is_the_last_version_of_the_latest_spec_sorted_by_date_added(
    seeded: Runtime,
) -> None:
    got = _ids(seeded, query())
    assert [i.split("--")[0] for i, _ in got] == [
        "relationship",
        "indicator",
        "marking-definition",
        "malware",
        "indicator",
    ]
    assert (INDICATOR, "2017-01-27T13:49:53.935Z") in got
    assert (MALWARE, "2017-01-27T13:49:53.997Z") in got  # 2.1 wins over the later 2.0 version


def test_version_filters(seeded: Runtime) -> None:
    assert len(_ids(seeded, query(version="all"))) == 7
    assert len(_ids(seeded, query(version="all", spec_version="2.0,2.1"))) == 8
    first = _ids(seeded, query(version="first", id=INDICATOR))
    assert first == [(INDICATOR, "2016-11-03T12:30:59.000Z")]
    at = _ids(seeded, query(version="2016-12-25T12:30:59.444Z"))
    assert at == [(INDICATOR, "2016-12-25T12:30:59.444Z")]
    both = _ids(seeded, query(version="first,last", id=INDICATOR))
    assert len(both) == 2
    assert _ids(seeded, query(spec_version="2.0")) == [(MALWARE, "2018-02-23T18:30:00.000Z")]


def test_type_id_and_added_after(seeded: Runtime) -> None:
    assert {i for i, _ in _ids(seeded, query(type="indicator"))} == {
        INDICATOR,
        "indicator--cd981c25-8042-4166-8945-51178443bdac",
    }
    assert {i for i, _ in _ids(seeded, query(type="malware,relationship"))} == {
        MALWARE,
        "relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463",
    }
    # Both were added at the same moment: the seed file's order breaks the tie.
    assert _ids(seeded, query(id=MALWARE, version="all", spec_version="2.0,2.1")) == [
        (MALWARE, "2018-02-23T18:30:00.000Z"),
        (MALWARE, "2017-01-27T13:49:53.997Z"),
    ]
    # Strictly after: the version added at exactly 2016-11-03T12:30:59.001Z is left out.
    after = _ids(seeded, query(added_after="2016-11-03T12:30:59.001Z", version="all"))
    assert (INDICATOR, "2016-11-03T12:30:59.000Z") not in after
    assert (INDICATOR, "2016-12-25T12:30:59.444Z") in after
    assert _ids(seeded, query(added_after="2030-01-01T00:00:00Z")) == []


def test_paging_with_next_returns_each_version_once(seeded: Runtime) -> None:
    q = query(version="all", spec_version="2.0,2.1", limit="3")
    seen, pages, token = [], 0, None
    with seeded.session() as session:
        caller = member(seeded)
        while True:
            page_q = taxii.Query(**{**q.__dict__, "next": token})
            page = taxii.objects_page(session, caller, ROOT, HIGH_VALUE, page_q, view="manifest")
            seen += [(m["id"], m["version"]) for m in page.items]
            pages += 1
            assert page.first_added == page.items[0]["date_added"]
            assert page.last_added == page.items[-1]["date_added"]
            if not page.more:
                assert page.next is None
                break
            token = page.next
    assert pages == 3
    assert len(seen) == len(set(seen)) == 8
    assert seen == _ids(seeded, query(version="all", spec_version="2.0,2.1"))


def test_limit_is_capped_by_the_page_size_and_bad_parameters_are_400() -> None:
    assert query(page_size=5, limit="50").limit == 5
    assert query(page_size=5).limit == 5
    for params, name in (
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"added_after": "yesterday"}, "added_after"),
        ({"version": "newest"}, "match[version]"),
        ({"spec_version": "2.2"}, "match[spec_version]"),
    ):
        with pytest.raises(taxii.BadTaxiiRequest, match=name.replace("[", r"\[")) as caught:
            query(**params)
        assert caught.value.status == 400


def test_a_bad_or_foreign_next_token_is_400(seeded: Runtime) -> None:
    with seeded.session() as session:
        caller = member(seeded)
        page = taxii.objects_page(session, caller, ROOT, HIGH_VALUE, query(limit="2"))
        assert page.more and page.next
        other = taxii.Query(**{**query(type="indicator").__dict__, "next": page.next})
        with pytest.raises(taxii.BadTaxiiRequest, match="other filters"):
            taxii.objects_page(session, caller, ROOT, HIGH_VALUE, other)
        garbage = taxii.Query(**{**query().__dict__, "next": "not-a-token"})
        with pytest.raises(taxii.BadTaxiiRequest, match="next"):
            taxii.objects_page(session, caller, ROOT, HIGH_VALUE, garbage)
        # Another page size with the same filters is fine (clients adjust `limit`).
        same = taxii.Query(**{**query(limit="5").__dict__, "next": page.next})
        assert len(taxii.objects_page(session, caller, ROOT, HIGH_VALUE, same).items) == 3


def test_versions_view_of_one_object(seeded: Runtime) -> None:
    q = taxii.parse_query({}, page_size=100, default_version="all", all_specs=True)
    with seeded.session() as session:
        page = taxii.objects_page(
            session, member(seeded), ROOT, HIGH_VALUE, q, view="versions", object_id=INDICATOR
        )
    assert page.items == [
        "2016-11-03T12:30:59.000Z",
        "2016-12-25T12:30:59.444Z",
        "2017-01-27T13:49:53.935Z",
    ]
