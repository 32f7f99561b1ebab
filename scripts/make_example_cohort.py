"""Generate the synthetic relapsed follicular lymphoma cohort shipped as ``fl_cohort.csv``.

THE DATA ARE SYNTHETIC. No row describes a real patient: every value is drawn from the
distributions below with ``numpy.random.default_rng(20261121)``, so running this script again
writes byte-identical output. The cohort exists to exercise the table reader, the immune profile
and the outcome evaluation on realistically shaped data; it must never be used to draw clinical
conclusions.

Usage::

    python scripts/make_example_cohort.py            # writes the shipped example
    python scripts/make_example_cohort.py --out x.csv

Generative model (200 patients, one row each, columns named as in
``immunoprecise.records.table``)
----------------------------------------------------------------------------------------------

FLIPI. The risk group is drawn as low / intermediate / high with probabilities 0.36 / 0.45 /
0.19 (roughly the mix of a relapsed FL population); the score within a group is 0 or 1 (0.35 /
0.65) for low, 2 for intermediate and 3, 4 or 5 (0.65 / 0.28 / 0.07) for high. The criteria that
make up the score are then chosen without replacement, weighted by how common each is (age > 60
years 0.50, Ann Arbor stage III–IV 0.75, haemoglobin < 12 g/dL 0.20, > 4 nodal areas 0.45,
LDH > ULN 0.25), and age, stage, haemoglobin and LDH are drawn to agree with them (criterion met:
age 61–84, stage III/IV, Hb 9.0–11.8 g/dL, LDH 1.05–1.9 × ULN; not met: age 38–60, stage I/II,
Hb ≥ 12 g/dL, LDH 0.55–0.97 × ULN). So FLIPI recomputed from the table agrees with
``risk_flipi_score`` on the four criteria it can see (the nodal-area count is not a column).

Tumour microenvironment. log densities (cells/mm²) of CD8 and FOXP3, interfollicular and
intrafollicular, are multivariate normal (σ = 0.55; correlation 0.5 between CD8 and FOXP3 of one
region, 0.6 between regions for one marker, 0.3 otherwise), i.e. the densities are lognormal.
Medians: interfollicular CD8 130, FOXP3 96; intrafollicular CD8 60, FOXP3 45. Following Saifi et
al. (Exp Ther Med 2010;1:933-938), a high interfollicular CD8/FOXP3 ratio goes with a high FLIPI:
per FLIPI group step (0, 1, 2) the CD8 log-median rises by 0.1 and the FOXP3 log-median falls by
0.1, so about 35% / 49% / 63% of low / intermediate / high FLIPI patients have a ratio ≥ 1.68.

Blood. Lognormal (median, σ): lymphocytes (1200 cells/µL, 0.40), neutrophils (3800 cells/µL,
0.35), CRP (3 mg/L × e^(0.3·group), 0.9), β2-microglobulin (2.2 mg/L × e^(0.15·group), 0.30),
circulating Vγ9Vδ2 T cells (35 cells/µL, 0.70; at most 25% of lymphocytes). The LDH ULN is
one of 214, 225, 246, 250 U/L (the assay of the patient's site).

History. 1–3 prior lines (0.55 / 0.30 / 0.15): first line R-CHOP, bendamustine-rituximab or
R-CVP; later lines lenalidomide-rituximab, the chemoimmunotherapy not yet given, or rituximab
monotherapy. ``disease_status`` is ``relapsed_refractory`` when the last line gave SD or PD,
otherwise ``relapsed``. CD20 is positive in 97% and dim in 3%.

Treatment and response. Every patient receives the investigational regimen
"rituximab + zoledronate + low-dose IL-2" (γδ T-cell activation with anti-CD20). The objective
response probability (CR or PR) is 0.52 for low and 0.35 for intermediate/high FLIPI; 35% of
responses are CR. Non-responders have SD (0.55), PD (0.40) or NE (0.05). These probabilities are
assumptions of this synthetic model.

Survival (months from the start of treatment; exponential latent times):

- Death: hazard λ = −ln(S5)/60 with 5-year survival S5 = 0.82 when the interfollicular
  CD8/FOXP3 ratio (of the rounded densities in the table) is < 1.68 and S5 = 0.59 when it is
  ≥ 1.68 — the 5-year OS reported by Saifi et al. 2010 — multiplied by 0.6 / 1.0 / 1.8 for
  low / intermediate / high FLIPI (factors averaging ≈ 1 over the FLIPI mix, so the ratio groups
  keep roughly the published survival).
- Progression: median 36 / 20 / 9 / 3 / 6 months after CR / PR / SD / PD / NE, multiplied
  (hazard) by 0.8 / 1.0 / 1.4 for low / intermediate / high FLIPI.
- Administrative censoring at 120 months. PFS = min(progression, death, 120) with an event when
  progression or death comes first; OS = min(death, 120). Both latent times are at least 0.5
  months (first assessment), so PFS ≤ OS always; times are rounded to 0.1 month.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SEED = 20261121
N_PATIENTS = 200
RATIO_CUTOFF = 1.68
FOLLOW_UP_MONTHS = 120.0
TREATMENT = "rituximab + zoledronate + low-dose IL-2"
DEFAULT_OUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "immunoprecise"
    / "data"
    / "examples"
    / "fl_cohort.csv"
)

COLUMNS: tuple[str, ...] = (
    "patient_id",
    "age_years",
    "sex",
    "ecog",
    "diagnosis",
    "oncotree_code",
    "icd_o3_morphology",
    "disease_status",
    "stage",
    "histologic_grade",
    "risk_flipi_score",
    "risk_flipi_category",
    "prior_therapies",
    "burden_date",
    "burden_spd_mm2",
    "antigens",
    "ihc_cd8_interfollicular_cells_per_mm2",
    "ihc_foxp3_interfollicular_cells_per_mm2",
    "ihc_cd8_intrafollicular_cells_per_mm2",
    "ihc_foxp3_intrafollicular_cells_per_mm2",
    "hemoglobin_g_per_dL",
    "lymphocytes_cells_per_uL",
    "neutrophils_cells_per_uL",
    "ldh_U_per_L",
    "ldh_uln_U_per_L",
    "crp_mg_per_L",
    "beta2_microglobulin_mg_per_L",
    "flow_gamma_delta_vg9vd2_cells_per_uL",
    "treatment",
    "best_response",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
)

# FLIPI groups: 0 = low, 1 = intermediate, 2 = high.
FLIPI_GROUPS: tuple[str, ...] = ("low", "intermediate", "high")
FLIPI_GROUP_P = (0.36, 0.45, 0.19)
FLIPI_SCORES: tuple[tuple[tuple[int, ...], tuple[float, ...]], ...] = (
    ((0, 1), (0.35, 0.65)),
    ((2,), (1.0,)),
    ((3, 4, 5), (0.65, 0.28, 0.07)),
)
# Criteria: age > 60, stage III-IV, Hb < 12 g/dL, > 4 nodal areas, LDH > ULN.
FLIPI_CRITERIA: tuple[str, ...] = ("age", "stage", "hb", "nodes", "ldh")
FLIPI_CRITERION_WEIGHT = np.array([0.50, 0.75, 0.20, 0.45, 0.25])
ECOG_P: tuple[tuple[float, float, float], ...] = (
    (0.65, 0.30, 0.05),
    (0.55, 0.37, 0.08),
    (0.40, 0.45, 0.15),
)

# log-scale densities: CD8 IF, FOXP3 IF, CD8 intra, FOXP3 intra.
DENSITY_MEDIANS = np.array([130.0, 96.0, 60.0, 45.0])
DENSITY_SIGMA = 0.55
DENSITY_CORR = np.array(
    [
        [1.0, 0.5, 0.6, 0.3],
        [0.5, 1.0, 0.3, 0.6],
        [0.6, 0.3, 1.0, 0.5],
        [0.3, 0.6, 0.5, 1.0],
    ]
)
DENSITY_FLIPI_SHIFT = np.array([0.1, -0.1, 0.1, -0.1])  # per FLIPI group step

LDH_ULNS: tuple[int, ...] = (214, 225, 246, 250)
ORR = (0.52, 0.35, 0.35)
CR_SHARE = 0.35
NON_RESPONSE: tuple[tuple[str, ...], tuple[float, ...]] = (("SD", "PD", "NE"), (0.55, 0.40, 0.05))
OS_5Y = {False: 0.82, True: 0.59}  # key: interfollicular CD8/FOXP3 ratio >= 1.68
OS_FLIPI_FACTOR = (0.6, 1.0, 1.8)
PFS_MEDIAN = {"CR": 36.0, "PR": 20.0, "SD": 9.0, "PD": 3.0, "NE": 6.0}
PFS_FLIPI_FACTOR = (0.8, 1.0, 1.4)
MIN_LATENT_MONTHS = 0.5

FIRST_LINES: tuple[str, ...] = ("R-CHOP", "bendamustine-rituximab", "R-CVP")
FIRST_LINE_P = (0.35, 0.45, 0.20)
RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD")
FIRST_RESPONSE_P = (0.55, 0.35, 0.06, 0.04)
LATER_RESPONSE_P = (0.35, 0.40, 0.15, 0.10)


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return float(median * math.exp(sigma * rng.standard_normal()))


def _pick(rng: np.random.Generator, options: Sequence[str], p: Sequence[float]) -> str:
    return options[int(rng.choice(len(options), p=p))]


def _flipi(rng: np.random.Generator) -> tuple[int, int, set[str]]:
    """Return (group, score, criteria met)."""
    group = int(rng.choice(3, p=FLIPI_GROUP_P))
    scores, p = FLIPI_SCORES[group]
    score = int(scores[int(rng.choice(len(scores), p=p))])
    weights = FLIPI_CRITERION_WEIGHT / FLIPI_CRITERION_WEIGHT.sum()
    chosen = rng.choice(len(FLIPI_CRITERIA), size=score, replace=False, p=weights)
    return group, score, {FLIPI_CRITERIA[int(i)] for i in chosen}


def _stage(rng: np.random.Generator, advanced: bool) -> str:
    if advanced:
        base = "III" if rng.random() < 0.4 else "IV"
    else:
        base = "I" if rng.random() < 0.35 else "II"
    return base + ("B" if rng.random() < 0.15 else "A")


def _prior_therapies(rng: np.random.Generator) -> tuple[str, str]:
    """Return the prior_therapies cell and the best response of the last line."""
    n_lines = int(rng.choice(3, p=(0.55, 0.30, 0.15))) + 1
    first = _pick(rng, FIRST_LINES, FIRST_LINE_P)
    names = [first]
    if n_lines >= 2:
        other_chemo = "R-CHOP" if first == "bendamustine-rituximab" else "bendamustine-rituximab"
        names.append(_pick(rng, ("lenalidomide-rituximab", other_chemo), (0.6, 0.4)))
    if n_lines >= 3:
        names.append("rituximab monotherapy")
    responses = [
        _pick(rng, RESPONSES, FIRST_RESPONSE_P if i == 0 else LATER_RESPONSE_P)
        for i in range(n_lines)
    ]
    cell = "; ".join(f"{n}:{r}" for n, r in zip(names, responses, strict=True))
    return cell, responses[-1]


def _best_response(rng: np.random.Generator, group: int) -> str:
    if rng.random() < ORR[group]:
        return "CR" if rng.random() < CR_SHARE else "PR"
    options, p = NON_RESPONSE
    return _pick(rng, options, p)


def _exponential(rng: np.random.Generator, rate: float) -> float:
    return max(MIN_LATENT_MONTHS, float(rng.exponential(1.0 / rate)))


def _survival(
    rng: np.random.Generator, group: int, ratio_high: bool, response: str
) -> tuple[float, int, float, int]:
    """Return (pfs_months, pfs_event, os_months, os_event)."""
    death_rate = -math.log(OS_5Y[ratio_high]) / 60.0 * OS_FLIPI_FACTOR[group]
    progression_rate = math.log(2.0) / PFS_MEDIAN[response] * PFS_FLIPI_FACTOR[group]
    t_death = _exponential(rng, death_rate)
    t_progression = _exponential(rng, progression_rate)
    os_time = min(t_death, FOLLOW_UP_MONTHS)
    first_event = min(t_progression, t_death)
    pfs_time = min(first_event, FOLLOW_UP_MONTHS)
    return (
        round(pfs_time, 1),
        int(first_event <= FOLLOW_UP_MONTHS),
        round(os_time, 1),
        int(t_death <= FOLLOW_UP_MONTHS),
    )


def make_patient(rng: np.random.Generator, number: int) -> dict[str, str | int | float]:
    """Draw one synthetic patient (a table row)."""
    group, score, criteria = _flipi(rng)
    sex = "female" if rng.random() < 0.5 else "male"
    age = int(rng.integers(61, 85)) if "age" in criteria else int(rng.integers(38, 61))
    if "hb" in criteria:
        hemoglobin = round(float(rng.uniform(9.0, 11.8)), 1)
    else:
        low, high = (12.0, 15.0) if sex == "female" else (12.5, 16.5)
        hemoglobin = round(float(rng.uniform(low, high)), 1)
    ldh_uln = LDH_ULNS[int(rng.integers(len(LDH_ULNS)))]
    ldh_factor = rng.uniform(1.05, 1.9) if "ldh" in criteria else rng.uniform(0.55, 0.97)
    ldh = round(ldh_uln * float(ldh_factor))

    cov = DENSITY_SIGMA**2 * DENSITY_CORR
    log_density = rng.multivariate_normal(
        np.log(DENSITY_MEDIANS) + DENSITY_FLIPI_SHIFT * group, cov
    )
    cd8_if, foxp3_if, cd8_in, foxp3_in = (max(1, round(float(math.exp(x)))) for x in log_density)
    ratio_high = cd8_if / foxp3_if >= RATIO_CUTOFF

    lymphocytes = round(_lognormal(rng, 1200.0, 0.40), -1)
    neutrophils = round(_lognormal(rng, 3800.0, 0.35), -1)
    crp = min(250.0, max(0.2, round(_lognormal(rng, 3.0 * math.exp(0.3 * group), 0.9), 1)))
    b2m = round(_lognormal(rng, 2.2 * math.exp(0.15 * group), 0.30), 1)
    gamma_delta = min(round(_lognormal(rng, 35.0, 0.70)), round(0.25 * lymphocytes))
    spd = round(_lognormal(rng, 2500.0 * math.exp(0.3 * group), 0.6), -1)

    prior_cell, last_response = _prior_therapies(rng)
    status = "relapsed_refractory" if last_response in {"SD", "PD"} else "relapsed"
    grade = "3A" if rng.random() < 0.10 else "1-2"
    ecog = int(rng.choice(3, p=ECOG_P[group]))
    cd20 = "dim" if rng.random() < 0.03 else "positive"
    start = dt.date(2014, 1, 1) + dt.timedelta(days=int(rng.integers(0, 3 * 365)))

    response = _best_response(rng, group)
    pfs, pfs_event, os_time, os_event = _survival(rng, group, ratio_high, response)
    return {
        "patient_id": f"SYN-FLC-{number:03d}",
        "age_years": age,
        "sex": sex,
        "ecog": ecog,
        "diagnosis": f"Follicular lymphoma, grade {grade}, relapsed (synthetic example)",
        "oncotree_code": "FL",
        "icd_o3_morphology": "9690/3",
        "disease_status": status,
        "stage": _stage(rng, "stage" in criteria),
        "histologic_grade": grade,
        "risk_flipi_score": score,
        "risk_flipi_category": FLIPI_GROUPS[group],
        "prior_therapies": prior_cell,
        "burden_date": start.isoformat(),
        "burden_spd_mm2": int(spd),
        "antigens": f"CD20:lineage:{cd20}",
        "ihc_cd8_interfollicular_cells_per_mm2": cd8_if,
        "ihc_foxp3_interfollicular_cells_per_mm2": foxp3_if,
        "ihc_cd8_intrafollicular_cells_per_mm2": cd8_in,
        "ihc_foxp3_intrafollicular_cells_per_mm2": foxp3_in,
        "hemoglobin_g_per_dL": hemoglobin,
        "lymphocytes_cells_per_uL": int(lymphocytes),
        "neutrophils_cells_per_uL": int(neutrophils),
        "ldh_U_per_L": ldh,
        "ldh_uln_U_per_L": ldh_uln,
        "crp_mg_per_L": crp,
        "beta2_microglobulin_mg_per_L": b2m,
        "flow_gamma_delta_vg9vd2_cells_per_uL": int(gamma_delta),
        "treatment": TREATMENT,
        "best_response": response,
        "pfs_months": pfs,
        "pfs_event": pfs_event,
        "os_months": os_time,
        "os_event": os_event,
    }


def make_cohort(n: int = N_PATIENTS, seed: int = SEED) -> list[dict[str, str | int | float]]:
    """Draw the whole synthetic cohort, one row per patient, in patient-id order."""
    rng = np.random.default_rng(seed)
    return [make_patient(rng, i) for i in range(1, n + 1)]


def write_cohort(rows: Sequence[dict[str, str | int | float]], path: Path) -> None:
    """Write ``rows`` as a UTF-8 CSV with the columns of :data:`COLUMNS`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument("-n", type=int, default=N_PATIENTS, help="number of patients")
    args = parser.parse_args(argv)
    rows = make_cohort(args.n, args.seed)
    write_cohort(rows, args.out)
    print(f"wrote {len(rows)} synthetic patients to {args.out}")


if __name__ == "__main__":
    main()
