"""The dashboard's patient list shows one page at a time (``limit`` ids from ``offset``, default
50), with the total and page links; the live filter searches every patient, then pages the
matches. Over a real server (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import html
import re
from contextlib import closing

import httpx

import immunoprecise as ip
from immunoprecise.registry import Registry
from service.service_server import Server
from service.test_dashboard import _login

PATIENTS_PER_PAGE = 50  # the default page size
LISTED = re.compile(r'<li><a href="/patients/([^"]+)">')


def store_patients(server: Server, n: int) -> list[str]:
    """Store ``n`` copies of a shipped example as patients ``PG-0001`` … (sorted ids)."""
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    ids = [f"PG-{i:04d}" for i in range(1, n + 1)]
    records = [
        record.model_copy(update={"patient": record.patient.model_copy(update={"id": pid})})
        for pid in ids
    ]
    with Registry.open(server.db_url) as registry:
        registry.add_records(records, actor="pytest")
    return ids


def _listed(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text[:500]
    return LISTED.findall(page.text)


def test_the_patient_list_shows_one_page_with_the_total_and_page_links(server: Server) -> None:
    ids = store_patients(server, 120)
    client, _ = _login(server, "clinician")
    with closing(client):
        first = client.get("/patients")
        second = client.get("/patients", params={"offset": PATIENTS_PER_PAGE})
        small = client.get("/patients/list", params={"limit": 25, "offset": 100})
    assert _listed(first) == ids[:PATIENTS_PER_PAGE]
    assert "1–50 of 120 patients" in first.text
    links = set(re.findall(r'href="/patients\?([^"]+)"', html.unescape(first.text)))
    assert {"limit=50&offset=50", "limit=50&offset=100"} <= links
    assert _listed(second) == ids[50:100]
    assert "51–100 of 120 patients" in second.text
    assert _listed(small) == ids[100:120]
    assert "101–120 of 120 patients" in small.text
    assert 'hx-get="/patients/list?limit=25&amp;offset=75"' in small.text  # previous page


def test_the_filter_searches_all_patients_then_pages_the_matches(server: Server) -> None:
    ids = store_patients(server, 120)
    client, _ = _login(server, "clinician")
    with closing(client):
        found = client.get("/patients/list", params={"q": "pg-011"})
        paged = client.get("/patients/list", params={"q": "pg-0", "limit": 10, "offset": 110})
    assert _listed(found) == [p for p in ids if "PG-011" in p]  # beyond the first page
    assert "10 patients matching" in found.text
    assert _listed(paged) == ids[110:]
    assert "111–120 of 120 patients matching" in paged.text
    assert "q=pg-0&amp;limit=10&amp;offset=100" in paged.text  # links keep the filter


def test_a_page_past_the_end_says_how_many_there_are(server: Server) -> None:
    store_patients(server, 3)
    client, _ = _login(server, "clinician")
    with closing(client):
        past = client.get("/patients", params={"offset": 500})
    assert _listed(past) == []
    assert "3 patients" in past.text
    assert "in all" in past.text


def test_a_bad_page_size_or_offset_names_the_value(server: Server) -> None:
    client, _ = _login(server, "clinician")
    with closing(client):
        for name, value in (("limit", "0"), ("limit", "ten"), ("offset", "-1")):
            bad = client.get("/patients/list", params={name: value})
            assert bad.status_code == 422, bad.text[:300]
            text = html.unescape(bad.text)
            assert name in text
            assert repr(value) in text
            assert "Traceback" not in text


def test_many_pages_link_the_first_the_last_and_those_around_the_one_shown(server: Server) -> None:
    ids = store_patients(server, 120)
    client, _ = _login(server, "clinician")
    with closing(client):
        shown = client.get("/patients/list", params={"limit": 1, "offset": 60})
    assert _listed(shown) == [ids[60]]
    numbers = re.findall(r'hx-target="#patient-list">(\d+)</a>', shown.text)
    assert numbers == ["1", "58", "59", "60", "62", "63", "64", "120"]
    assert '<strong aria-current="page">61</strong>' in shown.text
    assert shown.text.count("…") == 2
