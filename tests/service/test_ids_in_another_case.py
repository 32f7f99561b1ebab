"""Patient ids are case-sensitive: asking for ``syn-crc-001`` when ``SYN-CRC-001`` is stored is
a 404 whose detail names the stored id (for researchers: the pseudonym) that differs only in
case, on the REST API and the dashboard (real server, SQLite and PostgreSQL when configured)."""

from __future__ import annotations

import json
from contextlib import closing

import immunoprecise as ip
from service.service_server import Server
from service.test_dashboard import _login

API = "/api/v1"


def _store_crc(server: Server) -> str:
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    with server.client("clinician") as clinician:
        assert clinician.post(f"{API}/patients", json=record).status_code == 201
    return str(record["patient"]["id"])


def test_the_404_names_the_id_that_differs_in_case(server: Server) -> None:
    pid = _store_crc(server)
    lower = pid.lower()
    with server.client("clinician") as clinician:
        answers = {
            "latest": clinician.get(f"{API}/patients/{lower}"),
            "versions": clinician.get(f"{API}/patients/{lower}/versions"),
            "evaluations": clinician.get(f"{API}/patients/{lower}/evaluations"),
            "evaluate": clinician.post(f"{API}/evaluate", json={"patient_id": lower}),
        }
        unknown = clinician.get(f"{API}/patients/SYN-CRC-999")
    for name, answer in answers.items():
        assert answer.status_code == 404, (name, answer.text)
        assert answer.json()["detail"] == (
            f"no patient {lower!r} in the registry; patient ids are case-sensitive, and the "
            f"registry holds {pid!r}"
        ), name
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no patient 'SYN-CRC-999' in the registry"


def test_researchers_are_named_the_pseudonym_never_the_id(server: Server) -> None:
    pid = _store_crc(server)
    with server.client("researcher") as researcher:
        pseudonym = researcher.get(f"{API}/patients").json()["patients"][0]
        upper = researcher.get(f"{API}/patients/{pseudonym.upper()}")
        real_id = researcher.get(f"{API}/patients/{pid.lower()}")
    assert upper.status_code == 404, upper.text
    assert upper.json()["detail"] == (
        f"no patient {pseudonym.upper()!r} in the registry; pseudonyms are case-sensitive, and "
        f"the registry holds {pseudonym!r}"
    )
    assert real_id.status_code == 404, real_id.text
    assert real_id.json()["detail"] == f"no patient {pid.lower()!r} in the registry"
    assert pid not in real_id.text


def test_the_dashboard_page_names_it_too(server: Server) -> None:
    pid = _store_crc(server)
    client, _ = _login(server, "clinician")
    with closing(client):
        page = client.get(f"/patients/{pid.lower()}")
    assert page.status_code == 404, page.text[:500]
    assert "patient ids are case-sensitive, and the registry holds" in page.text
    assert pid in page.text
