"""Tender logic without a database or network: validation, categories, merging,
pagination parsing and the client's retry policy (over httpx.MockTransport)."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import inngest
import pytest

from jobmatch.deadline import Deadline
from jobmatch.events.tenders import TenderBackfillRequested, TenderSyncRequested
from jobmatch.outbound import retry_after_seconds
from jobmatch.settings import get_settings
from jobmatch.tenders.categories import CATEGORIES, CPV_DIVISIONS, rule_category
from jobmatch.tenders.compile import MERGED_FIELDS, compile_page, compile_release, merge, stamp
from jobmatch.tenders.ocds_client import (
    OCDSClient,
    PublisherRejectedError,
    PublisherUnavailableError,
    next_link,
    page_count,
)
from jobmatch.tenders.releases import Release, parse_releases
from tests.tenders_support import standard_releases


def release(
    ocid: str = "ocds-x-1", rid: str = "r1", date: str = "2025-03-01T00:00:00Z", **tender: Any
) -> dict[str, Any]:
    return {"ocid": ocid, "id": rid, "date": date, "tag": ["tender"], "tender": tender}


# ---------------------------------------------------------------- categories
@pytest.mark.parametrize(
    ("scheme", "code", "description", "title", "expected"),
    [
        ("CPV", "45210000", None, None, "construction"),
        ("CPV", "72267000", None, None, "it-services"),
        ("CPV", "33141000", None, None, "medical"),
        ("CPV", "71311000-1", None, None, "architecture-engineering"),  # with check digit
        ("CPV", "79714000", None, None, "security-defence"),  # group beats division 79
        ("CPV", "79411000", None, None, "professional-services"),
        (None, "90910000", None, None, "environmental"),  # no scheme, CPV shape
        ("UNSPSC", "43211507", "Desktop computers", None, "computer-equipment"),
        ("CPV", "99999999", None, "Road resurfacing", "construction"),  # unknown division
        (None, None, None, "Security guarding at offices", "security-defence"),
        (None, None, None, "Provision of specialised services", None),
    ],
)
def test_rule_category(
    scheme: str | None,
    code: str | None,
    description: str | None,
    title: str | None,
    expected: str | None,
) -> None:
    assert rule_category(scheme, code, description, title) == expected


def test_every_mapped_category_is_a_known_category() -> None:
    assert set(CPV_DIVISIONS.values()) <= set(CATEGORIES)


# ---------------------------------------------------------------- validation
def test_bad_optional_fields_are_dropped_and_counted_bad_required_ones_skip() -> None:
    raw = [
        release(
            value={"amount": "480000.00", "currency": "ZAR"},
            items=[{"id": 1, "classification": {"scheme": "CPV", "id": 72267000}}],
        ),
        release(date="2025-03-01T10:00:00"),  # no zone: UTC
        {"id": "r3", "date": "2025-03-01T00:00:00Z"},  # no ocid
        release(date="yesterday"),
        release(rid="", title="no release id"),
        release(title="Hall", value={"amount": "about a million", "currency": "ZAR"}),
        "not an object",
    ]
    parsed = parse_releases(raw)
    assert parsed.malformed == 4
    good = parsed.releases
    assert good[0].tender is not None
    assert good[0].tender.value is not None
    assert good[0].tender.value.amount == Decimal("480000.00")
    assert good[0].tender.items[0].classification is not None
    assert good[0].tender.items[0].classification.id == "72267000"
    assert good[1].date == datetime(2025, 3, 1, 10, tzinfo=UTC)
    kept = compile_release(good[2])  # the amount went, the title and currency stayed
    assert (kept["title"], kept["value_amount"], kept["value_currency"]) == ("Hall", None, "ZAR")
    assert parsed.invalid_fields == {"tender.value.amount": 1}
    assert raw[5]["tender"]["value"]["amount"] == "about a million"  # input left as sent


def test_buyer_falls_back_to_the_party_with_the_buyer_role() -> None:
    r = Release.model_validate(
        {
            **release(),
            "parties": [
                {"id": "P", "name": "Payer", "roles": ["payer"]},
                {"id": "B", "name": "Buyer Org", "roles": ["buyer"]},
            ],
        }
    )
    assert compile_release(r)["buyer_name"] == "Buyer Org"
    named = Release.model_validate(
        {**release(), "buyer": {"id": "B"}, "parties": [{"id": "B", "name": "Named"}]}
    )
    assert compile_release(named)["buyer_name"] == "Named"


# ---------------------------------------------------------------- real feeds
# Published packages (tests/fixtures/ocds/standard/README.md): Paraguay's DNCP
# publishes one contracting process in both shapes; Mexico City's finance
# secretariat publishes 1.0 (buyer by `identifier`, a procuring entity, no parties);
# the standard's worked example has a tender, its amendment and later stages.
MEXICO_CITY = "ocds-1.0-mexico-city-tender.json"
PARAGUAY_1_0 = "ocds-1.0-paraguay-scanner.json"
PARAGUAY_1_1 = "ocds-1.1-paraguay-scanner.json"
PARAGUAY_TENDER = "ocds-1.1-paraguay-tender.json"
WORKED_EXAMPLE = "ocds-1.1-worked-example.json"
MEXICO_CITY_BUYER = ("GDF9712054NA", "SECRETARÍA DE FINANZAS")


def test_one_process_published_as_1_0_and_as_1_1_compiles_to_the_same_tender() -> None:
    [v10] = standard_releases(PARAGUAY_1_0)
    [v11] = standard_releases(PARAGUAY_1_1)
    assert "parties" not in v10
    assert "parties" in v11
    rows = [compile_release(Release.model_validate(r)) for r in (v10, v11)]
    same = [name for name in MERGED_FIELDS if name != "buyer_id"]
    assert {k: rows[0][k] for k in same} == {k: rows[1][k] for k in same}
    row = rows[0]
    assert row["title"] == "Adquisición de Scanner"
    assert row["buyer_name"] == "Dirección Nacional de Contrataciones Públicas (DNCP)"
    assert (row["value_amount"], row["value_currency"]) == (None, "PYG")  # amount: null
    assert row["tender_start"] == datetime(2010, 3, 15, 9, tzinfo=UTC)
    # The buyer's id: 1.1 gives it; this 1.0 release names the buyer without one.
    assert (rows[0]["buyer_id"], rows[1]["buyer_id"]) == (None, "a02fc5eae413fa29686db8eff8b439b6")


def test_ocds_1_0_buyer_is_read_from_its_identifier() -> None:
    published = standard_releases(MEXICO_CITY)
    assert all("parties" not in r and "identifier" in r["buyer"] for r in published)
    for row in (compile_release(Release.model_validate(r)) for r in published):
        assert (row["buyer_id"], row["buyer_name"]) == MEXICO_CITY_BUYER
        assert row["title"] == "ARRENDAMIENTO DE BIENES INFORMÁTICOS"
        assert (row["value_amount"], row["value_currency"]) == (Decimal("1311264.0"), "MXN")
        assert row["items"] == [
            {
                "id": "1",
                "description": "COMPUTADORA PORTATIL TIPO 1",
                "scheme": None,
                "code": None,
                "quantity": "471",
            }
        ]
    # The second release re-publishes the first, two years later: it is the newest.
    [row] = compile_page([Release.model_validate(r) for r in published])
    assert (row["release_id"], row["published_at"]) == (
        "02",
        datetime(2015, 12, 22, 6, tzinfo=UTC),
    )


def test_an_amendment_and_later_stages_override_the_tender_field_by_field() -> None:
    releases = [Release.model_validate(r) for r in standard_releases(WORKED_EXAMPLE)]
    assert [r.tag for r in releases][1:3] == [["tender"], ["tenderAmendment"]]
    rows = [compile_page(order) for order in (releases, releases[::-1], releases[2::-1])]
    assert rows[0] == rows[1]
    [row] = rows[0]
    # The newest release (implementation) carries no tender: what it lacks survives.
    assert row["release_id"] == "ocds-213czf-000-00001-06-implementation"
    assert row["title"] == "Planned cycle lane improvements"
    assert row["status"] == "complete"  # from the award release
    assert (row["value_amount"], row["value_currency"]) == (Decimal(1100000), "GBP")  # tender
    assert row["tender_end"] == datetime(2010, 4, 8, 18, tzinfo=UTC)  # the amendment's
    assert row["published_at"] == datetime(2009, 3, 15, 14, 45, tzinfo=UTC)  # planning
    # Up to the amendment only: the amendment is the newest and moved the deadline.
    [amended] = rows[2]
    assert amended["release_id"] == "ocds-213czf-000-00001-03-tenderAmendment"
    assert (amended["status"], amended["value_amount"]) == ("active", Decimal(1100000))
    assert amended["tender_end"] == datetime(2010, 4, 8, 18, tzinfo=UTC)


def test_ocds_1_0_buyer_falls_back_to_the_procuring_entity_without_parties() -> None:
    raw = standard_releases(MEXICO_CITY)[0]
    del raw["buyer"]
    assert raw["tender"]["procuringEntity"]["identifier"]["id"] == MEXICO_CITY_BUYER[0]
    row = compile_release(Release.model_validate(raw))
    assert (row["buyer_id"], row["buyer_name"]) == MEXICO_CITY_BUYER
    # With parties (1.1), a procuring entity is not taken for the buyer.
    raw["parties"] = [{"id": "P", "name": "Payer", "roles": ["payer"]}]
    assert compile_release(Release.model_validate(raw))["buyer_id"] is None


def dirty(raw: dict[str, Any]) -> dict[str, Any]:
    """A real release as dirty feeds publish it: an empty endDate, a currency name,
    a quantity with its unit, and an item that is not an object."""
    out = copy.deepcopy(raw)
    tender = out["tender"]
    tender["tenderPeriod"]["endDate"] = ""
    tender["value"]["currency"] = "Pesos"
    tender["items"][0]["quantity"] = "10 units"
    tender["items"].append("see annex")
    return out


@pytest.mark.parametrize("name", [MEXICO_CITY, PARAGUAY_TENDER])
def test_a_dirty_real_release_keeps_everything_but_the_bad_fields(name: str) -> None:
    raw = standard_releases(name)[0]
    clean = compile_release(Release.model_validate(raw))
    parsed = parse_releases([dirty(raw)])
    assert parsed.malformed == 0
    assert parsed.invalid_fields == {
        "tender.tenderPeriod.endDate": 1,
        "tender.value.currency": 1,
        "tender.items.quantity": 1,
        "tender.items": 1,
    }
    row = compile_release(parsed.releases[0])
    bad = {"value_currency", "tender_end", "items", "field_dates"}
    assert {k: v for k, v in row.items() if k not in bad} == {
        k: v for k, v in clean.items() if k not in bad
    }
    assert None not in (clean["value_currency"], clean["tender_end"], clean["value_amount"])
    assert (row["value_currency"], row["tender_end"]) == (None, None)
    assert None not in (row["title"], row["value_amount"], row["buyer_id"], row["tender_start"])
    assert row["items"][0]["quantity"] is None  # the item stays, its quantity goes
    assert row["items"] == [clean["items"][0] | {"quantity": None}, *clean["items"][1:]]


# ---------------------------------------------------------------- compiling
ORIGINAL = release(
    rid="a",
    date="2025-03-01T00:00:00Z",
    title="Hall",
    description="Build a hall",
    status="planned",
    value={"amount": 100, "currency": "ZAR"},
    classification={"scheme": "CPV", "id": "45210000"},
)
AMENDMENT = release(
    rid="b", date="2025-03-02T00:00:00Z", status="active", value={"amount": 120, "currency": "ZAR"}
)
UPDATE = release(rid="c", date="2025-03-03T00:00:00Z", title="Hall (re-advertised)")


def test_newest_release_wins_field_by_field_in_any_order() -> None:
    releases = [Release.model_validate(r) for r in (ORIGINAL, AMENDMENT, UPDATE)]
    results = [compile_page(order) for order in itertools.permutations(releases)]
    assert all(r == results[0] for r in results)
    [row] = results[0]
    assert row["title"] == "Hall (re-advertised)"
    assert row["description"] == "Build a hall"
    assert row["status"] == "active"
    assert row["value_amount"] == Decimal(120)
    assert row["release_id"] == "c"
    assert row["published_at"] == datetime(2025, 3, 1, tzinfo=UTC)
    assert row["detailed_category"] == "construction"


def test_ties_on_date_are_broken_by_release_id_in_code_point_order() -> None:
    # Same date: "tender-a" is newer than "tender-B" (code points: "B" < "a"),
    # whatever order they come in, one page or two.
    upper = release(rid="tender-B", title="Upper", status="planned")
    lower = release(rid="tender-a", title="Lower")
    rows = [compile_release(Release.model_validate(r)) for r in (upper, lower)]
    assert stamp(Release.model_validate(upper)) < stamp(Release.model_validate(lower))
    for first, second in itertools.permutations(rows):
        merged = merge(first, second)
        assert (merged["title"], merged["status"], merged["release_id"]) == (
            "Lower",
            "planned",
            "tender-a",
        )
    in_page = compile_page([Release.model_validate(r) for r in (lower, upper)])
    assert in_page == [merge(rows[0], rows[1])]


def test_a_new_classification_resets_the_category() -> None:
    old = compile_release(Release.model_validate(ORIGINAL)) | {
        "detailed_category": "construction",
        "category_source": "ai",
    }
    same = compile_release(Release.model_validate(AMENDMENT))
    assert merge(old, same)["category_source"] == "ai"
    moved = compile_release(
        Release.model_validate(
            release(
                rid="z",
                date="2025-03-09T00:00:00Z",
                classification={"scheme": "CPV", "id": "72000000"},
            )
        )
    )
    assert (merge(old, moved)["detailed_category"], merge(old, moved)["category_source"]) == (
        "it-services",
        "rules",
    )


# ---------------------------------------------------------------- pagination
def test_page_count_and_next_link() -> None:
    assert page_count({"totalPages": 3}) == 3
    assert page_count({"meta": {"pageCount": 2}}) == 2
    assert page_count({"releases": []}) is None
    here = "https://pub.example/ocds?cursor=1"
    assert next_link({"links": {"next": "?cursor=2"}}, here) == "https://pub.example/ocds?cursor=2"
    assert next_link({"links": {"next": here}}, here) is None  # a loop ends the feed
    assert next_link({"links": {}}, here) is None
    with pytest.raises(PublisherRejectedError):
        next_link({"links": {"next": "https://elsewhere.example/x"}}, here)


def test_retry_after() -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Sat, 01 Mar 2025 00:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


class Script:
    """A publisher in a MockTransport: answers in order, records what was asked."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


def package(releases: list[dict[str, Any]], **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"releases": releases, **extra})


def client(script: Script, sleeps: list[float], **overrides: Any) -> OCDSClient:
    settings = get_settings().model_copy(
        update={
            "ocds_base_url": "https://pub.example",
            "ocds_page_size": 2,
            "ocds_max_attempts": 4,
            "ocds_backoff_seconds": 0.5,
            "ocds_page_budget_seconds": 15.0,
            **overrides,
        }
    )
    now = [0.0]  # time stands still except for the sleeps

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    return OCDSClient(
        settings, transport=httpx.MockTransport(script), sleep=sleep, clock=lambda: now[0]
    )


FROM, TO = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 31, tzinfo=UTC)
RELEASE_OK = release()


def test_page_style_uses_the_reported_page_count() -> None:
    script = Script(package([release(), release(rid="r2")], totalPages=2))
    page = client(script, []).fetch_page(FROM, TO, None)
    assert page.next_ref == 2
    assert page.fetched == 2
    params = script.requests[0].url.params
    assert (params["PageNumber"], params["PageSize"]) == ("1", "2")
    assert params["dateFrom"] == "2025-03-01T00:00:00Z"
    last = Script(package([release()], totalPages=2))
    assert client(last, []).fetch_page(FROM, TO, 2).next_ref is None


def test_page_style_without_counts_ends_only_on_an_empty_page() -> None:
    short = Script(package([release()]))  # short page mid-feed: keep going
    assert client(short, []).fetch_page(FROM, TO, 3).next_ref == 4
    empty = Script(package([]))
    assert client(empty, []).fetch_page(FROM, TO, 4).next_ref is None


def test_links_style_follows_next_and_sends_dates_only_first() -> None:
    script = Script(
        package([release()], links={"next": "https://pub.example/pkgs?cursor=abc"}),
        package([release(rid="r2")]),
    )
    c = client(
        script, [], ocds_pagination="links", ocds_releases_path="/pkgs", ocds_date_format="date"
    )
    first = c.fetch_page(FROM, TO, None)
    assert first.next_ref == "https://pub.example/pkgs?cursor=abc"
    assert script.requests[0].url.params["dateFrom"] == "2025-03-01"
    assert c.fetch_page(FROM, TO, first.next_ref).next_ref is None
    assert str(script.requests[1].url) == "https://pub.example/pkgs?cursor=abc"


@pytest.mark.parametrize("releases", [{"release": [RELEASE_OK]}, "none", 0])
def test_a_page_whose_releases_is_not_a_list_is_skipped_when_the_next_page_is_known(
    releases: object,
) -> None:
    # Page style without page counts: only an empty page would end the feed, and a
    # truthy non-list is not empty; the next page would be asked for, and the next.
    # So without counts the feed ends at the broken page.
    script = Script(httpx.Response(200, json={"releases": releases}))
    page = client(script, []).fetch_page(FROM, TO, 2)
    assert (page.malformed_page, page.next_ref, page.fetched) == (True, None, 0)
    # With counts, or a next link, the pages after it are still read.
    counted = Script(httpx.Response(200, json={"releases": releases, "pageCount": 5}))
    assert client(counted, []).fetch_page(FROM, TO, 2).next_ref == 3
    last = Script(httpx.Response(200, json={"releases": releases, "pageCount": 5}))
    assert client(last, []).fetch_page(FROM, TO, 5).next_ref is None
    links = Script(
        httpx.Response(200, json={"releases": releases, "links": {"next": "/p?cursor=2"}})
    )
    skipped = client(links, [], ocds_pagination="links").fetch_page(FROM, TO, None)
    assert (skipped.malformed_page, skipped.next_ref) == (True, "https://pub.example/p?cursor=2")
    no_next = Script(httpx.Response(200, json={"releases": releases}))
    assert client(no_next, [], ocds_pagination="links").fetch_page(FROM, TO, None).next_ref is None


def test_5xx_and_429_are_retried_with_backoff_and_retry_after() -> None:
    sleeps: list[float] = []
    script = Script(
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(502),
        package([release()]),
    )
    page = client(script, sleeps).fetch_page(FROM, TO, None)
    assert page.fetched == 1
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 0.625  # backoff with jitter
    assert sleeps[1] == 3.0  # Retry-After honoured
    assert 2.0 <= sleeps[2] <= 2.5


def test_retries_stop_at_the_attempt_limit_and_the_page_budget() -> None:
    script = Script(*[httpx.Response(503)] * 4)
    with pytest.raises(PublisherUnavailableError, match="4 attempts"):
        client(script, []).fetch_page(FROM, TO, None)
    sleeps: list[float] = []
    slow = Script(httpx.Response(429, headers={"Retry-After": "60"}))
    with pytest.raises(PublisherUnavailableError):
        client(slow, sleeps).fetch_page(FROM, TO, None)
    assert sleeps == []  # would overrun the step budget: fail now, Inngest retries later


def test_the_step_deadline_ends_retries_and_bounds_each_request() -> None:
    # 1.5 s left in the step: the page budget (15 s) and the attempt limit (4) would
    # allow three backoffs; the step's deadline allows one (0.5 s, then 1 s is too
    # long), and no request may wait longer than what is left.
    sleeps: list[float] = []
    script = Script(*[httpx.Response(503)] * 4)
    c = client(script, sleeps)
    with pytest.raises(PublisherUnavailableError, match="2 attempts"):
        c.fetch_page(FROM, TO, None, Deadline.after(1.5, c._clock))
    assert len(sleeps) == 1
    assert [r.extensions["timeout"]["read"] for r in script.requests] == [1.5, 1.5 - sleeps[0]]


def test_4xx_and_non_packages_are_rejected_without_retry() -> None:
    for answer in (
        httpx.Response(400),
        httpx.Response(200, json={"records": []}),
        httpx.Response(200, content=b"<html>"),
    ):
        script = Script(answer)
        with pytest.raises(PublisherRejectedError):
            client(script, []).fetch_page(FROM, TO, None)
        assert len(script.requests) == 1


# ---------------------------------------------------------------- events
def test_event_validation() -> None:
    assert TenderSyncRequested.parse({}).triggered_by == "unknown"
    with pytest.raises(inngest.NonRetriableError, match="maxEnrichment"):
        TenderSyncRequested.parse({"maxEnrichment": -5})
    with pytest.raises(inngest.NonRetriableError, match="after dateTo"):
        TenderBackfillRequested.parse(
            {"dateFrom": "2025-03-02T00:00:00Z", "dateTo": "2025-03-01T00:00:00Z"}
        )
    ok = TenderBackfillRequested.parse(
        {"dateFrom": "2025-03-01T00:00:00Z", "dateTo": "2025-03-02T00:00:00Z"}
    )
    assert ok.date_to - ok.date_from == timedelta(days=1)
    assert json.dumps(ok.model_dump(mode="json", by_alias=True))
