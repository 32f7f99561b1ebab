"""The service's logs hold no identifying data: an end-to-end run of ``immunoprecise serve``
(imports, versions, evaluations, searches, a cohort upload, researcher calls, dashboard pages,
invalid input and unknown patients) is captured from the process's own output and scanned for
every identifying field of the patients it handled, and for the secrets it was given.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import immunoprecise as ip
from immunoprecise.registry import upgrade
from immunoprecise.service import Role, TokenStore

EXAMPLES = ["ball_cd19", "crc_msih", "fl_relapsed", "melanoma_braf", "mm_post_asct", "nsclc_cold"]
COHORT = ip.data.example_path("fl_cohort.csv")
PSEUDONYM_KEY = "a-test-pseudonym-key-that-must-never-be-logged"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """``immunoprecise serve`` as its own process, its stdout and stderr in a log file."""
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(db)
    with TokenStore.open(db) as store:
        tokens = {r.value: store.create(f"{r.value}-1", r, created_by="pytest")[1] for r in Role}
    log = tmp_path / "service.log"
    port = _free_port()
    env = {**os.environ, "IMMUNOPRECISE_PSEUDONYM_KEY": PSEUDONYM_KEY}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "immunoprecise", "serve", "--db", db, "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            yield base, tokens, log
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


def _record(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ip.data.example_path(f"{name}.json").read_text("utf-8"))
    return data


def _identifying(record: dict[str, Any]) -> set[str]:
    """The values of a record that identify (or help identify) its patient."""
    patient, disease = record["patient"], record.get("disease", {})
    found = {patient["id"], disease.get("diagnosis", "")}
    found |= set(patient.get("comorbidities", []))
    found |= set(patient.get("hla_type", []))
    for prior in patient.get("prior_therapies", []):
        found |= {prior.get("name", ""), prior.get("start", ""), prior.get("end", "")}
    found |= {record.get("collected_on", ""), disease.get("diagnosis_date", "")}
    found |= {b.get("date", "") for b in disease.get("burden", [])}
    return {v for v in found if v and (len(v) >= 6 or DATE.match(v))}


def _exercise(base: str, tokens: dict[str, str]) -> set[str]:
    """Use every kind of endpoint; return the identifying values that went through them."""
    secrets = set(tokens.values()) | {PSEUDONYM_KEY}
    sensitive = set(secrets)
    headers = {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}
    with httpx.Client(base_url=base, timeout=120) as client:
        clinician, researcher = headers["clinician"], headers["researcher"]
        for name in EXAMPLES:
            record = _record(name)
            sensitive |= _identifying(record)
            pid = record["patient"]["id"]
            assert client.post("/api/v1/patients", json=record, headers=clinician).is_success
            assert client.get(f"/api/v1/patients/{pid}", headers=clinician).is_success
            assert client.get(f"/api/v1/patients/{pid}/versions", headers=clinician).is_success
            evaluated = client.post("/api/v1/evaluate", json={"patient_id": pid}, headers=clinician)
            assert evaluated.is_success
            assert client.post("/api/v1/evaluate", json=record, headers=researcher).is_success
        crc = _record("crc_msih")
        crc["host"]["crp"] = {"value": 41, "unit": "mg/L"}
        updated = client.put("/api/v1/patients/SYN-CRC-001", json=crc, headers=clinician)
        assert updated.is_success
        found = client.get("/api/v1/patients", params={"search": "SYN-CRC"}, headers=clinician)
        assert "SYN-CRC-001" in found.text
        bad = _record("melanoma_braf")
        bad["patient"]["age"] = {"value": 412, "unit": "years"}
        assert client.post("/api/v1/patients", json=bad, headers=clinician).status_code == 422
        missing = client.get("/api/v1/patients/SYN-CRC-001x", headers=clinician)
        assert missing.status_code == 404
        pseudonyms = client.get("/api/v1/patients", headers=researcher).json()
        shown = pseudonyms["patients"] if isinstance(pseudonyms, dict) else pseudonyms
        assert shown
        first = shown[0] if isinstance(shown[0], str) else shown[0]["patient_id"]
        assert client.get(f"/api/v1/patients/{first}", headers=researcher).is_success
        with COHORT.open("rb") as handle:
            uploaded = client.post(
                "/api/v1/cohorts",
                files={"file": ("fl_cohort.csv", handle, "text/csv")},
                data={"name": "FL"},
                headers=clinician,
            )
        assert uploaded.status_code == 201, uploaded.text
        cohort_ids = set(re.findall(r"^(SYN-FLC-\d+),", COHORT.read_text("utf-8"), re.M))
        sensitive |= cohort_ids
        assert client.get("/api/v1/cohorts/FL/survival", headers=clinician).is_success
        # the dashboard: log in, list, open a patient
        login = client.get("/")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        page = client.post(
            "/login",
            data={"token": tokens["clinician"], "csrf_token": csrf.group(1)},
            follow_redirects=True,
        )
        assert page.is_success, page.text[:300]
        assert client.get("/patients", params={"q": "SYN"}).is_success
        assert client.get("/patients/SYN-CRC-001").is_success
    return sensitive


def test_an_end_to_end_run_logs_no_identifying_field(
    served: tuple[str, dict[str, str], Path],
) -> None:
    base, tokens, log = served
    sensitive = _exercise(base, tokens)
    time.sleep(0.5)  # let the last access-log lines reach the file
    text = log.read_text(encoding="utf-8")
    assert "GET" in text or "POST" in text, "the run's requests were not logged at all"
    leaked = sorted(v for v in sensitive if v in text)
    assert not leaked, f"identifying values in the service log: {leaked[:10]}"
