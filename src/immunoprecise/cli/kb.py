"""``immunoprecise kb``: validate a knowledge base and show its entries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from immunoprecise.errors import ImmunopreciseError
from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base

__all__ = ["kb_app"]

kb_app = typer.Typer(
    name="kb",
    help="Validate the knowledge base and show its therapies, rules and references.",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_INVALID = 2

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


@kb_app.command("show")
def show(
    therapy_id: Annotated[
        str, typer.Argument(help="Therapy id or name, in any letter case, e.g. tisagenlecleucel.")
    ],
    knowledge: Directory = None,
) -> None:
    """Show a therapy: mechanism, regimen, toxicities, the rules and strategies that name it,
    and their references.

    Example: immunoprecise kb show tisagenlecleucel
    """
    import difflib

    from rich.markup import escape

    kb = _load(knowledge)
    ids = [t.id for t in kb.therapies]
    wanted = therapy_id.strip()
    if not wanted:
        _err.print(
            "error: therapy id is empty; give a therapy id such as tisagenlecleucel",
            markup=False,
        )
        raise typer.Exit(EXIT_INVALID)
    if wanted not in ids:
        # Accept the id or the therapy's name in any letter case ("Pembrolizumab").
        folded = wanted.casefold()
        same = [t.id for t in kb.therapies if folded in (t.id.casefold(), t.name.casefold())]
        if len(same) == 1:
            wanted = same[0]
    if wanted not in ids:
        lowered = {i.casefold(): i for i in ids}
        close = difflib.get_close_matches(wanted.casefold(), list(lowered), n=5, cutoff=0.4)
        hint = f"; did you mean {', '.join(lowered[c] for c in close)}?" if close else ""
        shown = wanted if len(wanted) <= 80 else f"{wanted[:77]}…"
        _err.print(f"error: no therapy {shown!r} in the knowledge base{hint}", markup=False)
        raise typer.Exit(EXIT_INVALID)
    therapy_id = wanted
    t = kb.therapy(therapy_id)
    p = _out.print
    p(f"[bold]{escape(t.name)}[/bold]  ({escape(t.id)})")  # a site's names may hold [...]
    kind = t.therapy_class.replace("_", " ")
    p(f"class: {kind} · {t.development} · targets: {', '.join(t.targets)}", markup=False)
    p(f"tags: {', '.join(t.tags) or '—'}", markup=False)
    p(f"mechanism: {t.mechanism}", markup=False)
    p(f"typical regimen: {t.typical_regimen}", markup=False)
    p(f"key toxicities: {', '.join(t.key_toxicities)}", markup=False)
    refs = dict.fromkeys(t.references)
    rules = [r for r in kb.rules if t.id in kb.select_therapies(r.therapies)]
    if rules:
        p("\n[bold]rules[/bold]")
    for r in rules:
        where = ", ".join(r.diseases) if r.diseases else "all diseases"
        level = f"OncoKB {r.evidence.oncokb}, " if r.evidence.oncokb else ""
        p(f"  {r.effect.value:<15} {r.id} [{where}; {level}CIViC {r.evidence.civic}]", markup=False)
        refs.update(dict.fromkeys(r.references))
    strategies = [s for s in kb.strategies if any(st.therapy == t.id for st in s.steps)]
    if strategies:
        p("\n[bold]strategies[/bold]")
    for s in strategies:
        p(f"  {s.id}: {s.name}", markup=False)
        refs.update(dict.fromkeys(s.references))
    p("\n[bold]references[/bold]")
    for ref in refs:
        p(f"  [{ref}] {kb.reference(ref).text}", markup=False)
