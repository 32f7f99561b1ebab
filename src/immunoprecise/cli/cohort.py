"""``immunoprecise cohort``: survival, cut-points, response tables and predictors of a cohort."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from immunoprecise.cli.paths import output_file, writing
from immunoprecise.errors import CohortError, ImmunopreciseError, repeated

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from immunoprecise.cohort import Statistic

__all__ = ["cohort_app", "load_cohort_frame"]

EXIT_INVALID_INPUT = 2
cohort_app = typer.Typer(
    name="cohort",
    help="Analyse a cohort with outcomes: Kaplan–Meier and log-rank/Cox (survival), optimal "
    "biomarker cut-points (cutpoint), response rates with exact CIs (response), ROC/DeLong "
    "(predictors), or all of it as an HTML report (report). Research decision support, not a "
    "medical device.",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

Source = Annotated[
    Path,
    typer.Argument(
        help="A cohort table of patient records (.csv, .tsv, .xlsx: one patient per row with "
        "outcome columns pfs_days|pfs_months, pfs_event, os_days|os_months, os_event, "
        "best_response); an analysis table (.csv/.tsv/.xlsx without a diagnosis column: "
        "patient_id, outcome columns in days, any biomarker or score columns); or a folder in "
        "the ICB cohort format (clinical.tsv + expression.tsv.gz).",
        show_default=False,
    ),
]
SheetOpt = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        help="Sheet of an Excel workbook to read the cohort from (by name); needed when the "
        "workbook has more than one sheet with data.",
    ),
]


def _endpoint(value: str) -> str:
    """``--endpoint`` in any letter case (``PFS`` as written in papers); checked by the library."""
    return value.strip().lower()


EndpointOpt = Annotated[
    str,
    typer.Option(
        "--endpoint", "-e", callback=_endpoint, help="Survival endpoint: os or pfs (any case)."
    ),
]
ReferenceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--reference",
        help="Reference level of a text covariate of the Cox model: 'COLUMN=LEVEL' (repeat; "
        "default the most frequent level), e.g. --reference risk.flipi:category=low.",
    ),
]
PenalizerOpt = Annotated[
    float,
    typer.Option(
        "--penalizer",
        help="Ridge penalty of the Cox model, ≥ 0 (0: none). A small one (0.01–0.1) gives "
        "a finite fit where a covariate separates the events; its hazard ratios are shrunk "
        "towards 1, and it is shown with them.",
    ),
]
PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Save the figure to this file (.png, .svg or .pdf).",
        callback=output_file(".png", ".svg", ".pdf"),
    ),
]
JsonOpt = Annotated[
    Path | None,
    typer.Option(
        "--json", help="Also write the full result as JSON to this file.", callback=output_file()
    ),
]


def load_cohort_frame(source: Path, *, sheet: str | None = None) -> pd.DataFrame:
    """The analysis table of a cohort table file or an ICB cohort folder.

    A table (CSV, TSV or Excel workbook) with a ``diagnosis`` column holds patient records and
    is read by :func:`~immunoprecise.read_cohort`; one without is an analysis table, read as it
    is. A text table is split where :func:`~immunoprecise.read_cohort` splits it: at ``,`` (tab
    for ``.tsv``), or at the one other separator its header splits at (``;``, as Excel writes
    CSV where the decimal mark is the comma, which an analysis table then reads as such).
    ``sheet`` names the sheet of an Excel workbook to read (refused for other files, as
    :func:`~immunoprecise.read_cohort` refuses it).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> load_cohort_frame(ip.data.example_path("fl_cohort.csv")).shape[0]
    200
    """
    import pandas as pd

    from immunoprecise.cohort import cohort_frame
    from immunoprecise.records import read_cohort
    from immunoprecise.records.readers import binary_content
    from immunoprecise.records.table import (
        EXCEL_SUFFIXES,
        header_as_written,
        read_frame,
        read_table,
        text_separator,
    )

    if sheet is not None and source.is_dir():
        raise CohortError(f"{source.name}: --sheet is for Excel workbooks, not a folder")
    suffix = source.suffix.lower()
    if source.is_file() and suffix in EXCEL_SUFFIXES:
        # the sheet's cells, read (and checked) once, as the records' reader reads them
        cells = read_frame(source, sheet=sheet)
        if "diagnosis" in cells.columns:  # patient records, read from the cells already read
            return cohort_frame(read_table(cells, folder=source.parent))
        return cohort_frame(cells)  # an analysis table as it is; index: the sheet's row numbers
    if sheet is not None:  # refused for a file that is not a workbook, as read_cohort refuses it
        return cohort_frame(read_cohort(source, sheet=sheet))
    if source.is_dir():
        from immunoprecise.cohort.icb import read_icb_cohort

        return read_icb_cohort(source)
    if source.is_file() and suffix in (".csv", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        problem = binary_content(source)
        if problem is not None:
            raise CohortError(f"{source.name}: {problem}")
        try:
            # the separator as the records' reader finds it: ';' where Excel writes CSV with a
            # decimal comma, a tab; an Excel 'sep=;' first line names it and is skipped
            sep, skip = text_separator(source, sep)
            header = header_as_written(source, sep) if not skip else _header(source, sep, skip)
            if "diagnosis" in header:  # patient records: read by the records' table reader
                return cohort_frame(source)
            twice = repeated(header)
            if twice:  # pandas would read the second as a new column ("crp.1")
                raise CohortError(
                    f"{source.name}: column name(s) written more than once: "
                    f"{', '.join(twice)}; keep one of each"
                )
            # an analysis table as it is (not patient records)
            table = pd.read_csv(source, sep=sep, skiprows=skip, encoding="utf-8-sig")
            return cohort_frame(_decimal_commas(table) if sep == ";" else table)
        except ImmunopreciseError:
            raise  # the records' own error names every bad field; keep it whole
        except pd.errors.EmptyDataError:
            raise CohortError(f"{source.name}: is empty (no header row)") from None
        except UnicodeDecodeError as exc:
            raise CohortError(
                f"{source.name}: is not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        except (pd.errors.ParserError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CohortError(f"{source.name}: cannot be read as a table: {first}") from None
    return cohort_frame(source)


def _header(source: Path, sep: str, skip: int) -> list[str | None]:
    """The header row of a text table below its first ``skip`` lines (Excel's ``sep=;``)."""
    import pandas as pd

    first = pd.read_csv(
        source, sep=sep, header=None, skiprows=skip, nrows=1, dtype=str, encoding="utf-8-sig"
    )
    return [None if pd.isna(c) else str(c) for c in first.iloc[0]]


def _decimal_commas(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of a ';'-separated analysis table written with decimal commas (``120,5``,
    as Excel writes CSV where the comma is the decimal mark) as numbers. A column that mixes
    decimal commas with other text is left as written, for the analysis to name its value.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"os_days": ["120,5", "300"], "arm": ["A", "B"], "x": ["1,5", "2.5"]})
    >>> _decimal_commas(t).dtypes.astype(str).tolist()
    ['float64', 'object', 'object']
    """
    import re

    import pandas as pd

    number = re.compile(r"^\s*[-+]?\d+(?:,\d+)?(?:[eE][-+]?\d+)?\s*$")
    out = table.copy()
    for column in out.columns:
        cells = out[column].dropna()
        if out[column].dtype != object or cells.empty:
            continue
        texts = cells.astype(str)
        if all(number.match(t) for t in texts) and texts.str.contains(",").any():
            out[column] = pd.to_numeric(out[column].str.replace(",", ".", regex=False))
    return out


def _fail(exc: object) -> typer.Exit:
    _err.print(f"error: {exc}", markup=False)
    return typer.Exit(EXIT_INVALID_INPUT)


def _save(fig: Figure, path: Path | None) -> None:
    if path is not None:
        with writing(path):
            fig.savefig(path, dpi=150)
        _out.print(f"figure: {path}", markup=False)


def _write_json(payload: object, path: Path | None) -> None:
    if path is not None:
        with writing(path):
            path.write_text(json_text(payload) + "\n", encoding="utf-8")
        _out.print(f"result: {path}", markup=False)


def json_text(payload: object) -> str:
    """Standard JSON of a result: an infinite or undefined number (a median not reached) is
    written ``null``, since ``Infinity``/``NaN`` are not JSON and most readers refuse them.

    Examples
    --------
    >>> json.loads(json_text({"median": float("inf"), "n": 3, "ci": [1.5, float("nan")]}))
    {'median': None, 'n': 3, 'ci': [1.5, None]}
    """
    from immunoprecise.cohort.statistic import finite_json

    return json.dumps(finite_json(payload), indent=2, default=str, allow_nan=False)


def _excluded(ids: Sequence[str], why: str) -> None:
    if ids:
        shown = ", ".join(ids[:8]) + (f", … ({len(ids)} in all)" if len(ids) > 8 else "")
        _out.print(f"left out ({why}): {shown}", markup=False)


def _columns(table: Table, names: Sequence[str]) -> None:
    """Add the columns of a printed table; a cell too wide for the terminal folds onto the next
    line instead of ending in "…", which would hide digits (an ORR CI's upper bound)."""
    for name in names:
        table.add_column(name, overflow="fold")


def _stat(s: Statistic) -> str:
    return str(s)


@cohort_app.command("survival")
def survival(
    source: Source,
    endpoint: EndpointOpt = "os",
    by: Annotated[
        str | None,
        typer.Option("--by", help="Column whose levels are compared (e.g. risk.flipi:category)."),
    ] = None,
    trend: Annotated[
        bool, typer.Option("--trend", help="Log-rank test for trend across ordered levels.")
    ] = False,
    order: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated order of the levels for --trend (low,intermediate,high)."
        ),
    ] = None,
    cox: Annotated[
        list[str] | None,
        typer.Option("--cox", help="Covariate of a Cox model (repeat for several)."),
    ] = None,
    reference: ReferenceOpt = None,
    penalizer: PenalizerOpt = 0.0,
    per_sd: Annotated[
        bool,
        typer.Option(
            "--per-sd",
            help="Hazard ratios of numeric Cox covariates per standard deviation (the sample "
            "SD, ddof=1, of the patients in the fit) instead of per unit, to compare covariates "
            "on different scales; levels and 0/1 covariates stay per level.",
        ),
    ] = False,
    plot: PlotOpt = None,
    json_out: JsonOpt = None,
    sheet: SheetOpt = None,
) -> None:
    """Kaplan–Meier curves (median with CI, numbers at risk), log-rank test (or trend), and a
    Cox model with its proportional-hazards check.

    Example: immunoprecise cohort survival fl_cohort.csv --endpoint pfs --by risk.flipi:category
    --cox risk.flipi:category --cox crp --reference risk.flipi:category=low --plot km.png
    (add --per-sd for hazard ratios per standard deviation of crp)
    """
    from immunoprecise import pl
    from immunoprecise.cohort import cox_model, kaplan_meier, log_rank
    from immunoprecise.cohort.cox import SD_DEFINITION
    from immunoprecise.cohort.statistic import format_number, format_ratio

    if order and not trend:  # the order is only read by the trend test
        raise _fail(f"--order {order} orders the levels for the trend test; add --trend")
    if trend and not by:
        raise _fail("--trend tests a trend across the levels of a column; give it with --by")
    references = _cox_setup(cox, reference, penalizer)
    if per_sd and not cox:
        raise _fail("--per-sd sets up the Cox model; name its covariates with --cox")
    try:
        frame = load_cohort_frame(source, sheet=sheet)
        km = kaplan_meier(frame, endpoint=endpoint, group=by)
        trend_test = None
        if trend:
            levels = [x.strip() for x in order.split(",")] if order else None
            trend_test = log_rank(frame, group=by, endpoint=endpoint, trend=True, order=levels)
        model = (
            cox_model(
                frame,
                cox,
                endpoint=endpoint,
                reference_levels=references or None,
                penalizer=penalizer,
                scale="sd" if per_sd else "unit",
            )
            if cox
            else None
        )
    except ImmunopreciseError as exc:
        raise _fail(_cli_advice(str(exc), "--penalizer 0.1")) from None
    table = Table(title=f"{endpoint.upper()} by {by or 'all patients'} (days)")
    for col in ("group", "n", "events", "median (95% CI)", "at risk (day: n)"):
        table.add_column(col, overflow="fold")
    for c in km.curves:
        m = c.median
        low, high = format_number(m.ci_low, 0), format_number(m.ci_high, 0)
        median = f"{format_number(m.estimate, 0)} ({low}–{high})"
        at_risk = ", ".join(
            f"{_day(t)}: {k}" for t, k in zip(c.at_risk_times, c.at_risk, strict=True)
        )
        table.add_row(c.label, str(c.n), str(c.events), median, at_risk)
    _out.print(table)
    if km.log_rank is not None:
        _out.print(_stat(km.log_rank), markup=False)
    for note in km.notes:
        _out.print(f"Note: {note}.", markup=False)
    if trend_test is not None:
        _out.print(_stat(trend_test), markup=False)
    if model is not None:
        penalized = f", ridge penalizer {model.penalizer:g}" if model.penalizer else ""
        cox_table = Table(
            title=f"Cox model of {endpoint.upper()} (n={model.n}, {model.events} events{penalized})"
        )
        scaled = model.scale == "sd"
        hr_head = "HR per SD (95% CI)" if scaled else "HR (95% CI)"
        # with --per-sd, what each HR is per: "1 SD (7.34)", or per level for levels and 0/1
        for col in ("term", hr_head, *(["per"] if scaled else []), "p", "PH test p"):
            cox_table.add_column(col, overflow="fold")  # a term cut short is another term
        for term, hr in model.hazard_ratios.items():
            ph = model.ph_tests[term].p_value
            cox_table.add_row(
                term,
                format_ratio(hr.estimate, hr.ci_low, hr.ci_high),
                *([model.per(term)] if scaled else []),
                _p(hr.p_value),
                _p(ph) + (" (violated)" if term in model.ph_violated else ""),
            )
        _out.print(cox_table)
        if scaled:
            _out.print(
                f"Hazard ratios per SD: per 1 {SD_DEFINITION} (the value in brackets under "
                "'per'), not per unit; levels and two-valued covariates are per level.",
                markup=False,
            )
        if model.reference_levels:  # what each level's hazard ratio is against
            against = ", ".join(f"{k} = {v}" for k, v in model.reference_levels.items())
            _out.print(f"reference level: {against}", markup=False)
        _out.print(
            f"concordance {model.concordance:.3f}; {_stat(model.likelihood_ratio)}", markup=False
        )
    _excluded(km.excluded, f"no {endpoint} time/event" + (f" or no {by}" if by else ""))
    if model is not None:  # patients with the endpoint but a covariate missing
        listed = set(km.excluded)
        _excluded(
            [p for p in model.excluded if p not in listed],
            f"from the Cox model: no {' or no '.join(model.covariates)}",
        )
    _save(pl.kaplan_meier(km), plot)
    _write_json(
        {
            "kaplan_meier": km.model_dump(mode="json"),
            "trend": trend_test.model_dump(mode="json") if trend_test else None,
            "cox": model.model_dump(mode="json") if model else None,
        },
        json_out,
    )


@cohort_app.command("response")
def response(
    source: Source,
    by: Annotated[str | None, typer.Option("--by", help="Column that defines the strata.")] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="Merge levels into a stratum: 'LABEL=level1,level2' (repeat; every level must "
            "be placed).",
        ),
    ] = None,
    json_out: JsonOpt = None,
    sheet: SheetOpt = None,
) -> None:
    """ORR and CR rate per stratum with exact Clopper–Pearson 95% CIs, and Fisher's exact (two
    strata) or χ² test between strata.

    Example: immunoprecise cohort response fl_cohort.csv --by risk.flipi:category
    --group low=low --group "intermediate/poor=intermediate,high"
    """
    from immunoprecise.cohort import response_table

    try:
        groups = _groups(group) if group else None
        result = response_table(load_cohort_frame(source, sheet=sheet), by=by, groups=groups)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    shown = result.table()
    table = Table(title=f"Response by {by or 'all patients'} ({shown.attrs['ci']} CI)")
    _columns(table, ["stratum", *map(str, shown.columns)])
    for stratum, row in shown.iterrows():
        table.add_row(str(stratum), *(str(v) for v in row.tolist()))
    _out.print(table)
    for test in (result.orr_test, result.cr_test):
        if test is not None:
            _out.print(_stat(test), markup=False)
    _excluded(result.excluded, "no best response" + (f" or no {by}" if by else ""))
    _write_json(result.model_dump(mode="json"), json_out)


def _cox_setup(
    cox: Sequence[str] | None, reference: Sequence[str] | None, penalizer: float
) -> dict[str, str]:
    """Check ``--penalizer`` and ``--reference`` (both set up the Cox model of ``--cox``) and
    return the reference levels."""
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise _fail(f"--penalizer {penalizer} is out of range; use 0 (none) or a positive number")
    if (reference or penalizer > 0) and not cox:
        given = "--reference" if reference else "--penalizer"
        raise _fail(f"{given} sets up the Cox model; name its covariates with --cox")
    return _references(reference or [])


def _references(items: Sequence[str]) -> dict[str, str]:
    """``--reference COLUMN=LEVEL`` options as the Cox model's reference levels; split at the
    first ``=``, so that a level may hold one (``age_group=<=65``)."""
    references: dict[str, str] = {}
    for item in items:
        column, sep, level = item.partition("=")
        if not sep or not column.strip() or not level.strip():
            raise _fail(f"--reference {item!r}: write COLUMN=LEVEL, e.g. risk.flipi:category=low")
        if column.strip() in references:
            raise _fail(
                f"--reference {item!r}: {column.strip()!r} is given a reference level twice; "
                "give one"
            )
        references[column.strip()] = level.strip()
    return references


def _cli_advice(message: str, option: str) -> str:
    """A library's advice named as the command's options: a Cox fit's penalizer
    (``--penalizer``), the reference level that codes a covariate as levels (``--reference``)
    and a trend test's order of text levels (``--order``)."""
    from immunoprecise.cohort.cox import LEVELS_ADVICE, PENALIZER_ADVICE
    from immunoprecise.cohort.survival import ORDER_ADVICE

    message = message.replace(
        LEVELS_ADVICE, "give its reference level with --reference COLUMN=LEVEL to code it as levels"
    )
    message = message.replace(
        ORDER_ADVICE, "give their order, lowest first (e.g. --order low,intermediate,high)"
    )
    return message.replace(PENALIZER_ADVICE, f"set a small penalizer ({option})")


def _groups(items: Sequence[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for item in items:
        label, sep, levels = item.partition("=")
        if not sep or not label.strip() or not levels.strip():
            raise _fail(f"--group {item!r}: write LABEL=level1,level2")
        if label.strip() in groups:  # the second would replace the first's levels unseen
            raise _fail(
                f"--group {item!r}: the stratum {label.strip()!r} is given twice; give each "
                "stratum once, with all its levels (LABEL=level1,level2)"
            )
        groups[label.strip()] = [lv.strip() for lv in levels.split(",") if lv.strip()]
    return groups


def _p(p: float | None) -> str:
    from immunoprecise.cohort import format_p

    return "" if p is None else format_p(p)


@cohort_app.command("cutpoint")
def cutpoint(
    source: Source,
    biomarker: Annotated[
        str,
        typer.Argument(
            help="Numeric column, e.g. cd8_foxp3_ratio.interfollicular.", show_default=False
        ),
    ],
    endpoint: EndpointOpt = "os",
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the cut-point's CI.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    min_prop: Annotated[
        float, typer.Option(help="Smallest share of patients on either side of a cut.")
    ] = 0.1,
    horizon_days: Annotated[
        float | None,
        typer.Option(
            help="Day at which survival is compared, e.g. 730 (default 5 years = 1826.25 "
            "days, or the last event time when no patient is followed that long)."
        ),
    ] = None,
    p_method: Annotated[
        str,
        typer.Option(help="Adjusted p-value: lausen-schumacher, lausen-1994 or hothorn-lausen."),
    ] = "lausen-schumacher",
    plot: PlotOpt = None,
    json_out: JsonOpt = None,
    sheet: SheetOpt = None,
) -> None:
    """Optimal cut-point of a biomarker for survival: maximally selected log-rank statistic,
    adjusted p-value, bootstrap CI of the cut, and survival at the horizon on each side.

    A data-driven cut-point is optimistic in the cohort that chose it: confirm it elsewhere.

    Example: immunoprecise cohort cutpoint fl_cohort.csv cd8_foxp3_ratio.interfollicular
    --endpoint pfs --n-boot 1000 --plot scan.png
    """
    from immunoprecise import pl
    from immunoprecise.cohort.cutpoint import optimal_cutpoint

    try:
        with _err.status(f"Scanning cut-points of {biomarker} ({n_boot} bootstrap resamples)…"):
            result = optimal_cutpoint(
                load_cohort_frame(source, sheet=sheet),
                biomarker,
                endpoint=endpoint,
                min_prop=min_prop,
                n_boot=n_boot,
                horizon_days=horizon_days,
                p_method=p_method,
                seed=seed,
            )
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _out.print(result.summary(), markup=False)
    table = Table(title=f"{endpoint.upper()} by the cut of {biomarker}")
    _columns(table, ("group", "n", "events", f"survival at {result.horizon_text} (95% CI)"))
    for g in result.groups:
        s = g.survival_at_horizon
        table.add_row(
            g.label,
            str(g.n),
            str(g.events),
            f"{_pct(s.estimate)} ({_pct(s.ci_low)}–{_pct(s.ci_high)})",
        )
    _out.print(table)
    for stat in (result.cutpoint, result.max_statistic, result.logrank):
        _out.print(_stat(stat), markup=False)
    _excluded(list(result.excluded), f"no {biomarker} or no {endpoint} time/event")
    _save(pl.cutpoint_scan(result), plot)
    _write_json(result.model_dump(mode="json"), json_out)


def _day(t: float) -> str:
    """A day of the numbers at risk: whole days (and days of whole months, 761 for 25 months)
    rounded, a fraction of a short follow-up kept (2.5, not 2)."""
    from immunoprecise.cohort.statistic import format_day

    return format_day(t)


def _pct(x: float | None) -> str:
    return "NE" if x is None or x != x else f"{100 * x:.1f}%"


@cohort_app.command("predictors")
def predictors(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="One cohort (table or ICB folder) to compare predictors on the same patients, "
            "or several to evaluate each and pool across them (random effects).",
            show_default=False,
        ),
    ],
    predictor: Annotated[
        list[str],
        typer.Option("--predictor", "-p", help="Score column, higher = response (repeat)."),
    ],
    outcome: Annotated[
        str,
        typer.Option(help="Outcome column: response (R/NR, 1/0), else derived from best_response."),
    ] = "response",
    plot: PlotOpt = None,
    json_out: JsonOpt = None,
    sheet: SheetOpt = None,
) -> None:
    """ROC AUC with DeLong CI per predictor and paired DeLong tests (Holm-adjusted); with
    several cohorts, per-cohort AUCs pooled by DerSimonian–Laird random effects with τ² and I².

    Example: immunoprecise cohort predictors data/icb/Hugo2016_melanoma_PD1
    data/icb/Riaz2017_melanoma_PD1 -p icb_response -p CYT --plot forest.png
    """
    from immunoprecise import pl
    from immunoprecise.cohort import compare_predictors, evaluate_predictors_across_cohorts
    from immunoprecise.cohort.statistic import format_difference

    try:
        if len(sources) == 1:
            comparison = compare_predictors(
                load_cohort_frame(sources[0], sheet=sheet), predictor, outcome=outcome
            )
            frame = comparison.table()
            payload: object = comparison.model_dump(mode="json")
            figure = pl.roc(comparison)
            excluded = {f"no evaluable {outcome} or a predictor missing": comparison.excluded}
            skipped: list[str] = []
        else:
            frames = {
                label: load_cohort_frame(s, sheet=sheet) for label, s in _labels(sources).items()
            }
            evaluation = evaluate_predictors_across_cohorts(frames, predictor, outcome=outcome)
            frame = evaluation.table()
            payload = evaluation.model_dump(mode="json")
            try:
                figure = pl.forest(evaluation)
            except ValueError as exc:  # a row a forest plot cannot draw, named by pl.forest
                raise CohortError(f"the forest plot cannot be drawn: {exc}") from None
            excluded = {
                f"{c.cohort}, {r.predictor}: no evaluable {outcome} or no {r.predictor}": c.excluded
                for r in evaluation.results
                for c in r.per_cohort
            }
            skipped = [
                f"{cohort}, {r.predictor}: {why}"
                for r in evaluation.results
                for cohort, why in r.skipped
            ]
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    table = Table(title=f"Predictors of {outcome} (95% CIs)")
    if len(sources) == 1:
        _columns(
            table, ("predictor / pair", "AUC or difference (95% CI)", "p (DeLong)", "Holm p", "n")
        )
        for _, row in frame.iterrows():
            table.add_row(
                str(row["predictor"]),
                # a negative difference of two AUCs with the minus sign, as in print
                format_difference(
                    float(row["estimate"]), _float(row["ci_low"]), _float(row["ci_high"])
                ),
                _p(_float(row["p_value"])),
                _p(_float(row["p_holm"])),
                str(row["n"]),
            )
    else:
        _columns(table, ("predictor", "cohort", "n", "responders", "AUC (95% CI)", "weight"))
        for _, row in frame.iterrows():
            table.add_row(
                str(row["predictor"]),
                str(row["cohort"]),
                str(row["n"]),
                str(row["n_responders"]),
                f"{row['auc']:.3f} ({row['ci_low']:.3f}–{row['ci_high']:.3f})",
                _cell(row["weight"]),
            )
    _out.print(table)
    for why, ids in excluded.items():
        _excluded(list(ids), why)
    for line in skipped:  # a cohort without an estimable AUC is named, not dropped silently
        _out.print(f"not evaluated ({line})", markup=False)
    _save(figure, plot)
    _write_json(payload, json_out)


def _label(path: Path) -> str:
    return path.name if path.is_dir() else path.stem


def _labels(sources: Sequence[Path]) -> dict[str, Path]:
    """Cohort label → source: the file's stem (a folder's name), or the path as given where two
    sources share a stem (``a/cohort.csv``, ``b/cohort.csv``), so that no cohort replaces
    another; the same source given twice is refused."""
    twice = repeated([str(s.resolve()) for s in sources])
    if twice:
        raise CohortError(
            f"cohort {twice[0]} is given twice; give each cohort once (a cohort counted twice "
            "would weigh twice in the pooled estimate)"
        )
    stems = [_label(s) for s in sources]
    shared = set(repeated(stems))
    return {(str(s) if stem in shared else stem): s for s, stem in zip(sources, stems, strict=True)}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.4g}"
    return str(value)


def _float(value: object) -> float | None:
    return None if value is None or value != value else float(value)  # type: ignore[arg-type]


@cohort_app.command("report")
def report(
    source: Source,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="HTML file to write.", callback=output_file())
    ],
    endpoint: EndpointOpt = "os",
    by: Annotated[
        str | None, typer.Option("--by", help="Column whose levels are compared.")
    ] = None,
    order: Annotated[
        str | None, typer.Option(help="Comma-separated order of the --by levels (trend test).")
    ] = None,
    cox: Annotated[list[str] | None, typer.Option("--cox", help="Cox covariate (repeat).")] = None,
    reference: ReferenceOpt = None,
    penalizer: PenalizerOpt = 0.0,
    per_sd: Annotated[
        bool,
        typer.Option(
            "--per-sd",
            help="Hazard ratios of numeric Cox covariates per standard deviation (the sample "
            "SD, ddof=1, of the patients in the fit) instead of per unit; the report's Cox "
            "table then reads 'HR per SD' and gives each term's SD.",
        ),
    ] = False,
    biomarker: Annotated[
        list[str] | None, typer.Option("--biomarker", "-b", help="Find its cut-point (repeat).")
    ] = None,
    predictor: Annotated[
        list[str] | None, typer.Option("--predictor", "-p", help="Score of response (repeat).")
    ] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples per cut-point.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    sheet: SheetOpt = None,
) -> None:
    """Write a self-contained HTML report: Kaplan–Meier and log-rank, Cox, response rates,
    cut-points and predictors, with the input's SHA-256, the seed and the library versions.

    Example: immunoprecise cohort report fl_cohort.csv --out fl.html --endpoint pfs
    --by risk.flipi:category --order low,intermediate,high -b cd8_foxp3_ratio.interfollicular
    """
    from pydantic import ValidationError as PydanticValidationError

    from immunoprecise.report.cohort import CohortReportOptions, cohort_report

    references = _cox_setup(cox, reference, penalizer)
    if per_sd and not cox:
        raise _fail("--per-sd sets up the Cox model; name its covariates with --cox")
    try:
        options = CohortReportOptions(
            endpoint=endpoint,
            by=by,
            order=tuple(x.strip() for x in order.split(",")) if order else None,
            cox=tuple(cox or ()),
            cox_reference_levels=references,
            cox_penalizer=penalizer,
            cox_per_sd=per_sd,
            biomarkers=tuple(biomarker or ()),
            predictors=tuple(predictor or ()),
            n_boot=n_boot,
            seed=seed,
        )
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"--{first['loc'][0]} = {first.get('input')!r}: {first['msg']}") from None
    try:
        frame = load_cohort_frame(source, sheet=sheet)
        with _err.status("Analysing the cohort…"):
            written = cohort_report(frame, options, source=source if source.is_file() else None)
    except ImmunopreciseError as exc:
        raise _fail(_cli_advice(str(exc), "--penalizer 0.1")) from None
    with writing(out):
        out.write_text(written.html, encoding="utf-8")
    for note in written.notes:  # written with a note in place of its statistics; exit 0
        _err.print(f"note: {note.section} not computed: {note.note}", markup=False)
    _out.print(f"report: {out}", markup=False)
