"""A record file the dashboard cannot read is refused saying why in words (an empty file, the
first byte that is not UTF-8, the line and column where reading stopped), never with the name
of a Python exception. Over a real server (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import re

import pytest

from service.service_server import Server
from service.test_dashboard import _login

UPLOADS = [
    # file name, content, words the page must show
    ("empty.json", b"", "the file is empty"),
    ("blank.json", b"  \n", "the file is empty"),
    (
        "latin1.json",
        b'{"patient": {"id": "Jos\xe9"}}',
        "byte 0xe9 at position 23 is not valid UTF-8",
    ),
    ("cut.json", b'{"patient":\n  {"id": "A1",\n', "line 3, column 1"),
    ("cut.yaml", b"patient: [1, 2\n", "line 2, column 1"),
]


@pytest.mark.parametrize(("name", "content", "words"), UPLOADS)
def test_an_unreadable_record_file_is_refused_saying_why(
    server: Server, name: str, content: bytes, words: str
) -> None:
    client, csrf = _login(server, "clinician")
    try:
        answer = client.post(
            "/patients/import",
            data={"csrf_token": csrf},
            files={"file": (name, content, "application/octet-stream")},
        )
        listed = client.get("/patients/list")
    finally:
        client.close()
    assert answer.status_code == 422, answer.text[:500]
    text = re.sub(r"\s+", " ", answer.text)
    assert f"{name}: not readable as UTF-8" in text
    assert words in text
    assert "Error)" not in text  # JSONDecodeError, ParserError, UnicodeDecodeError
    assert "upload a record as JSON or YAML" in text
    assert "SYN-" not in listed.text  # nothing was stored
