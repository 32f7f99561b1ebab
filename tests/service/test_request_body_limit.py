"""Every request body is limited as it arrives (the largest cohort upload plus 1 MiB), whoever
sends it, and a JSON body that is not UTF-8 is a 422 naming the byte: over a real server
(SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import immunoprecise as ip
from immunoprecise.service.app import BODY_OVERHEAD_BYTES, MAX_UPLOAD_BYTES
from service.service_server import Server

API = "/api/v1"
LIMIT = MAX_UPLOAD_BYTES + BODY_OVERHEAD_BYTES
JSON = {"Content-Type": "application/json"}


def _chunks(size: int) -> Iterator[bytes]:
    """``size`` bytes of JSON white space, sent without a Content-Length (chunked)."""
    block = b" " * (1 << 20)
    while size > 0:
        yield block[:size]
        size -= len(block)


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: Server) -> None:
    too_large = b" " * (LIMIT + 1)
    with server.client("clinician") as clinician:
        declared = clinician.post(f"{API}/patients", content=too_large, headers=JSON)
        streamed = clinician.post(f"{API}/patients", content=_chunks(LIMIT + 1), headers=JSON)
    with server.client(token="not-a-token") as stranger:
        stranger_declared = stranger.post(f"{API}/patients", content=too_large, headers=JSON)
        stranger_streamed = stranger.post(
            f"{API}/patients", content=_chunks(LIMIT + 1), headers=JSON
        )
    with server.client() as browser:
        page = browser.post(
            "/login",
            content=too_large,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    expected = f"the request body is larger than {LIMIT:,} bytes"
    for answer in (declared, streamed, stranger_declared):
        assert answer.status_code == 413, answer.text
        assert answer.json()["detail"].startswith(expected)
    assert stranger_streamed.status_code == 401  # read up to the limit only, then the token
    assert page.status_code == 413
    assert page.headers["content-type"].startswith("text/html")
    assert expected in page.text


def test_a_body_at_the_limit_is_read(server: Server) -> None:
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    text = json.dumps(record).encode()
    padded = text + b" " * (LIMIT - len(text))
    with server.client("clinician") as clinician:
        stored = clinician.post(f"{API}/patients", content=padded, headers=JSON)
    assert stored.status_code == 201, stored.text[:300]


def test_a_json_body_that_is_not_utf8_names_the_byte(server: Server) -> None:
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    record["patient"]["id"] = "SYN-Ñú-002"
    latin1 = json.dumps(record, ensure_ascii=False).encode("latin-1")
    position = latin1.index("Ñ".encode("latin-1"))
    with server.client("clinician") as clinician:
        answer = clinician.post(
            f"{API}/patients",
            content=latin1,
            headers={"Content-Type": "application/json; charset=latin-1"},
        )
    with server.client(token="not-a-token") as stranger:
        refused = stranger.post(f"{API}/patients", content=latin1, headers=JSON)
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == "body"
    assert problem["message"].startswith(
        f"the body is not UTF-8: byte 0xd1 at position {position:,} is not valid UTF-8"
    )
    assert refused.status_code == 401
