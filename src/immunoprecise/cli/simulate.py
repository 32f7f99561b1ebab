"""``immunoprecise simulate``: run a tumor–immune model under a regimen from the command line."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape as markup_escape
from rich.progress import Progress
from rich.table import Table

from immunoprecise.cli.paths import output_folder
from immunoprecise.cli.stdio import write_json, write_table
from immunoprecise.errors import (
    FieldProblem,
    ImmunopreciseError,
    ModelError,
    ValidationError,
    repeated,
)
from immunoprecise.records.table import header_as_written

if TYPE_CHECKING:
    from immunoprecise.dynamics.model import Model
    from immunoprecise.dynamics.regimen import Regimen
    from immunoprecise.dynamics.trajectories import Trajectories

__all__ = ["SimulateFormat", "SolverMethod", "simulate_command"]

EXIT_INVALID_INPUT = 2
#: Patients shown in the summary table; every patient is in the written files.
MAX_TABLE_ROWS = 30

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


class SimulateFormat(StrEnum):
    """Files ``simulate`` can write."""

    csv = "csv"
    json = "json"
    png = "png"
    html = "html"


class SolverMethod(StrEnum):
    """Integration methods of :func:`immunoprecise.simulate`."""

    dopri5 = "dopri5"
    rodas4 = "rodas4"
    rosenbrock23 = "rosenbrock23"


FILE_NAMES = {
    SimulateFormat.csv: "trajectories.csv",
    SimulateFormat.json: "summary.json",
    SimulateFormat.png: "trajectories.png",
    SimulateFormat.html: "trajectories.html",
}


class _UsageError(Exception):
    """A command-line usage problem (not a library error): exit code 2 with the message."""


# --- parsing the options ----------------------------------------------------------------------


def _assignments(items: Sequence[str], option: str, example: str) -> dict[str, float]:
    """``NAME=VALUE`` pairs with numeric values (``1e6``, ``0.25``)."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        hint = f"write NAME=VALUE with a number, e.g. {option} {example}"
        if not sep or not name:
            raise _UsageError(f"{option} {item!r}: {hint}")
        try:
            value = float(raw.strip())
        except ValueError:
            raise _UsageError(
                f"{option} {item!r}: {raw.strip()!r} is not a number; {hint}"
            ) from None
        if not math.isfinite(value):
            raise _UsageError(f"{option} {item!r}: the value must be a finite number")
        if name in values:
            raise _UsageError(f"{option} {name} is given twice")
        values[name] = value
    return values


def _read_regimen(text: str | None, path: Path | None) -> Regimen | None:
    from immunoprecise.dynamics.regimen import EMPTY_FILE_PROBLEM, Regimen

    if text is not None and path is not None:
        raise _UsageError(
            "give the regimen either as --regimen TEXT or as --regimen-file, not both"
        )
    if path is not None:
        try:
            return Regimen.from_yaml(path)
        except ValidationError as exc:
            if exc.problems and exc.problems[0].message == EMPTY_FILE_PROBLEM:
                raise _UsageError(
                    f"--regimen-file {path}: the file is empty (no regimen item in it, only "
                    "blanks or comments); it is refused rather than read as no treatment. To "
                    "simulate no treatment leave out --regimen-file (or give --regimen ''), or "
                    "write 'items: []' in the file"
                ) from None
            raise
    if text is not None:
        return Regimen.parse(text)
    return None


_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), (",", "commas"), ("|", "bars"))
"""Column separators a patients table may have been written with by mistake."""


_BODY_SIZE_COLUMNS = {
    "weight": "--body-weight",
    "weight_kg": "--body-weight",
    "body_weight": "--body-weight",
    "body_weight_kg": "--body-weight",
    "bsa": "--body-surface",
    "bsa_m2": "--body-surface",
    "body_surface": "--body-surface",
    "body_surface_m2": "--body-surface",
}
"""Patient-table columns that are the body size of a per-kg or per-m² dose, and the option
that gives it (one value for every virtual patient)."""


def _column_hint(column: str, model: Model) -> str:
    """What a column of a patients table that is no parameter or state was likely meant as: a
    body size (an option, not a column) or a parameter or state written in another case."""
    option = _BODY_SIZE_COLUMNS.get(column.strip().lower())
    if option is not None:
        return f" (a body size is given once for every patient with {option})"
    same = [n for n in (*model.parameter_names, *model.state_names) if n.lower() == column.lower()]
    return f" (did you mean {same[0]!r}? names are case-sensitive)" if same else ""


def _read_patients(
    path: Path,
    model: Model,
    params: Mapping[str, float],
    initial: Mapping[str, float],
    parameter_set: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parameter and initial-state tables (one row per patient) from a CSV/TSV file.

    Columns are named like the model's parameters or states; ``patient`` holds the ids. An
    empty cell takes the default (the parameter set's value, or the model's initial state);
    ``--param``/``--initial`` add a column for every patient.
    """
    source = str(path)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        # ids as written: "001" stays "001", not the number 1
        frame = pd.read_csv(path, sep=sep, dtype={"patient": str})
        twice = repeated(header_as_written(path, sep))  # pandas renames the second: "gamma.1"
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError(
            [FieldProblem("(file)", None, f"cannot be read as CSV: {exc}")], source=source
        ) from None
    if twice:
        raise ValidationError(
            [
                FieldProblem(f"column {c}", None, "is written more than once; keep one")
                for c in twice
            ],
            source=source,
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    other = [(c, name) for c, name in _SEPARATORS if c != sep and c in str(frame.columns[0])]
    if len(frame.columns) == 1 and other:  # e.g. a European Excel export, "patient;T;gamma"
        char, name = other[0]
        raise ValidationError(
            [
                FieldProblem(
                    "(file)",
                    str(frame.columns[0]),
                    f"has one column, whose header holds {name} ({char!r}): the columns seem "
                    f"separated by {name}, not {'tabs' if sep == chr(9) else 'commas'}; save "
                    "the table as comma-separated CSV (.csv), or tab-separated with the "
                    "extension .tsv",
                )
            ],
            source=source,
        )
    if frame.empty:
        raise ValidationError(
            [FieldProblem("(file)", None, "has no rows: give one row per virtual patient")],
            source=source,
        )
    problems: list[FieldProblem] = []
    parameters, states = set(model.parameter_names), set(model.state_names)
    for column in frame.columns:
        if column == "patient":
            continue
        if column not in parameters and column not in states:
            problems.append(
                FieldProblem(
                    f"column {column}",
                    None,
                    f"is neither a parameter nor a state of {model.id}{_column_hint(column, model)}"
                    f"; parameters: {', '.join(model.parameter_names)}; states: "
                    f"{', '.join(model.state_names)}",
                )
            )
        elif column in params or column in initial:
            problems.append(
                FieldProblem(
                    f"column {column}", None, "is also given on the command line; give it once"
                )
            )
    ids: list[str] | None = None
    if "patient" in frame.columns:
        ids = ["" if pd.isna(x) else str(x).strip() for x in frame["patient"]]
        if "" in ids:
            problems.append(FieldProblem("column patient", None, "has an empty id"))
        twice = repeated(i or None for i in ids)
        if twice:
            problems.append(FieldProblem("column patient", None, f"ids repeat: {', '.join(twice)}"))
    index = pd.Index(ids if ids is not None else [str(i + 1) for i in range(len(frame))])
    defaults = model.defaults(parameter_set)
    p = pd.DataFrame(index=index)
    y0 = pd.DataFrame(index=index)
    for column in frame.columns:
        if column == "patient" or column not in parameters | states:
            continue
        raw = pd.Series(frame[column].to_numpy(), index=index)
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        for i, (given, number) in enumerate(zip(raw, values, strict=True)):
            if pd.notna(given) and not math.isfinite(number):
                where = f"row {i + 1} ({index[i]}) column {column}"
                problems.append(FieldProblem(where, str(given), "must be a finite number"))
        target, default = (
            (p, defaults[column]) if column in parameters else (y0, model.initial[column])
        )
        target[column] = values.where(raw.notna(), default)
    if problems:
        raise ValidationError(problems, source=source)
    for name, value in params.items():
        p[name] = value
    for name, value in initial.items():
        y0[name] = value
    return p.rename_axis("patient").reset_index(), y0.rename_axis("patient").reset_index()


# --- the summary ------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    """A finite float, or ``None`` (JSON null) for NaN and infinities."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _recist(tr: Trajectories) -> tuple[pd.DataFrame, list[float], str | None]:
    """Best RECIST 1.1 response per patient (NE where it cannot be assessed), scan days, note."""
    from immunoprecise.dynamics.response import assess_response
    from immunoprecise.wording import counted

    n = len(tr)
    frame = pd.DataFrame(
        {
            "best_response": ["NE"] * n,
            "best_change_percent": [math.nan] * n,
            "time_to_progression_days": [math.nan] * n,
        }
    )
    ok = np.flatnonzero(tr.ok & np.all(np.isfinite(tr.tumor), axis=1))
    if not ok.size:
        return frame, [], "no patient has a complete tumor trajectory"
    # response criteria compare with measurable disease at baseline: none, no RECIST (NE)
    without = int(np.count_nonzero(tr.tumor[ok, 0] <= 0))
    note = (
        f"RECIST needs a tumor at baseline: {counted(without, 'patient')} "
        f"{'starts' if without == 1 else 'start'} with 0 tumor cells (NE)"
        if without
        else None
    )
    ok = ok[tr.tumor[ok, 0] > 0]
    if not ok.size:
        return frame, [], note
    try:
        result = assess_response(tr.t, tr.tumor[ok], kind="cells", criteria="recist")
    except ImmunopreciseError as exc:
        return frame, [], f"RECIST not assessable: {exc}"
    frame.loc[ok, "best_response"] = result.best_response.astype(str)
    frame.loc[ok, "best_change_percent"] = result.best_change_percent
    frame.loc[ok, "time_to_progression_days"] = result.time_to_progression_days
    return frame, [float(d) for d in result.assessment_days], note


def _summary_rows(tr: Trajectories) -> tuple[list[dict[str, Any]], list[float], str | None]:
    """One JSON-ready row per patient."""
    base = tr.summary()
    scans: list[float] = []
    note: str | None = None
    if tr.model.tumor_state is not None:
        recist, scans, note = _recist(tr)
        base = pd.concat([base, recist], axis=1)
    else:
        for name in tr.model.effector_states or tr.model.state_names:
            values = tr.state(name)
            with np.errstate(invalid="ignore"):
                peak = np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=1)
                at = np.asarray(tr.t)[np.nanargmax(np.nan_to_num(values, nan=-np.inf), axis=1)]
            base[f"{name}_peak"] = peak
            base[f"{name}_peak_day"] = at
            base[f"{name}_end"] = values[:, -1]
    rows: list[dict[str, Any]] = []
    for record in base.to_dict(orient="records"):
        row: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, str | bool | np.bool_):
                row[str(key)] = value if isinstance(value, str) else bool(value)
            else:
                row[str(key)] = _number(value)
        rows.append(row)
    return rows, scans, note


def _summary(
    tr: Trajectories,
    *,
    t_end: float,
    params: Mapping[str, float],
    initial: Mapping[str, float],
    patients_file: Path | None,
) -> dict[str, Any]:
    from immunoprecise import __version__

    rows, scans, note = _summary_rows(tr)
    settings = {
        k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v)
        for k, v in tr.settings.items()
    }
    regimen = tr.regimen
    out: dict[str, Any] = {
        "model": {"id": tr.model.id, "title": tr.model.title, "reference": tr.model.reference},
        "regimen": None
        if regimen is None
        else {"text": str(regimen), "name": regimen.name, "items": regimen.to_dict()["items"]},
        "t_end_days": t_end,
        "parameter_set": tr.settings.get("parameter_set"),
        "params": dict(params),
        "initial": dict(initial),
        "patients_file": None if patients_file is None else str(patients_file),
        "n_patients": len(tr),
        "dose_days": {k: list(v) for k, v in tr.dose_days.items()},
        "settings": settings,
        "units": {s.name: s.unit for s in tr.model.states},
        "patients": rows,
        "software": {"immunoprecise": __version__},
    }
    if tr.model.tumor_state is not None:
        out["response"] = {
            "criteria": "RECIST 1.1",
            "assessment_days": scans,
            "tumor_model": "one spherical lesion of 1e9 cells/cm³",
            "note": note,
        }
    return out


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    x = float(value)  # type: ignore[arg-type]
    return f"{x:.{digits}g}" if math.isfinite(x) else "—"


def _table(tr: Trajectories, summary: Mapping[str, Any]) -> Table:
    from immunoprecise.wording import counted

    model = tr.model
    rows: list[dict[str, Any]] = summary["patients"]
    regimen = (summary["regimen"]["text"] if summary["regimen"] else "") or "no treatment"
    table = Table(
        title=f"{model.id} · {regimen} · {counted(float(summary['t_end_days']), 'day')}",
        title_justify="left",
    )
    table.add_column("patient")
    failed = any(not r["ok"] for r in rows)
    if model.tumor_state is not None:
        unit = model.states[model.state_index(model.tumor_state)].unit
        for column in (f"tumor start ({unit})", f"nadir ({unit})", f"end ({unit})"):
            table.add_column(column, justify="right")
        table.add_column("eradicated (day)", justify="right")
        table.add_column("best RECIST", justify="center")
    else:
        names = model.effector_states or model.state_names
        for name in names:
            table.add_column(f"{name} peak", justify="right")
            table.add_column(f"{name} peak day", justify="right")
            table.add_column(f"{name} end", justify="right")
    if failed:
        table.add_column("status")
    for r in rows[:MAX_TABLE_ROWS]:
        cells = [markup_escape(str(r["patient"]))]
        if model.tumor_state is not None:
            cells += [
                _fmt(r["tumor_start_cells"]),
                _fmt(r["tumor_nadir_cells"]),
                _fmt(r["tumor_end_cells"]),
                _fmt(r["eradication_day"], 4),
                str(r["best_response"]),
            ]
        else:
            for name in model.effector_states or model.state_names:
                cells += [
                    _fmt(r[f"{name}_peak"]),
                    _fmt(r[f"{name}_peak_day"], 4),
                    _fmt(r[f"{name}_end"]),
                ]
        if failed:
            cells.append("ok" if r["ok"] else markup_escape(str(r["message"])))
        table.add_row(*cells)
    captions = []
    if model.tumor_state is None:
        units = ", ".join(
            f"{name} in {model.states[model.state_index(name)].unit}"
            for name in model.effector_states or model.state_names
        )
        captions.append(markup_escape(units))
    if len(rows) > MAX_TABLE_ROWS:
        captions.append(f"{MAX_TABLE_ROWS} of {len(rows)} patients shown; all are in the files")
    response = summary.get("response")
    if response and response["assessment_days"]:
        scans = response["assessment_days"]
        days = ", ".join(f"{d:g}" for d in scans)
        only = f"the baseline scan on day {days} only"
        where = f"scans on days {days}" if len(scans) > 1 else only
        captions.append(f"RECIST 1.1 at {where}")
    if response and response["note"]:
        captions.append(markup_escape(response["note"]))
    if captions:
        table.caption = "; ".join(captions)
        table.caption_justify = "left"
    return table


def _body_size_notes(
    model: Model,
    regimen: Regimen | None,
    t_end: float,
    body_weight: float | None,
    body_surface: float | None,
) -> list[str]:
    """Which body size the per-kg and per-m² doses were given for, when the reference adult's
    stood in for an option not given, and options given that no dose uses."""
    from immunoprecise.dynamics.dosing import (
        REFERENCE_BODY_SURFACE_M2,
        REFERENCE_BODY_WEIGHT_KG,
        body_size_used,
    )

    users: dict[str, list[str]] = {"body_weight_kg": [], "body_surface_m2": []}
    for dose in regimen.doses() if regimen is not None else ():
        if dose.start > t_end:
            continue
        inp = model.inputs[model.input_index(dose.agent)]
        for key in body_size_used(
            dose.unit, inp.unit, infusion=dose.is_infusion, volume_liters=inp.volume_L
        ):
            if dose.agent not in users[key]:
                users[key].append(dose.agent)
    notes = []
    for key, given, reference, unit, what, option in (
        ("body_weight_kg", body_weight, REFERENCE_BODY_WEIGHT_KG, "kg", "body weight", "weight"),
        (
            "body_surface_m2",
            body_surface,
            REFERENCE_BODY_SURFACE_M2,
            "m2",
            "body surface area",
            "surface",
        ),
    ):
        agents = ", ".join(users[key])
        if agents and given is None:
            notes.append(
                f"per-{unit} doses ({agents}) were given for a {what} of {reference:g} {unit}, "
                f"the ICRP reference adult (ICRP Publication 23, 1975); give --body-{option} "
                "for the patient's"
            )
        elif given is not None and not agents:
            notes.append(f"--body-{option} {given:g} is not used: no dose is per {unit}")
    return notes


# --- writing ----------------------------------------------------------------------------------


def _html(tr: Trajectories, summary: Mapping[str, Any], svg: str) -> str:
    from immunoprecise.wording import counted

    rows: list[dict[str, Any]] = summary["patients"]
    columns = list(rows[0]) if rows else []
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(r[c], 4))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    regimen = (summary["regimen"]["text"] if summary["regimen"] else "") or "no treatment"
    title = f"{tr.model.id}: {regimen}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n"
        "<style>body{font-family:sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse;font-size:0.9em}"
        "td,th{border:1px solid #d5d8dc;padding:0.2em 0.5em;text-align:right}"
        "svg{max-width:100%;height:auto}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n"
        f"<p>{escape(tr.model.title)}. {escape(tr.model.reference)}.</p>\n"
        f"<p>Simulated for {counted(float(summary['t_end_days']), 'day')}; "
        f"{counted(len(rows), 'virtual patient')}. "
        "Research use only, not a medical device.</p>\n"
        f"{svg}\n<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>\n"
        "</body>\n</html>\n"
    )


def _write(
    tr: Trajectories,
    summary: Mapping[str, Any],
    formats: Sequence[SimulateFormat],
    out: Path | None,
) -> list[Path]:
    """Write the formats into ``out`` (or a single csv/json to stdout); the files written."""
    from immunoprecise import pl

    written: list[Path] = []
    for fmt in formats:
        if fmt is SimulateFormat.csv:
            text = tr.to_frame().to_csv(index=False, float_format="%.10g")
        elif fmt is SimulateFormat.json:
            text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        elif fmt is SimulateFormat.png:
            assert out is not None  # checked before simulating
            path = out / FILE_NAMES[fmt]
            pl.trajectories(tr).savefig(path, dpi=150)
            written.append(path)
            continue
        else:
            text = _html(tr, summary, pl.figure_svg(pl.trajectories(tr), id_prefix="trajectories"))
        if out is None and fmt is SimulateFormat.json:
            write_json(text)
        elif out is None:
            write_table(text, what="the trajectories CSV", fix="write it with --out DIR")
        else:
            path = out / FILE_NAMES[fmt]
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


# --- --list -----------------------------------------------------------------------------------


def _describe(model: Model, *, parameters: bool) -> None:
    p = _out.print
    e = markup_escape
    p(f"[bold]{e(model.id)}[/bold] — {e(model.title)}")
    p(f"  reference: {e(model.reference)}")
    tags = {model.tumor_state: "tumor"} | dict.fromkeys(model.effector_states, "effector")
    p("  states:")
    for s in model.states:
        tag = f" [{tags[s.name]}]" if s.name in tags else ""
        initial = model.initial[s.name]
        p(f"    {e(s.name)} ({e(s.unit)}){e(tag)}: {e(s.description)}; initial {initial:g}")
    if model.parameter_sets:
        p("  parameter sets:")
        for ps in model.parameter_sets:
            p(f"    {e(ps.name)}: {e(ps.description or ps.source)}")
    else:
        p("  parameter sets: none")
    if model.inputs:
        p("  dosing inputs (regimen agent names):")
        for inp in model.inputs:
            aliases = f"; aliases: {', '.join(inp.aliases)}" if inp.aliases else ""
            p(f"    {e(inp.name)} → {e(inp.state)}, in {e(inp.unit)}{e(aliases)}")
            p(f"      {e(inp.description)}")
    else:
        p("  dosing inputs: none")
    p(f"  default method: {model.method}")
    if parameters:
        p("  parameters (default value, unit):")
        for par in model.parameters:
            p(f"    {e(par.name)} = {par.value:g} {e(par.unit)}: {e(par.description)}")


def _list_models(model_id: str | None) -> None:
    from immunoprecise.dynamics.models import MODEL_IDS, get_model
    from immunoprecise.dynamics.models.modifications import MODIFICATIONS

    if model_id is not None:
        _describe(get_model(model_id), parameters=True)
        return
    for i, mid in enumerate(MODEL_IDS):
        if i:
            _out.print()
        _describe(get_model(mid), parameters=False)
    mods = " and/or ".join(f"+{m}" for m in MODIFICATIONS)
    _out.print(
        f"\nModified models: add {mods} to an id, e.g. kuznetsov1994+checkpoint+cells "
        "(anti-PD-1 antibody; infused effector cells). "
        "Show a model's parameters with: immunoprecise simulate MODEL --list"
    )


# --- the command ------------------------------------------------------------------------------


def simulate_command(
    model_id: Annotated[
        str | None,
        typer.Argument(
            metavar="MODEL",
            help="Model id, e.g. cartmath2021, depillis2006 or kuznetsov1994+checkpoint "
            "(see --list).",
            show_default=False,
        ),
    ] = None,
    regimen: Annotated[
        str | None,
        typer.Option(
            "--regimen",
            "-r",
            help="Regimen text, e.g. 'chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12; "
            "CAR-T 1e8 cells d42'. Default: no treatment.",
            show_default=False,
        ),
    ] = None,
    regimen_file: Annotated[
        Path | None,
        typer.Option(
            "--regimen-file",
            help="Regimen in YAML (a list of items or name + items).",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    t_end: Annotated[
        float, typer.Option("--t-end", help="Days to simulate from day 0.", metavar="DAYS")
    ] = 120.0,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="Parameter value NAME=VALUE (repeatable), e.g. --param gamma=5e-6.",
            metavar="NAME=VALUE",
            show_default=False,
        ),
    ] = None,
    initial: Annotated[
        list[str] | None,
        typer.Option(
            "--initial",
            "-i",
            help="Initial state STATE=VALUE in the state's unit (repeatable), "
            "e.g. --initial T=1e9.",
            metavar="STATE=VALUE",
            show_default=False,
        ),
    ] = None,
    parameter_set: Annotated[
        str | None,
        typer.Option(
            "--parameter-set",
            help="Published parameter set to start from, e.g. RAJI (cartmath2021).",
            show_default=False,
        ),
    ] = None,
    patients: Annotated[
        Path | None,
        typer.Option(
            "--patients",
            help="CSV (or .tsv), one row per virtual patient: columns named like parameters "
            "or states, a 'patient' column for ids; an empty cell keeps the default.",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    method: Annotated[
        SolverMethod | None,
        typer.Option(
            "--method", help="Integrator; default: the model's own choice.", show_default=False
        ),
    ] = None,
    body_weight: Annotated[
        float | None,
        typer.Option(
            "--body-weight",
            help="Body weight in kg (0.2 to 650) for per-kg doses (mg/kg, cells/kg). Default: "
            "70, the ICRP reference adult.",
            metavar="KG",
            show_default=False,
        ),
    ] = None,
    body_surface: Annotated[
        float | None,
        typer.Option(
            "--body-surface",
            help="Body surface area in m² (0.03 to 6) for per-m² doses (mg/m2, cells/m2). "
            "Default: 1.8, the ICRP reference adult.",
            metavar="M2",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Directory for trajectories.csv, summary.json, trajectories.png/.html.",
            file_okay=False,
            callback=output_folder,
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        list[SimulateFormat] | None,
        typer.Option(
            "--format",
            "-f",
            help="File to write; repeat for several. Default with --out: csv, json and png. "
            "Without --out, one of csv or json goes to stdout.",
            show_default=False,
        ),
    ] = None,
    list_models: Annotated[
        bool,
        typer.Option(
            "--list",
            help="List the models: states, parameter sets and dosing inputs (with MODEL: "
            "also its parameters).",
        ),
    ] = False,
) -> None:
    """Simulate tumor and immune effector dynamics of virtual patients under a regimen.

    Prints a summary per patient: tumor at start, nadir and end, eradication day
    and best RECIST 1.1 response. With --out writes trajectories.csv (long table),
    summary.json and trajectories.png (or the --format files chosen).
    Invalid input gives exit code 2 and a message saying what to fix.

    Examples:

      immunoprecise simulate --list

      immunoprecise simulate cartmath2021 --list

      immunoprecise simulate cartmath2021 -r "CAR-T 1e6 cells d42" --t-end 100 -o run/

      immunoprecise simulate depillis2006 --initial T=1e9 -f csv
        -r "chemo 1 mg/kg q21d x3; IL2 5e6 IU/d d8-12" > trajectories.csv

      immunoprecise simulate kuznetsov1994+checkpoint -r "anti-PD-1 200 mg q21d x4"

      immunoprecise simulate cartmath2021 --parameter-set RAJI --patients cohort.csv
        --regimen-file plan.yaml --out run/ -f png -f html
    """
    try:
        _run(
            model_id,
            regimen=regimen,
            regimen_file=regimen_file,
            t_end=t_end,
            param=param or [],
            initial=initial or [],
            parameter_set=parameter_set,
            patients=patients,
            method=method,
            body_weight=body_weight,
            body_surface=body_surface,
            out=out,
            formats=list(dict.fromkeys(fmt or [])),
            list_models=list_models,
        )
    except (_UsageError, ImmunopreciseError) as exc:
        _err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None


def _run(
    model_id: str | None,
    *,
    regimen: str | None,
    regimen_file: Path | None,
    t_end: float,
    param: Sequence[str],
    initial: Sequence[str],
    parameter_set: str | None,
    patients: Path | None,
    method: SolverMethod | None,
    body_weight: float | None,
    body_surface: float | None,
    out: Path | None,
    formats: list[SimulateFormat],
    list_models: bool,
) -> None:
    from immunoprecise.dynamics.dosing import REFERENCE_BODY_SURFACE_M2, REFERENCE_BODY_WEIGHT_KG
    from immunoprecise.dynamics.models import get_model
    from immunoprecise.dynamics.simulate import (
        MAX_T_END_DAYS,
        check_output_size,
        late_doses_fix,
        output_times,
        simulate,
    )
    from immunoprecise.wording import counted

    if list_models:
        _list_models(model_id)
        return
    if model_id is None:
        raise _UsageError(
            "give a MODEL, e.g. cartmath2021; list them with: immunoprecise simulate --list"
        )
    if out is None:
        needs_dir = [f.value for f in formats if f in (SimulateFormat.png, SimulateFormat.html)]
        if needs_dir:
            raise _UsageError(f"--format {' and '.join(needs_dir)} needs --out DIR")
        if len(formats) > 1:
            raise _UsageError("without --out only one of --format csv or json can go to stdout")
    elif not formats:
        formats = [SimulateFormat.csv, SimulateFormat.json, SimulateFormat.png]
    model = get_model(model_id.strip())
    params = _assignments(param, "--param", "gamma=5e-6")
    y0 = _assignments(initial, "--initial", "T=1e9")
    for name in params:
        if name not in model.parameter_names:
            raise ModelError(
                f"model {model.id} has no parameter {name!r}; parameters: "
                f"{', '.join(model.parameter_names)}"
            )
    for name in y0:
        model.state_index(name)
    if parameter_set is not None:
        model.parameter_set(parameter_set)
    if body_weight is not None and math.isfinite(body_weight) and body_weight > 0:
        from immunoprecise.dynamics.dosing import body_weight_problem

        problem = body_weight_problem(body_weight)
        if problem:
            raise _UsageError(f"--body-weight {problem}")
    if body_surface is not None and math.isfinite(body_surface) and body_surface > 0:
        from immunoprecise.dynamics.dosing import body_surface_problem

        problem = body_surface_problem(body_surface)
        if problem:
            raise _UsageError(f"--body-surface {problem}")
    reg = _read_regimen(regimen, regimen_file)
    p_values: Mapping[str, float] | pd.DataFrame = params
    y_values: Mapping[str, float] | pd.DataFrame = y0
    if patients is not None:
        p_values, y_values = _read_patients(patients, model, params, y0, parameter_set)
    if math.isfinite(t_end) and 0 < t_end <= MAX_T_END_DAYS:  # else simulate names --t-end
        check_output_size(
            len(p_values) if isinstance(p_values, pd.DataFrame) else 1,
            output_times(t_end).size,
            what="immunoprecise simulate",
            daily=True,
            fix="shorten --t-end or split the --patients file into smaller ones, or run a "
            "virtual trial (immunoprecise trial), which simulates a large population in chunks",
        )
    show = _err.is_terminal
    with Progress(console=_err, transient=True, disable=not show) as bar:
        task = bar.add_task(f"simulating {model.id}", total=1.0)
        tr = simulate(
            model,
            t_end=t_end,
            regimen=reg,
            params=p_values,
            initial=y_values,
            parameter_set=parameter_set,
            method=None if method is None else method.value,
            body_weight_kg=REFERENCE_BODY_WEIGHT_KG if body_weight is None else body_weight,
            body_surface_m2=REFERENCE_BODY_SURFACE_M2 if body_surface is None else body_surface,
            progress=lambda f: bar.update(task, completed=f),
            t_end_name="--t-end",  # the notes name the option, not the library's argument
        )
    notes = [*tr.notes, *_body_size_notes(model, reg, t_end, body_weight, body_surface)]
    summary = _summary(tr, t_end=t_end, params=params, initial=y0, patients_file=patients)
    if len(summary.get("response", {}).get("assessment_days", ())) == 1:
        from immunoprecise.dynamics.response import DEFAULT_SCAN_INTERVAL_DAYS

        every = DEFAULT_SCAN_INTERVAL_DAYS
        notes.append(
            f"best RECIST is NE: only the baseline scan falls within {counted(t_end, 'day')}, "
            f"and a response needs a scan after it (every {every:g} days); give --t-end "
            f"{every:g} or more to assess it"
        )
    summary["notes"] = notes
    to_stdout = out is None and bool(formats)
    (_err if to_stdout else _out).print(_table(tr, summary))
    late_fix = late_doses_fix("--t-end")
    for note in notes:  # doses left out of the run warn; the rest are notes
        _err.print(f"{'warning' if note.endswith(late_fix) else 'note'}: {note}", markup=False)
    failed = int((~tr.ok).sum())
    if failed:
        _err.print(
            f"warning: {counted(failed, 'patient')} could not be integrated to the end",
            markup=False,
        )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    written = _write(tr, summary, formats, out)
    if written:
        _err.print(f"Wrote {counted(len(written), 'file')} to {out}/:", markup=False)
        for path in written:
            _err.print(f"  {path}", markup=False)
