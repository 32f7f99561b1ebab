"""``immunoprecise kb``: validate a knowledge base and show its entries."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from immunoprecise.errors import ImmunopreciseError
from immunoprecise.knowledge import (
    ENTRY_KINDS,
    Condition,
    EntryKind,
    Evidence,
    KnowledgeBase,
    Reference,
    Rule,
    Strategy,
    Therapy,
    find_entries,
    load_knowledge_base,
    search_knowledge_base,
)

__all__ = ["kb_app"]

kb_app = typer.Typer(
    name="kb",
    help="Validate the knowledge base, show its therapies, strategies, rules and references, "
    "and search them.",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_INVALID = 2
EXIT_NO_MATCH = 1

Directory = Annotated[
    Path | None,
    typer.Option(
        "--knowledge",
        help="Knowledge-base directory (default: the one shipped with immunoprecise).",
        exists=True,
        file_okay=False,
    ),
]


def _load(directory: Path | None) -> KnowledgeBase:
    try:
        return load_knowledge_base(directory)
    except ImmunopreciseError as exc:
        _err.print(f"invalid: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None


@kb_app.command("validate")
def validate(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Knowledge-base directory; the shipped one if omitted.", file_okay=False
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat warnings (unused entries) as errors.")
    ] = False,
) -> None:
    """Check schema, dangling references, evidence on every rule, and that every rule and
    immunogram component reads values the profile computes and compares them in ways that can
    hold. Exit code 0 when valid, 2 when not.

    Example: immunoprecise kb validate my_site_kb/ --strict
    """
    from immunoprecise.recommend.knowledge_check import check_knowledge_base

    if directory is not None and not directory.is_dir():
        _err.print(f"invalid: {directory}: not a directory", markup=False)
        raise typer.Exit(EXIT_INVALID)
    kb = _load(directory)
    check = check_knowledge_base(kb)
    for error in check.errors:
        _err.print(f"error: {error}", markup=False)
    for warning in check.warnings:
        _err.print(f"warning: {warning}", markup=False)
    counts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in check.counts.items())
    if check.errors or (strict and check.warnings):
        _err.print(f"knowledge base {kb.version} is invalid ({counts})", markup=False)
        raise typer.Exit(EXIT_INVALID)
    _out.print(f"knowledge base {kb.version} is valid: {counts}; sha256 {kb.sha256[:12]}…")


class KindChoice(StrEnum):
    """The kinds of entry ``kb show`` and ``kb search`` look in."""

    therapy = "therapy"
    strategy = "strategy"
    rule = "rule"
    reference = "reference"


Kind = Annotated[
    KindChoice | None,
    typer.Option(
        "--kind",
        help="Only this kind of entry: therapy, strategy, rule or reference.",
        case_sensitive=False,
    ),
]


@kb_app.command("show")
def show(
    entry_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="Id or name of a therapy or strategy, in any letter case (e.g. "
            "tisagenlecleucel), or id of a biomarker rule or reference.",
        ),
    ],
    kind: Kind = None,
    knowledge: Directory = None,
) -> None:
    """Show a therapy (mechanism, regimen, toxicities, the rules and strategies that name it),
    a strategy (steps, timing windows, therapies), a biomarker rule or a reference, with their
    references. An id used by entries of two kinds needs --kind.

    Example: immunoprecise kb show tisagenlecleucel
    """
    import difflib

    kb = _load(knowledge)
    kind_: EntryKind | None = kind.value if kind else None
    wanted = entry_id.strip()
    what = kind_ or "therapy"
    if not wanted:
        example = _EXAMPLES[what]
        _err.print(
            f"error: {what} id is empty; give the id or name of a {what} such as {example}"
            + ("" if kind_ else " (or of a strategy, rule or reference)"),
            markup=False,
        )
        raise typer.Exit(EXIT_INVALID)
    found = find_entries(kb, wanted, kind=kind_)
    if len(found) > 1:
        named = [k for k, _ in found]
        choices = " or ".join(f"--kind {k}" for k in named)
        _err.print(
            f"error: {wanted!r} is the id of a {' and a '.join(named)}; choose one with {choices}",
            markup=False,
        )
        raise typer.Exit(EXIT_INVALID)
    if not found:
        kinds = (kind_,) if kind_ else ENTRY_KINDS
        ids = [e.id for k in kinds for e in kb.entries(k)]
        lowered = {i.casefold(): i for i in ids}
        close = difflib.get_close_matches(wanted.casefold(), list(lowered), n=5, cutoff=0.4)
        hint = f"; did you mean {', '.join(lowered[c] for c in close)}?" if close else ""
        shown = wanted if len(wanted) <= 80 else f"{wanted[:77]}…"
        what_kind = kind_ or "therapy, strategy, rule or reference"
        _err.print(f"error: no {what_kind} {shown!r} in the knowledge base{hint}", markup=False)
        raise typer.Exit(EXIT_INVALID)
    [(_, entry)] = found
    if isinstance(entry, Therapy):
        _show_therapy(kb, entry)
    elif isinstance(entry, Strategy):
        _show_strategy(kb, entry)
    elif isinstance(entry, Rule):
        _show_rule(kb, entry)
    else:
        _show_reference(kb, entry)


_EXAMPLES = {
    "therapy": "tisagenlecleucel",
    "strategy": "ball_debulk_lymphodeplete_car_t",
    "rule": "msi_h_anti_pd1",
    "reference": "maude2018",
}


def _title(name: str, ident: str) -> None:
    from rich.markup import escape

    _out.print(f"[bold]{escape(name)}[/bold]  ({escape(ident)})")  # names may hold [...]


def _heading(text: str) -> None:
    _out.print(f"\n[bold]{text}[/bold]")


def _evidence(evidence: Evidence) -> str:
    level = f"OncoKB {evidence.oncokb}, " if evidence.oncokb else ""
    return f"{level}CIViC {evidence.civic}"


def _references(kb: KnowledgeBase, refs: Iterable[str]) -> None:
    _heading("references")
    for ref in dict.fromkeys(refs):
        _out.print(f"  [{ref}] {kb.reference(ref).text}", markup=False)


def _show_therapy(kb: KnowledgeBase, t: Therapy) -> None:
    p = _out.print
    _title(t.name, t.id)
    kind = t.therapy_class.replace("_", " ")
    p(f"class: {kind} · {t.development} · targets: {', '.join(t.targets)}", markup=False)
    p(f"tags: {', '.join(t.tags) or '—'}", markup=False)
    p(f"mechanism: {t.mechanism}", markup=False)
    p(f"typical regimen: {t.typical_regimen}", markup=False)
    p(f"key toxicities: {', '.join(t.key_toxicities)}", markup=False)
    refs = dict.fromkeys(t.references)
    rules = [r for r in kb.rules if t.id in kb.select_therapies(r.therapies)]
    if rules:
        _heading("rules")
    for r in rules:
        where = ", ".join(r.diseases) if r.diseases else "all diseases"
        p(f"  {r.effect.value:<15} {r.id} [{where}; {_evidence(r.evidence)}]", markup=False)
        refs.update(dict.fromkeys(r.references))
    strategies = [s for s in kb.strategies if any(st.therapy == t.id for st in s.steps)]
    if strategies:
        _heading("strategies")
    for s in strategies:
        p(f"  {s.id}: {s.name}", markup=False)
        refs.update(dict.fromkeys(s.references))
    _references(kb, refs)


def _show_strategy(kb: KnowledgeBase, s: Strategy) -> None:
    p = _out.print
    _title(s.name, s.id)
    where = ", ".join(s.diseases) if s.diseases else "all diseases"
    p(f"strategy: {s.kind} · {where} · evidence {_evidence(s.evidence)}", markup=False)
    p(f"anchor: {s.anchor or '—'}", markup=False)
    p(f"when: {_condition(s.when)}", markup=False)
    p(f"rationale: {s.rationale}", markup=False)
    _heading("steps")
    windows: dict[str, None] = {}
    for n, step in enumerate(s.steps, start=1):
        optional = " (optional)" if step.optional else ""
        day = f"{step.day_text}; " if step.day is not None else ""
        window = f"; window {step.window}" if step.window else ""
        p(f"  {n}. {step.therapy}{optional}: {day}{step.timing}{window}", markup=False)
        p(f"     {step.purpose}", markup=False)
        if step.window:
            windows[step.window] = None
    if windows:
        _heading("timing windows")
    for window_id in windows:
        w = kb.timing_window(window_id)
        p(f"  {w.id}: {w.name}; {w.days_text}, counted from {w.anchor}", markup=False)
        p(f"     {w.purpose}", markup=False)
    _heading("therapies")
    for therapy_id in dict.fromkeys(step.therapy for step in s.steps):
        therapy = kb.therapy(therapy_id)
        p(f"  {therapy.id}: {therapy.name}", markup=False)
    _references(kb, s.references)


def _show_rule(kb: KnowledgeBase, r: Rule) -> None:
    p = _out.print
    _title(f"rule {r.id}", f"{r.family} family")
    where = ", ".join(r.diseases) if r.diseases else "all diseases"
    p(f"effect: {r.effect.value} · {where} · evidence {_evidence(r.evidence)}", markup=False)
    p(f"when: {_condition(r.when)}", markup=False)
    p(f"rationale: {r.rationale}", markup=False)
    if r.window:
        w = kb.timing_window(r.window)
        p(f"timing window: {w.id}: {w.name}; {w.days_text}, counted from {w.anchor}", markup=False)
    _heading("therapies")
    for selector in r.therapies:
        named = kb.select_therapies((selector,))
        if selector.startswith("tag:"):
            p(f"  {selector}: {', '.join(named) or '—'}", markup=False)
        else:
            p(f"  {selector}: {kb.therapy(selector).name}", markup=False)
    _references(kb, r.references)


def _show_reference(kb: KnowledgeBase, ref: Reference) -> None:
    p = _out.print
    _title(ref.short, ref.id)
    p(f"authors: {ref.authors}", markup=False)
    p(f"title: {ref.title}", markup=False)
    p(f"journal: {ref.journal} {ref.year};{ref.citation}", markup=False)
    for label, value in (("DOI", ref.doi), ("PMID", ref.pmid), ("URL", ref.url)):
        if value is not None:
            p(f"{label}: {value}", markup=False)
    citing = [
        (kind, e.id)
        for kind in ENTRY_KINDS[:3]
        for e in kb.entries(kind)
        if ref.id in getattr(e, "references", ())
    ]
    if citing:
        _heading("cited by")
    for kind, ident in citing:
        p(f"  {kind:<9} {ident}", markup=False)


def _condition(when: Condition) -> str:
    """A condition as compact JSON, as written in the YAML files."""
    import json

    def whole(value: Any) -> Any:  # 25.0 as written: 25
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {k: whole(v) for k, v in value.items()}
        if isinstance(value, list):
            return [whole(v) for v in value]
        return value

    data = when.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    return json.dumps(whole(data), ensure_ascii=False)


@kb_app.command("search")
def search(
    text: Annotated[
        str,
        typer.Argument(
            help="Text to look for, in any letter case, e.g. CD19, melanoma, Maude.",
        ),
    ],
    kind: Kind = None,
    knowledge: Directory = None,
) -> None:
    """Search ids, names, mechanisms, rationales, target antigens, disease codes and the
    titles and authors of references. Prints kind, id, name and where the text was found.
    Exit code 0 when something matches, 1 when nothing does, 2 on a mistake.

    Example: immunoprecise kb search cd19 --kind strategy
    """
    from rich.table import Table

    kb = _load(knowledge)
    try:
        found = search_knowledge_base(kb, text, kind=kind.value if kind else None)
    except ImmunopreciseError as exc:
        _err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    shown = text.strip() if len(text.strip()) <= 80 else f"{text.strip()[:77]}…"
    if not found:
        among = f"{kind.value} entries" if kind else "therapies, strategies, rules or references"
        _err.print(f"no {among} in the knowledge base mention {shown!r}", markup=False)
        raise typer.Exit(EXIT_NO_MATCH)
    # ids are never shortened: a user copies them into `kb show`
    table = Table(box=None, pad_edge=False)
    table.add_column("kind", no_wrap=True)
    table.add_column("id", no_wrap=True, min_width=max(len(m.id) for m in found))
    table.add_column("name", ratio=2)
    table.add_column("matched in", ratio=1)
    for match in found:
        table.add_row(match.kind, match.id, match.name, ", ".join(match.fields))
    _out.print(table, markup=False)
    entries = "entry mentions" if len(found) == 1 else "entries mention"
    _out.print(f"{len(found)} {entries} {shown!r}", markup=False)
