"""``POST /simulate`` takes the body weight (kg) and body surface area (m²) that per-kg and
per-m² doses are given for, as ``ip.simulate`` and ``immunoprecise simulate`` do, with the same
range (finite, > 0) and wording; the answer names the values used. Over a real server."""

from __future__ import annotations

from typing import Any

import pytest

import immunoprecise as ip
from service.service_server import Server

API = "/api/v1"
PER_M2 = {"model": "fl_adcc", "regimen": "rituximab 375 mg/m2 d0", "t_end": 20}
PER_KG = {"model": "depillis2006", "regimen": "chemo 1 mg/kg d0", "t_end": 5}


def _final_tumor(answer: dict[str, Any]) -> float:
    return float(answer["patient_series"][0]["tumor_cells"][-1])


def test_body_size_defaults_to_the_reference_adult_and_is_named_in_the_answer(
    server: Server,
) -> None:
    with server.client("researcher") as researcher:
        default = researcher.post(f"{API}/simulate", json=PER_M2)
        given = researcher.post(
            f"{API}/simulate", json={**PER_M2, "body_weight_kg": 82, "body_surface_m2": 2.1}
        )
    assert default.status_code == given.status_code == 200, (default.text, given.text)
    assert (default.json()["body_weight_kg"], default.json()["body_surface_m2"]) == (70.0, 1.8)
    assert (given.json()["body_weight_kg"], given.json()["body_surface_m2"]) == (82.0, 2.1)
    assert given.json()["settings"]["body_surface_m2"] == 2.1


@pytest.mark.parametrize(
    ("request_body", "field", "value"),
    [
        (PER_M2, "body_surface_m2", 2.4),
        (PER_KG, "body_weight_kg", 45.0),
    ],
)
def test_the_body_size_given_is_the_one_the_doses_are_given_for(
    server: Server, request_body: dict[str, Any], field: str, value: float
) -> None:
    with server.client("researcher") as researcher:
        answer = researcher.post(f"{API}/simulate", json={**request_body, field: value})
    assert answer.status_code == 200, answer.text
    size = {"body_weight_kg": 70.0, "body_surface_m2": 1.8, field: value}
    expected = ip.simulate(
        request_body["model"],
        t_end=request_body["t_end"],
        regimen=request_body["regimen"],
        body_weight_kg=size["body_weight_kg"],
        body_surface_m2=size["body_surface_m2"],
    )
    reference = ip.simulate(
        request_body["model"], t_end=request_body["t_end"], regimen=request_body["regimen"]
    )
    assert _final_tumor(answer.json()) == pytest.approx(float(expected.tumor[0, -1]), rel=1e-9)
    assert float(expected.tumor[0, -1]) != pytest.approx(float(reference.tumor[0, -1]))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("body_weight_kg", 0, "body_weight_kg must be a positive number of kilograms, e.g. 70"),
        ("body_weight_kg", -70, "body_weight_kg must be a positive number of kilograms"),
        ("body_weight_kg", "70", "expected a number"),
        ("body_weight_kg", True, "expected a number"),
        ("body_surface_m2", 0, "body_surface_m2 must be a positive body surface area in m²"),
        ("body_surface_m2", -1.8, "body_surface_m2 must be a positive body surface area in m²"),
        ("body_surface_m2", "1.8", "expected a number"),
    ],
)
def test_a_body_size_out_of_range_is_422_naming_field_and_value(
    server: Server, field: str, value: object, message: str
) -> None:
    with server.client("clinician") as clinician:
        answer = clinician.post(f"{API}/simulate", json={**PER_KG, field: value})
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == f"body.{field}"
    assert problem["value"] == value
    assert message in problem["message"]


def test_a_body_size_that_is_no_number_is_422(server: Server) -> None:
    with server.client("clinician") as clinician:
        answer = clinician.post(
            f"{API}/simulate",
            content=b'{"model": "depillis2006", "t_end": 5, "body_weight_kg": NaN}',
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == "body.body_weight_kg"
    assert answer.json()["detail"][0]["value"] == "NaN"
