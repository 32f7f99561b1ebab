"""A YAML record uploaded on the dashboard is read as the command line reads the same file:
``id: 0012`` is the patient "0012" (YAML 1.1 made it the number 10, and the upload was refused)."""

from __future__ import annotations

from contextlib import closing

from service.service_server import Server
from service.test_dashboard import _login

RECORD = b"""\
patient:
  id: 0012
  sex: female
  age: 61
disease: {diagnosis: FL}
host:
  crp: {value: 3, unit: mg/L}
"""


def test_a_yaml_upload_keeps_an_id_with_a_leading_zero(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        answer = client.post(
            "/patients/import",
            data={"csrf_token": csrf},
            files={"file": ("p.yaml", RECORD, "application/yaml")},
        )
        assert answer.status_code == 303, answer.text[:400]
        page = client.get("/patients/0012")
    assert page.status_code == 200
    assert "0012" in page.text
