"""Simulated candidate regimens for a strategy plan: the dynamics behind the top options.

Which model and regimens represent a therapy class is data (``dynamics/data/candidates.yaml``):
checkpoint inhibitors act through Kuznetsov 1994 with checkpoint blockade, CAR-T through
CARTmath, TIL with IL-2 and debulking chemotherapy through de Pillis 2006, adoptive or activated
innate effectors through Kuznetsov 1994 with an added effector source. Parameters are the
published ones with a lognormal spread (a cloud of virtual patients), not calibrated to the
patient: the simulations show how each regimen moves the tumor–effector balance and how
uncertain that is, and say so next to every number.

Examples
--------
>>> import immunoprecise as ip
>>> plan = ip.recommend(ip.profile(ip.read_patient(ip.data.example_path("ball_cd19.json"))))
>>> [s.therapy_class for s in simulated_regimens(plan, n_virtual=4)][:1]
['car_t']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.dynamics.schedule import RegimenComparison, compare_regimens
from immunoprecise.errors import ModelError
from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.recommend import StrategyPlan

__all__ = ["SimulatedRegimen", "candidate_comparisons", "class_comparison", "simulated_regimens"]


@dataclass(frozen=True)
class _ClassModel:
    therapy_class: str
    model: str
    regimens: dict[str, str]
    t_end: float
    source: str
    parameter_set: str | None = None
    initial: dict[str, float] | None = None


@functools.cache
def _class_models() -> dict[str, _ClassModel]:
    text = (
        resources.files("immunoprecise.dynamics")
        .joinpath("data/candidates.yaml")
        .read_text(encoding="utf-8")
    )
    raw: dict[str, dict[str, Any]] = yaml.safe_load(text)["classes"]
    out: dict[str, _ClassModel] = {}
    for name, spec in raw.items():
        full = raw[spec["same_as"]] if "same_as" in spec else spec
        out[name] = _ClassModel(
            therapy_class=name,
            model=full["model"],
            regimens=dict(full["regimens"]),
            t_end=float(full["t_end"]),
            source=full["source"],
            parameter_set=full.get("parameter_set"),
            # PyYAML reads "3.0e8" (no sign in the exponent) as text: take every start as a number.
            initial=(
                {state: float(value) for state, value in full["initial"].items()}
                if "initial" in full
                else None
            ),
        )
    return out


class SimulatedRegimen(BaseModel):
    """One candidate regimen's predicted outcome over a cloud of virtual patients."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    therapy_id: str
    therapy_class: str
    model: str
    parameter_set: str | None
    regimen_label: str
    regimen: str = Field(description="Regimen text ('' = no treatment)")
    t_end_days: float
    n_virtual: int
    seed: int
    n_failed: int = Field(
        default=0,
        ge=0,
        description=(
            "Virtual patients whose simulation failed; left out of every share and median below, "
            "whose denominator is n_virtual - n_failed"
        ),
    )
    eradicated_fraction: float = Field(description="Share of virtual patients below one cell")
    response_rate: float | None = Field(description="Share with best RECIST 1.1 response CR/PR")
    best_response: str | None = Field(description="Best RECIST 1.1 response of the median")
    tumor_change_percent: float = Field(description="Median tumor change at the end (%)")
    tumor_change_p5: float
    tumor_change_p95: float
    source: str = Field(description="Where the model's parameters and doses come from")


def candidate_comparisons(
    plan: StrategyPlan,
    *,
    knowledge_base: KnowledgeBase | None = None,
    max_classes: int = 2,
    n_virtual: int = 30,
    seed: int = 0,
) -> list[tuple[str, str, RegimenComparison]]:
    """Compare candidate regimens for the top-ranked therapy classes that have a model.

    Returns
    -------
    list of (therapy id, therapy class, comparison)
        In the plan's rank order, at most ``max_classes`` classes.
    """
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    models = _class_models()
    out: list[tuple[str, str, RegimenComparison]] = []
    seen: set[str] = set()
    for option in plan.options:
        try:
            therapy = kb.therapy(option.therapy_id)
        except Exception:  # an option outside this knowledge base has no class to simulate
            continue
        cls = therapy.therapy_class
        if cls not in models or models[cls].model + str(models[cls].regimens) in seen:
            continue
        spec = models[cls]
        seen.add(spec.model + str(spec.regimens))
        try:
            cmp = class_comparison(cls, n_virtual=n_virtual, seed=seed)
        except ModelError:
            continue
        out.append((option.therapy_id, cls, cmp))
        if len(out) >= max_classes:
            break
    return out


def class_comparison(
    therapy_class: str, *, n_virtual: int = 30, seed: int = 0
) -> RegimenComparison:
    """The candidate regimens of one therapy class, compared over a seeded cloud of patients.

    Parameters
    ----------
    therapy_class
        A class of ``dynamics/data/candidates.yaml`` (``"car_t"``, ``"checkpoint_inhibitor"``, …).
    n_virtual
        Virtual patients per regimen.
    seed
        Seed of the virtual-patient cloud.

    Returns
    -------
    RegimenComparison
        The same comparison :func:`candidate_comparisons` makes for that class and seed, so a
        report can redraw what an evaluation stored (its ``simulations`` name the class).

    Raises
    ------
    ModelError
        If the class has no model here.

    Examples
    --------
    >>> class_comparison("car_t", n_virtual=3).model.id
    'cartmath2021'
    """
    models = _class_models()
    if therapy_class not in models:
        raise ModelError(
            f"therapy class {therapy_class!r} has no candidate regimens; classes with a model: "
            f"{', '.join(sorted(models))}"
        )
    spec = models[therapy_class]
    return compare_regimens(
        spec.model,
        spec.regimens,
        t_end=spec.t_end,
        initial=spec.initial,
        parameter_set=spec.parameter_set,
        n_virtual=n_virtual,
        seed=seed,
    )


def simulated_regimens(
    plan: StrategyPlan,
    *,
    knowledge_base: KnowledgeBase | None = None,
    max_classes: int = 2,
    n_virtual: int = 30,
    seed: int = 0,
) -> tuple[SimulatedRegimen, ...]:
    """The rows of :func:`candidate_comparisons` as serializable records (for reports/JSON)."""
    rows: list[SimulatedRegimen] = []
    models = _class_models()
    for therapy_id, cls, cmp in candidate_comparisons(
        plan,
        knowledge_base=knowledge_base,
        max_classes=max_classes,
        n_virtual=n_virtual,
        seed=seed,
    ):
        spec = models[cls]
        for row in cmp.table.to_dict("records"):
            rows.append(
                SimulatedRegimen(
                    therapy_id=therapy_id,
                    therapy_class=cls,
                    model=spec.model,
                    parameter_set=spec.parameter_set,
                    regimen_label=str(row["regimen"]),
                    regimen=str(row["text"]),
                    t_end_days=spec.t_end,
                    n_virtual=cmp.n_virtual,
                    seed=seed,
                    n_failed=int(row["n_failed"]),
                    eradicated_fraction=float(row["eradicated_fraction"]),
                    response_rate=_opt(row["response_rate"]),
                    best_response=row["best_response"]
                    if isinstance(row["best_response"], str)
                    else None,
                    tumor_change_percent=float(row["tumor_change_percent"]),
                    tumor_change_p5=float(row["tumor_change_p5"]),
                    tumor_change_p95=float(row["tumor_change_p95"]),
                    source=spec.source,
                )
            )
    return tuple(rows)


def _opt(value: Any) -> float | None:
    return None if value is None or value != value else float(value)
