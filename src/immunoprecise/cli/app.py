"""The Typer application and its commands."""

from __future__ import annotations

import inspect
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table
from rich.text import Text

from immunoprecise.cli.cohort import cohort_app
from immunoprecise.cli.db import db_app
from immunoprecise.cli.kb import kb_app
from immunoprecise.cli.paths import output_folder, writing
from immunoprecise.cli.score_expression import score_expression_command
from immunoprecise.cli.serve import serve_command, token_app
from immunoprecise.cli.simulate import simulate_command
from immunoprecise.cli.stdio import (
    NON_ASCII,
    json_escape,
    stdout_is_utf8,
    tolerate_any_encoding,
)
from immunoprecise.cli.trial import trial_command
from immunoprecise.errors import ImmunopreciseError
from immunoprecise.evaluation import Evaluation, evaluate, file_sha256
from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.recommend.plan import WhatIf
from immunoprecise.recommend.what_if import OverrideValue
from immunoprecise.records import PatientRecord, read_bundle_file, read_patients
from immunoprecise.wording import counted

__all__ = ["app", "main"]

EXIT_INVALID_INPUT = 2
JSONL_NAME = "evaluations.jsonl"
"""The one file ``--format jsonl --out DIR`` writes: a line per patient, for all patients."""
_LINE_BREAKS_ESCAPED = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}

app = typer.Typer(
    name="immunoprecise",
    help="Immune precision oncology: profile patients and rank immune strategies with their "
    "evidence. Research decision support, not a medical device.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# emoji=False: text is printed as written (rich would otherwise turn an alteration written
# "del :pill:" or a file named "visit:pill:2.json" into an emoji)
_err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
app.add_typer(kb_app)
app.add_typer(db_app)
app.add_typer(cohort_app)
app.add_typer(token_app)
app.command("serve")(serve_command)
app.command("simulate")(simulate_command)
app.command("trial")(trial_command)
app.command("score-expression")(score_expression_command)


class OutputFormat(StrEnum):
    """Formats ``evaluate`` can write."""

    json = "json"
    jsonl = "jsonl"
    table = "table"
    html = "html"
    fhir = "fhir"
    pdf = "pdf"


def _version(value: bool) -> None:
    if value:
        from immunoprecise import __version__

        typer.echo(f"immunoprecise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Immune precision oncology, research decision support (not a medical device)."""


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """A table of the ``--format table`` output, titled and with its columns."""
    table = Table(title=Text(title, style="table.title"), show_lines=False)
    for column in columns:
        table.add_column(column)
    return table


def _add_row(table: Table, *cells: str) -> None:
    """Add a row of text shown as written: record texts (an alteration written
    ``V600E [c.1799T>A]``, a rationale with ``[1]``) are not read as rich markup, which would
    drop the bracketed part or stop the command."""
    table.add_row(*(Text(cell) for cell in cells))


def _profile_table(ev: Evaluation) -> Table:
    from immunoprecise.report.rendering import display_number

    table = _table(
        f"{ev.patient_id}: immune profile", ("value", "result", "unit", "category", "reference")
    )
    for v in ev.profile.values.values():
        if v.status == "assessed":
            result = display_number(v.value) if isinstance(v.value, float) else str(v.value)
            if v.note:  # e.g. MSI and MMR disagree: the value comes with its caveat
                result += f" ({v.note})"
        else:
            result = (
                "not assessable: missing " + ", ".join(v.missing)
                if v.missing
                else (f"not assessable: {v.note}")
            )
            if v.missing and v.note:  # both, as the HTML report shows them
                result += f" ({v.note})"
        _add_row(
            table,
            v.label,
            result,
            v.unit or "",
            v.category or "",
            "; ".join(c.short for c in v.references),
        )
    return table


def _plan_table(ev: Evaluation) -> Table:
    table = _table(
        f"{ev.patient_id}: ranked strategies",
        ("#", "therapy", "status", "score", "OncoKB", "CIViC", "because"),
    )
    for o in ev.plan.options:
        because = "; ".join(r for f in o.rationale for r in f.because)
        # a caution's reasons weigh against the option: labelled, not read as support
        cautions = "; ".join(
            f"caution ({f.effect.value}, {f.rule_id}): {'; '.join(f.because)}" for f in o.cautions
        )
        because = "; ".join(x for x in (because, cautions) if x)
        _add_row(
            table,
            str(o.rank),
            o.name,
            o.status,
            str(o.score),
            o.oncokb_level or "",
            o.civic_level or "",
            because,
        )
    return table


def _contraindicated_table(ev: Evaluation) -> Table:
    table = _table(
        f"{ev.patient_id}: contraindicated for this patient",
        ("therapy", "OncoKB", "CIViC", "because"),
    )
    for o in ev.plan.contraindicated:
        because = "; ".join(
            f"{f.rule_id} ({f.effect.value}): {'; '.join(f.because)}" for f in o.cautions
        )
        _add_row(table, o.name, o.oncokb_level or "", o.civic_level or "", because)
    return table


def _undecided_table(ev: Evaluation) -> Table:
    table = _table(
        f"{ev.patient_id}: rules that could not be decided (data missing)",
        ("rule", "would affect", "missing"),
    )
    for u in ev.plan.not_evaluated:
        effect = u.effect.value if u.effect is not None else u.kind
        _add_row(table, f"{u.rule_id} ({effect})", ", ".join(u.therapies), "; ".join(u.missing))
    return table


def _write(
    ev: Evaluation,
    record: PatientRecord,
    formats: list[OutputFormat],
    out: Path | None,
    console: Console,
    started: set[Path],
) -> list[Path]:
    """Write one evaluation in each format; returns the files written for the first time.

    ``started`` holds the files shared by all patients of the run (``evaluations.jsonl``) that
    were already begun: they are appended to, not listed again.
    """
    from immunoprecise.report import render_html

    written = []
    for fmt in formats:
        if fmt is OutputFormat.jsonl:
            # JSON Lines: the --format json document, compact, on one line. JSON leaves U+0085,
            # U+2028 and U+2029 unescaped, yet str.splitlines() breaks lines at them.
            line = ev.model_dump_json().translate(_LINE_BREAKS_ESCAPED) + "\n"
            if out is None:
                _to_stdout(line, fmt)
                continue
            path = out / JSONL_NAME
            with writing(path), path.open("a" if path in started else "w", encoding="utf-8") as f:
                f.write(line)
            if path not in started:
                started.add(path)
                written.append(path)
            continue
        if fmt is OutputFormat.table:
            if ev.plan.what_if is not None:
                console.print(_what_if_text(ev.plan.what_if), markup=False)
            console.print(_profile_table(ev))
            console.print(_plan_table(ev))
            if ev.plan.disease_note is not None:
                console.print(ev.plan.disease_note, markup=False)
            elif not ev.plan.options:
                console.print("No option in the knowledge base applies to this profile.")
            # shown as the HTML report shows them: an option a rule rules out, and a rule left
            # undecided for missing data, are not the same as no rule at all
            if ev.plan.contraindicated:
                console.print(_contraindicated_table(ev))
            if ev.plan.not_evaluated:
                console.print(_undecided_table(ev))
            # the table is read without the JSON or HTML around it: it carries the caveat too
            console.print(ev.disclaimer, markup=False)
            continue
        if fmt is OutputFormat.pdf:
            from immunoprecise.report import render_pdf

            if out is None:  # refused before any patient is evaluated; kept for direct callers
                raise ValueError("--format pdf needs --out DIR")
            data = render_pdf(ev, record)
            path = out / f"{ev.patient_id}.pdf"
            with writing(path):
                path.write_bytes(data)
            written.append(path)
            continue
        if fmt is OutputFormat.fhir:
            import json

            from immunoprecise.records.fhir_export import patient_reference, profile_to_fhir

            # the Patient record_to_fhir writes: a FHIR id has no '_'
            bundle = profile_to_fhir(ev.profile, patient_reference=patient_reference(ev.patient_id))
            text = json.dumps(bundle, indent=2, ensure_ascii=False)
        elif fmt is OutputFormat.json:
            text = ev.model_dump_json(indent=2)
        else:
            text = render_html(ev, record)
        if out is None:
            _to_stdout(text + "\n", fmt)
        else:
            suffix = "fhir.json" if fmt is OutputFormat.fhir else fmt.value
            path = out / f"{ev.patient_id}.{suffix}"
            with writing(path):
                path.write_text(text + "\n", encoding="utf-8")
            written.append(path)
    return written


def _to_stdout(text: str, fmt: OutputFormat) -> None:
    """Write a JSON or HTML document to stdout in any encoding of stdout.

    A stdout that is not UTF-8 (a Windows redirect writes cp1252; a Latin-1 or ASCII locale)
    cannot take every character (≥, µ, γδ) and would write the others in its own encoding, which
    a JSON or HTML reader does not expect. There the document is written in ASCII: characters
    beyond it as JSON escapes (``\\u2265``) or HTML character references (``&#x2265;``), which
    read the same.
    """
    if not stdout_is_utf8():
        if fmt is OutputFormat.html:  # the styles are ASCII: references only meet text
            text = NON_ASCII.sub(lambda m: f"&#x{ord(m.group()):x};", text)
        else:  # outside strings, JSON is ASCII
            text = NON_ASCII.sub(json_escape, text)
    sys.stdout.write(text)


def _named(pids: list[str]) -> str:
    """The first ten patient ids, and an ellipsis for more."""
    return ", ".join(pids[:10]) + (", …" if len(pids) > 10 else "")


def _read_input(path: Path, *, sheet: str | None) -> tuple[list[PatientRecord], list[str]]:
    """The patients of one input file, and what reading it left out or noted.

    A FHIR Bundle may hold resources the record has no field for (a CEA, a HER2 score, a
    second value at the same time): each is named with its code and the reason, per patient,
    as ``immunoprecise db import`` names them; so are the notes on how values were read (an
    age computed from the birth date). Other files give no notes.
    """
    bundle = read_bundle_file(path) if sheet is None else None
    if bundle is None:
        return read_patients(path, sheet=sheet), []
    notes = [f"patient {line}" for imported in bundle for line in imported.report]
    return [imported.record for imported in bundle], notes


def _what_if_text(what_if: WhatIf) -> str:
    """The what-if banner of the table output: the plan below is hypothetical."""
    shown = "; ".join(str(o) for o in what_if.overrides)
    # an option whose status stayed is shown by its score, never as "indicated → indicated"
    changes = "; ".join(str(c) for c in what_if.changes)
    strategies = "".join(
        f" Strategies {how}: {', '.join(ids)}."
        for how, ids in (
            ("now proposed", what_if.strategies_added),
            ("no longer proposed", what_if.strategies_removed),
        )
        if ids
    )
    return (
        f"WHAT-IF (hypothetical, not the patient's record): {shown}. "
        f"The strategies below are made with these values; the profile shows the recorded "
        f"ones. {('Changes: ' + changes + '.') if changes else 'No option changed.'}"
        f"{strategies}"
    )


def _parse_what_if(items: list[str]) -> dict[str, OverrideValue]:
    """``KEY=VALUE`` pairs; a value is read as JSON (numbers, true/false, null) or else text."""
    import json

    overrides: dict[str, OverrideValue] = {}
    given: dict[str, str] = {}  # each key as first written
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            _err.print(f"error: --what-if {item!r}: write KEY=VALUE, e.g. crp=40", markup=False)
            raise typer.Exit(EXIT_INVALID_INPUT)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if not isinstance(value, str | int | float | bool) and value is not None:
            value = raw
        key = key.strip()
        if key in overrides and overrides[key] != value:
            # the last would silently win: the plan would answer a question not asked
            _err.print(
                f"error: --what-if {key} is given twice, as {given[key]!r} and {raw!r}; "
                "give each value once",
                markup=False,
            )
            raise typer.Exit(EXIT_INVALID_INPUT)
        overrides[key] = value
        given.setdefault(key, raw)
    return overrides


@app.command("evaluate")
def evaluate_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Patient files: JSON or YAML (one patient), CSV/TSV/Excel (one patient per "
            "row), or a FHIR R4 / mCODE Bundle (.json).",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        list[OutputFormat] | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format; repeat for several (json: one indented document per patient, "
            "back to back on stdout; jsonl: JSON Lines, one compact document per line and "
            "patient, for pandas.read_json(lines=True); table, html, pdf: the report via "
            "WeasyPrint, fhir: the profile as FHIR Observations). Default: json.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Directory for <patient>.json / .html / .pdf / .fhir.json, and one "
            f"{JSONL_NAME} for all patients (jsonl); stdout if omitted.",
            file_okay=False,
            callback=output_folder,
        ),
    ] = None,
    knowledge: Annotated[
        Path | None,
        typer.Option(
            "--knowledge",
            help="Knowledge-base directory to use instead of the shipped one.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    what_if: Annotated[
        list[str] | None,
        typer.Option(
            "--what-if",
            help="Hypothetical profile value KEY=VALUE (repeatable), e.g. --what-if "
            "msi_status=MSI-H --what-if crp=40; the plan then lists what changed.",
        ),
    ] = None,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate/--no-simulate",
            help="Also simulate candidate regimens of the top options (tumor–effector "
            "dynamics over a seeded cloud of virtual patients; ~1–10 s per patient).",
        ),
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the simulations' virtual patients.")
    ] = 0,
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet",
            help="Sheet of an Excel workbook to read the patients from (by name); needed when "
            "the workbook has more than one sheet with data.",
        ),
    ] = None,
) -> None:
    """Evaluate patients: immune profile and ranked strategies, as JSON, a table or HTML.

    Invalid input is reported field by field on stderr and gives exit code 2; the valid
    patients given alongside are still evaluated. A patient id given twice is evaluated once
    (the ids name the output files). With --what-if, the table output starts with a banner
    saying the strategies are hypothetical.

    For several patients, --format json prints the documents back to back (read them with jq);
    --format jsonl prints one line per patient, which pandas.read_json(..., lines=True) and a
    json.loads per line read, and with --out writes them all to DIR/evaluations.jsonl.

    Example: immunoprecise evaluate patient.json --format json --format html --out out/

    With simulated regimens: immunoprecise evaluate patient.json --simulate -f html -o out/
    """
    formats = list(dict.fromkeys(fmt or [OutputFormat.json]))
    overrides = _parse_what_if(what_if or [])
    if out is None and OutputFormat.pdf in formats:
        _err.print("error: --format pdf needs --out DIR", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT)
    if OutputFormat.pdf in formats:
        from immunoprecise.report import check_pdf_support

        try:  # refused before any patient is evaluated or any other format written
            check_pdf_support()
        except ImmunopreciseError as exc:
            _err.print(f"error: --format pdf: {exc}", markup=False)
            raise typer.Exit(EXIT_INVALID_INPUT) from None
    try:
        kb: KnowledgeBase = load_knowledge_base(knowledge)
    except ImmunopreciseError as exc:
        _err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    failed_files = 0
    failed_patients = 0
    inputs: list[tuple[Path, list[PatientRecord], str]] = []
    noted: set[Path] = set()
    for path in paths:
        try:
            records, notes = _read_input(path, sheet=sheet)
            inputs.append((path, records, file_sha256(path)))
        except ImmunopreciseError as exc:
            _err.print(f"error: {exc}", markup=False)
            failed_files += 1
            continue
        if path.resolve() not in noted:  # a file given twice is noted once
            noted.add(path.resolve())
            for note in notes:
                _err.print(f"note: {path}: {note}", markup=False)
    n_records = sum(len(records) for _, records, _ in inputs)
    if out is None and n_records > 1 and OutputFormat.html in formats:
        _err.print(
            f"error: --format html for {n_records} patients needs --out DIR (one report each)",
            markup=False,
        )
        raise typer.Exit(EXIT_INVALID_INPUT)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _err.print(f"error: cannot make --out {out}: {exc.strerror or exc}", markup=False)
            raise typer.Exit(EXIT_INVALID_INPUT) from None
    if OutputFormat.table in formats and not stdout_is_utf8():
        # a table is read, not parsed: a character the stdout cannot take is shown as its
        # escape (\u2265), as Python shows it on stderr, rather than end the command
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    console = Console(highlight=False, emoji=False)
    written: list[Path] = []
    started: set[Path] = set()
    source_of: dict[str, Path] = {}
    # an error's text → the first patient it stopped, and the later ones
    same_error: dict[str, tuple[str, list[str]]] = {}
    # (file, the file a patient id was first read from) → the later ids given again
    given_again: dict[tuple[Path, Path], list[str]] = {}
    for path, records, digest in inputs:
        shown = len(records) > 20 and sys.stderr.isatty()
        for record in track(
            records, description=f"Evaluating {path.name}", disable=not shown, console=_err
        ):
            pid = record.patient.id
            if pid in source_of:
                # one output name per patient id: a second would overwrite the first's files
                failed_patients += 1
                pair = (path, source_of[pid])
                if pair in given_again:  # a file given twice: named once, then counted
                    given_again[pair].append(pid)
                    continue
                given_again[pair] = []
                _err.print(
                    f"error: {path}: patient {pid} was already evaluated from "
                    f"{source_of[pid]}; give each patient once (ids name the output files)",
                    markup=False,
                )
                continue
            source_of[pid] = path
            try:
                ev = evaluate(
                    record,
                    knowledge_base=kb,
                    input_sha256=digest,
                    overrides=overrides,
                    simulate=simulate,
                    seed=seed,
                    base_dir=path.parent,
                )
                written += _write(ev, record, formats, out, console, started)
            except ImmunopreciseError as exc:
                failed_patients += 1
                # a mistake every patient meets (--what-if crp=abc) is shown once, with the
                # patients it stopped named at the end, not once per row of a table
                if str(exc) in same_error:
                    same_error[str(exc)][1].append(pid)
                    continue
                same_error[str(exc)] = (pid, [])
                _err.print(f"error: {path}: patient {pid}: {exc}", markup=False)
    for (path, source), pids in given_again.items():
        if pids:
            _err.print(
                f"error: {path}: {counted(len(pids), 'more patient')} already evaluated from "
                f"{source}: {_named(pids)}",
                markup=False,
            )
    for first, pids in same_error.values():
        if pids:
            _err.print(
                f"error: the same error as patient {first} for "
                f"{counted(len(pids), 'more patient')}: {_named(pids)}",
                markup=False,
            )
    if written:
        _err.print(f"Wrote {counted(len(written), 'file')} to {out}/:", markup=False)
        for p in written:
            _err.print(f"  {p}", markup=False)
    if failed_files or failed_patients:
        failures = [
            counted(n, noun)
            for n, noun in ((failed_files, "input file"), (failed_patients, "patient"))
            if n
        ]
        _err.print(f"{' and '.join(failures)} could not be evaluated (see above).", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT)


@app.command()
def schema(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            file_okay=False,
            help="Directory for the JSON Schema files.",
            callback=output_folder,
        ),
    ] = Path("docs/schema"),
) -> None:
    """Export the JSON Schemas of the patient record (input) and the evaluation (output)."""
    from immunoprecise.schemas import write_schemas

    for path in write_schemas(out):
        typer.echo(f"wrote {path}")


@app.command()
def examples(
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also list the other shipped files the tutorials use (expression matrix, trial "
            "design), each with what it is.",
        ),
    ] = False,
) -> None:
    """List the example patient files and the example cohort shipped with immunoprecise.

    One path a line, so that `immunoprecise evaluate $(immunoprecise examples | grep json)` works.

    Example: immunoprecise examples --all
    """
    from immunoprecise.data import example_path, example_patients

    listed = [*example_patients(), example_path("fl_cohort.csv")]
    if not every:
        for path in listed:
            typer.echo(str(path))
        return
    for path in listed:
        what = "cohort table (records and outcomes)" if path.suffix == ".csv" else "patient record"
        typer.echo(f"{path}\t{what}")
    folder = listed[0].parent
    kinds = {".tsv": "expression matrix (genes × samples, TPM)", ".yaml": "virtual trial design"}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p not in listed):
        typer.echo(f"{path}\t{kinds.get(path.suffix, 'example file')}")


def _unwrapped(doc: str) -> str:
    """``doc`` with each prose paragraph on one line, for the terminal to wrap.

    Rich help keeps a docstring's line breaks, so a paragraph wrapped at the source's line
    length breaks mid-sentence at every other terminal width. Paragraphs with an indented line
    (command examples) keep their breaks.
    """
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(
        p if any(line.startswith(" ") for line in p.splitlines()) else " ".join(p.split("\n"))
        for p in paragraphs
    )


def _unwrap_help(application: typer.Typer) -> None:
    """Give every command of ``application`` (and of its groups) its docstring unwrapped."""
    for info in application.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = _unwrapped(info.callback.__doc__)
    for group in application.registered_groups:
        if group.typer_instance is not None:
            _unwrap_help(group.typer_instance)


_unwrap_help(app)


def main() -> None:
    """Entry point of the ``immunoprecise`` command.

    A file or folder the system refuses (a path through a file, no permission, a full disk)
    ends the command with its reason and exit code 2, not a traceback. Any stdout encoding is
    taken (a Windows redirect writes cp1252, a locale may be ASCII): a character it cannot take
    is shown as its escape, JSON is written in ASCII, and a CSV/TSV table that does not fit is
    refused with what to do (see :mod:`immunoprecise.cli.stdio`).
    """
    tolerate_any_encoding()
    try:
        app()
    except OSError as exc:
        where = f"cannot use {exc.filename}: " if exc.filename else ""
        _err.print(f"error: {where}{exc.strerror or exc}", markup=False)
        raise SystemExit(EXIT_INVALID_INPUT) from None


if __name__ == "__main__":  # pragma: no cover
    main()
