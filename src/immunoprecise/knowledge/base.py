"""The knowledge base: all entries loaded, cross-checked and indexed by id."""

from __future__ import annotations

import difflib
import functools
import hashlib
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

from immunoprecise.documents import UniqueKeyLoader
from immunoprecise.errors import KnowledgeBaseError, repeated
from immunoprecise.knowledge.measures import (
    ActionableDriver,
    Constant,
    DensityReference,
    ImmunogramAxis,
    TherapyHistoryCategory,
)
from immunoprecise.knowledge.schema import (
    THERAPY_SELECTOR,
    DiseaseNode,
    Reference,
    Rule,
    Therapy,
    Threshold,
)
from immunoprecise.knowledge.strategies import PlanQuestion, Strategy, TimingWindow

__all__ = [
    "ENTRY_KINDS",
    "Entry",
    "EntryKind",
    "KnowledgeBase",
    "SearchMatch",
    "default_knowledge_dir",
    "find_entries",
    "load_knowledge_base",
    "search_knowledge_base",
]

EntryKind = Literal["therapy", "strategy", "rule", "reference"]
"""The kinds of entry ``kb show`` and ``kb search`` look up."""
ENTRY_KINDS: tuple[EntryKind, ...] = ("therapy", "strategy", "rule", "reference")
Entry = Therapy | Strategy | Rule | Reference
"""An entry ``kb show`` prints: a therapy, strategy, biomarker rule or reference."""

_FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "references": ("references.yaml", Reference),
    "diseases": ("diseases.yaml", DiseaseNode),
    "thresholds": ("thresholds.yaml", Threshold),
    "therapies": ("therapies.yaml", Therapy),
    "rules": ("rules.yaml", Rule),
    "immunogram": ("immunogram.yaml", ImmunogramAxis),
    "drivers": ("drivers.yaml", ActionableDriver),
    "constants": ("constants.yaml", Constant),
    "timing_windows": ("timing.yaml", TimingWindow),
    "strategies": ("strategies.yaml", Strategy),
    "questions": ("questions.yaml", PlanQuestion),
    "therapy_history": ("therapy_history.yaml", TherapyHistoryCategory),
}
# Files holding one mapping rather than a list of entries.
_MAPPINGS: dict[str, tuple[str, type[BaseModel]]] = {
    "immunoscore_reference": ("immunoscore_reference.yaml", DensityReference)
}
_LISTS = tuple(_FILES)


def _closest(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` naming the known id closest to ``name`` (the same but for
    case first), or ``""`` when none is close."""
    ids = sorted(known)
    close = [k for k in ids if k.casefold() == name.casefold()]
    close = close or difflib.get_close_matches(name, ids, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def _citation_problems(citing: Iterable[tuple[str, Iterable[str]]], refs: set[str]) -> list[str]:
    """Citations of unknown references and references cited twice, for each ``(entry, cited
    reference ids)`` of ``citing`` (``refs``: the ids of references.yaml)."""
    problems = []
    for entry, cited in citing:
        ids = tuple(cited)
        for ref in ids:
            if ref not in refs:
                problems.append(
                    f"{entry} references: unknown reference {ref!r}{_closest(ref, refs)}"
                )
        for ref in repeated(ids):
            problems.append(f"{entry} references: {ref!r} is listed more than once")
    return problems


def _written_citation_problems(data: dict[str, Any]) -> list[str]:
    """The citation problems of the knowledge-base files as written (entries not yet validated;
    those whose id or references are not of the right type are left to the schema)."""
    written = data.get("references")
    if not isinstance(written, list | tuple):
        return []
    ids = [e["id"] for e in written if isinstance(e, dict) and isinstance(e.get("id"), str)]
    refs = set(ids)
    name = _FILES["references"][0]
    problems = [f"{name}: id {dupe!r} is used by more than one entry" for dupe in repeated(ids)]
    citing: list[tuple[str, Iterable[str]]] = []
    for kind in _LISTS[2:]:
        entries = data.get(kind)
        for e in entries if isinstance(entries, list | tuple) else ():
            ident = e.get("id") if isinstance(e, dict) else None
            cited = e.get("references") if isinstance(e, dict) else None
            if isinstance(ident, str) and isinstance(cited, list | tuple):
                entry = f"{_FILES[kind][0]} entry {ident}"
                citing.append((entry, [c for c in cited if isinstance(c, str)]))
    for kind, (file, _) in _MAPPINGS.items():
        mapping = data.get(kind)
        cited = mapping.get("references") if isinstance(mapping, dict) else None
        if isinstance(cited, list | tuple):
            citing.append((file, [c for c in cited if isinstance(c, str)]))
    return problems + _citation_problems(citing, refs)


class KnowledgeBase(BaseModel):
    """References, diseases, thresholds, therapies and rules, validated together.

    Build one with :func:`load_knowledge_base`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    sha256: str
    references: tuple[Reference, ...]
    diseases: tuple[DiseaseNode, ...]
    thresholds: tuple[Threshold, ...]
    therapies: tuple[Therapy, ...]
    rules: tuple[Rule, ...]
    immunogram: tuple[ImmunogramAxis, ...]
    drivers: tuple[ActionableDriver, ...]
    constants: tuple[Constant, ...]
    timing_windows: tuple[TimingWindow, ...]
    strategies: tuple[Strategy, ...]
    questions: tuple[PlanQuestion, ...]
    therapy_history: tuple[TherapyHistoryCategory, ...]
    immunoscore_reference: DensityReference

    _therapies: dict[str, Therapy] = PrivateAttr(default_factory=dict)
    _references: dict[str, Reference] = PrivateAttr(default_factory=dict)
    _tagged: dict[str, tuple[str, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_check(self) -> KnowledgeBase:
        # Each problem names the file, the entry and the field: "rules.yaml entry x therapies: …".
        problems: list[str] = []

        def where(kind: str, ident: str) -> str:
            return f"{_FILES[kind][0]} entry {ident}"

        for kind in _LISTS:
            ids = [getattr(e, "code", None) or e.id for e in getattr(self, kind)]
            for dupe in repeated(ids):
                problems.append(f"{_FILES[kind][0]}: id {dupe!r} is used by more than one entry")
        refs = {r.id for r in self.references}
        codes = {d.code for d in self.diseases}
        therapies = {t.id for t in self.therapies}
        for d in self.diseases:
            if d.parent and d.parent not in codes:
                problems.append(
                    f"{where('diseases', d.code)} parent: unknown disease code {d.parent!r}"
                    f"{_closest(d.parent, codes)}"
                )
        citing: list[tuple[str, Any]] = [
            (where(k, e.id), e) for k in _LISTS[2:] for e in getattr(self, k)
        ]
        citing.append((_MAPPINGS["immunoscore_reference"][0], self.immunoscore_reference))
        problems += _citation_problems(
            ((entry, getattr(e, "references", ())) for entry, e in citing), refs
        )
        for entry, e in citing:
            for code in getattr(e, "diseases", None) or ():
                if code not in codes:
                    problems.append(
                        f"{entry} diseases: unknown disease code {code!r}{_closest(code, codes)}"
                    )
        tags = {tag for t in self.therapies for tag in t.tags}
        windows = {w.id: w for w in self.timing_windows}
        for rule in self.rules:
            entry = where("rules", rule.id)
            if rule.window is not None and rule.window not in windows:
                problems.append(
                    f"{entry} window: unknown timing window {rule.window!r}"
                    f"{_closest(rule.window, windows)}"
                )
            for selector in rule.therapies:
                tag = selector.removeprefix("tag:")
                if selector.startswith("tag:") and tag not in tags:
                    problems.append(
                        f"{entry} therapies: no therapy has the tag {tag!r}{_closest(tag, tags)}"
                    )
                elif not selector.startswith("tag:") and selector not in therapies:
                    problems.append(
                        f"{entry} therapies: unknown therapy {selector!r}"
                        f"{_closest(selector, therapies)}"
                    )
        history = {c.id: c for c in self.therapy_history}
        for strategy in self.strategies:
            entry = where("strategies", strategy.id)
            anchor = strategy.anchor_history
            if anchor is not None and not (anchor in history and history[anchor].track_days):
                problems.append(
                    f"{entry} anchor_history: {anchor!r} is not a therapy-history category "
                    "with track_days (therapy_history.yaml)"
                )
            for n, step in enumerate(strategy.steps):
                if step.therapy not in therapies:
                    problems.append(
                        f"{entry} steps.{n}.therapy: unknown therapy {step.therapy!r}"
                        f"{_closest(step.therapy, therapies)}"
                    )
                if step.window is None:
                    continue
                window = windows.get(step.window)
                if window is None:
                    problems.append(
                        f"{entry} steps.{n}.window: unknown timing window {step.window!r}"
                        f"{_closest(step.window, windows)}"
                    )
                elif step.day is not None and not window.start_day <= step.day <= window.end_day:
                    problems.append(
                        f"{entry} steps.{n}.day: day {step.day} lies outside its timing window "
                        f"{window.id} (days {window.start_day} to {window.end_day})"
                    )
        for question in self.questions:
            for tag in question.tags:
                if tag not in tags:
                    problems.append(
                        f"{where('questions', question.id)} tags: no therapy has the tag {tag!r}"
                        f"{_closest(tag, tags)}"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _citations_with_schema_problems(
        cls, data: Any, handler: ModelWrapValidatorHandler[KnowledgeBase]
    ) -> KnowledgeBase:
        # The cross-check needs valid entries; when some are not, the citations are still
        # checked (from the entries as written), so that a reference's problems and those of
        # the entries citing it are all named in one run.
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            if not isinstance(data, dict) or any(not e["loc"] for e in errors):
                raise
            found = _written_citation_problems(data)
            if not found:
                raise
            details: list[InitErrorDetails] = [
                {"type": e["type"], "loc": e["loc"], "input": e["input"], "ctx": e.get("ctx", {})}
                for e in errors
            ]
            error = ValueError("\n".join(found))
            details.append(
                {"type": "value_error", "loc": (), "input": data, "ctx": {"error": error}}
            )
            raise ValidationError.from_exception_data(exc.title, details) from None

    def model_post_init(self, context: Any, /) -> None:
        self._therapies = {t.id: t for t in self.therapies}
        self._references = {r.id: r for r in self.references}
        tagged: dict[str, list[str]] = {}
        for t in self.therapies:
            for tag in t.tags:
                tagged.setdefault(tag, []).append(t.id)
        self._tagged = {tag: tuple(ids) for tag, ids in tagged.items()}

    def select_therapies(self, selectors: tuple[str, ...]) -> tuple[str, ...]:
        """Therapy ids named by ``selectors`` (ids or ``tag:NAME``), in order, without repeats.

        Examples
        --------
        >>> kb = load_knowledge_base()
        >>> "pembrolizumab" in kb.select_therapies(("tag:checkpoint_inhibitor",))
        True
        """
        ids: dict[str, None] = {}
        for selector in selectors:
            if selector.startswith("tag:"):
                ids.update(dict.fromkeys(self._tagged.get(selector[4:], ())))
            else:
                ids[selector] = None
        return tuple(ids)

    def timing_window(self, window_id: str) -> TimingWindow:
        """Return the timing window with id ``window_id``."""
        for window in self.timing_windows:
            if window.id == window_id:
                return window
        raise KnowledgeBaseError(f"no timing window {window_id!r} in the knowledge base")

    def __hash__(self) -> int:
        # Content-addressed: two knowledge bases with the same files hash (and compare) equal.
        return hash((self.version, self.sha256))

    def reference(self, ref_id: str) -> Reference:
        """Return the reference with id ``ref_id``."""
        try:
            return self._references[ref_id]
        except KeyError:
            raise KnowledgeBaseError(f"no reference {ref_id!r} in the knowledge base") from None

    def entries(self, kind: EntryKind) -> tuple[Entry, ...]:
        """The therapies, strategies, rules or references (``kind``), in the files' order.

        Examples
        --------
        >>> kb = load_knowledge_base()
        >>> kb.entries("strategy") == kb.strategies
        True
        """
        lists: dict[str, tuple[Entry, ...]] = {
            "therapy": self.therapies,
            "strategy": self.strategies,
            "rule": self.rules,
            "reference": self.references,
        }
        try:
            return lists[kind]
        except KeyError:
            raise KnowledgeBaseError(
                f"kind: got {kind!r}; expected one of {', '.join(ENTRY_KINDS)}"
            ) from None

    def strategy(self, strategy_id: str) -> Strategy:
        """Return the strategy with id ``strategy_id``.

        Examples
        --------
        >>> load_knowledge_base().strategy("ball_debulk_lymphodeplete_car_t").kind
        'sequence'
        """
        for strategy in self.strategies:
            if strategy.id == strategy_id:
                return strategy
        raise KnowledgeBaseError(f"no strategy {strategy_id!r} in the knowledge base")

    def therapy(self, therapy_id: str) -> Therapy:
        """Return the therapy with id ``therapy_id``."""
        try:
            return self._therapies[therapy_id]
        except KeyError:
            raise KnowledgeBaseError(f"no therapy {therapy_id!r} in the knowledge base") from None

    def constant(self, constant_id: str) -> Constant:
        """Return the constant with id ``constant_id``.

        Examples
        --------
        >>> load_knowledge_base().constant("tumor_cells_per_cm3").unit
        'cells/cm³'
        """
        for constant in self.constants:
            if constant.id == constant_id:
                return constant
        raise KnowledgeBaseError(
            f"no constant {constant_id!r} in the knowledge base; restore it in constants.yaml"
        )

    def lineage(self, code: str | None) -> tuple[str, ...]:
        """Return ``code`` and all its groups, nearest first (unknown codes: just the code).

        Examples
        --------
        >>> kb = load_knowledge_base()
        >>> kb.lineage("LUAD")
        ('LUAD', 'NSCLC', 'LUNG', 'SOLID')
        """
        if code is None:
            return ()
        parents = {d.code: d.parent for d in self.diseases}
        chain = [code]
        while parents.get(chain[-1]):
            chain.append(parents[chain[-1]])  # type: ignore[arg-type]
        return tuple(chain)

    def applies(self, diseases: tuple[str, ...] | None, code: str | None) -> bool:
        """Whether an entry restricted to ``diseases`` applies to disease ``code``."""
        return diseases is None or bool(set(diseases) & set(self.lineage(code)))


def _name(entry: Entry) -> str:
    """What an entry is called: a therapy's or strategy's name, a rule's effect and therapies,
    a reference's short citation."""
    if isinstance(entry, Therapy | Strategy):
        return entry.name
    if isinstance(entry, Rule):
        return f"{entry.effect.value} {', '.join(entry.therapies)}"
    return entry.short


def _searched(entry: Entry) -> dict[str, tuple[str, ...]]:
    """The texts ``search_knowledge_base`` looks in, by field name."""
    if isinstance(entry, Therapy):
        return {
            "id": (entry.id,),
            "name": (entry.name,),
            "mechanism": (entry.mechanism,),
            "targets": entry.targets,
        }
    if isinstance(entry, Strategy):
        return {
            "id": (entry.id,),
            "name": (entry.name,),
            "rationale": (entry.rationale,),
            "diseases": entry.diseases or (),
        }
    if isinstance(entry, Rule):
        return {
            "id": (entry.id,),
            "rationale": (entry.rationale,),
            "diseases": entry.diseases or (),
        }
    return {"id": (entry.id,), "title": (entry.title,), "authors": (entry.authors,)}


class SearchMatch(BaseModel):
    """One entry :func:`search_knowledge_base` found: its kind, id, name and the fields the
    text was found in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EntryKind
    id: str
    name: str
    fields: tuple[str, ...]


def _kinds(kind: EntryKind | None) -> tuple[EntryKind, ...]:
    """The kinds to look in: all four, or ``kind`` (checked)."""
    if kind is None:
        return ENTRY_KINDS
    if kind not in ENTRY_KINDS:
        raise KnowledgeBaseError(f"kind: got {kind!r}; expected one of {', '.join(ENTRY_KINDS)}")
    return (kind,)


def search_knowledge_base(
    kb: KnowledgeBase, text: str, *, kind: EntryKind | None = None
) -> tuple[SearchMatch, ...]:
    """Find the therapies, strategies, biomarker rules and references mentioning ``text``.

    The search ignores letter case and looks for ``text`` within ids, names, therapies'
    mechanisms and target antigens, strategies' and rules' rationales and disease codes, and
    references' titles and authors.

    Parameters
    ----------
    kb
        The knowledge base, from :func:`load_knowledge_base`.
    text
        What to look for (leading and trailing spaces are ignored).
    kind
        Only entries of this kind: ``therapy``, ``strategy``, ``rule`` or ``reference``.

    Returns
    -------
    tuple of SearchMatch
        Therapies first, then strategies, rules and references, each in the knowledge base's
        order; empty when nothing matches.

    Raises
    ------
    KnowledgeBaseError
        When ``text`` is empty or ``kind`` is not one of the four kinds.

    Examples
    --------
    >>> kb = load_knowledge_base()
    >>> found = search_knowledge_base(kb, "cd19", kind="therapy")
    >>> [(m.id, m.fields) for m in found][0]
    ('tisagenlecleucel', ('name', 'mechanism', 'targets'))
    """
    wanted = text.strip().casefold()
    if not wanted:
        raise KnowledgeBaseError(
            f"search text: got {text!r}; expected a word or part of one, e.g. CD19"
        )
    found = []
    for each in _kinds(kind):
        for entry in kb.entries(each):
            fields = tuple(
                field
                for field, texts in _searched(entry).items()
                if any(wanted in t.casefold() for t in texts)
            )
            if fields:
                found.append(SearchMatch(kind=each, id=entry.id, name=_name(entry), fields=fields))
    return tuple(found)


def find_entries(
    kb: KnowledgeBase, ident: str, *, kind: EntryKind | None = None
) -> tuple[tuple[EntryKind, Entry], ...]:
    """The entries ``ident`` names: by id as written, else by id or name in any letter case.

    Therapies and strategies are found by id or name, rules and references by id. More than
    one answer means the id is used by entries of different kinds (pass ``kind`` to choose);
    none, that no entry (of ``kind``) has it, or that it names several of one kind in
    another letter case.

    Examples
    --------
    >>> kb = load_knowledge_base()
    >>> [(k, e.id) for k, e in find_entries(kb, "Pembrolizumab")]
    [('therapy', 'pembrolizumab')]
    >>> [k for k, _ in find_entries(kb, "melanoma_til_after_pd1")]
    ['strategy', 'rule']
    """
    kinds = _kinds(kind)
    wanted = ident.strip()
    exact = [(k, e) for k in kinds for e in kb.entries(k) if e.id == wanted]
    if exact:
        return tuple(exact)
    folded = wanted.casefold()
    found: list[tuple[EntryKind, Entry]] = []
    for each in kinds:
        same = [
            e
            for e in kb.entries(each)
            if folded == e.id.casefold()
            or (isinstance(e, Therapy | Strategy) and folded == e.name.casefold())
        ]
        if len(same) == 1:
            found.append((each, same[0]))
    return tuple(found)


def default_knowledge_dir() -> Path:
    """The directory of the knowledge base shipped with immunoprecise."""
    return Path(__file__).with_name("data")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KnowledgeBaseError(f"{path}: file missing from the knowledge base") from None
    except OSError as exc:
        raise KnowledgeBaseError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _parse(path: Path, raw: bytes) -> tuple[Any, tuple[int, ...]]:
    """The YAML document of ``path`` and, for a list, the line each entry starts on."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KnowledgeBaseError(
            f"{path}: not UTF-8 text (byte {raw[exc.start]:#04x} on line {line}); save the file "
            "as UTF-8"
        ) from None
    # a key given twice is refused (PyYAML would keep the last), naming both lines
    loader = UniqueKeyLoader(text)  # a SafeLoader
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # "rules.yaml line 11, column 1: not valid YAML: found character '\t' …", not the
        # parser's "<unicode string>" excerpt
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        context = exc.context
        if context and exc.context_mark is not None and exc.context_mark is not mark:
            context += f" opened on line {exc.context_mark.line + 1}"
        problem = ", ".join(p for p in (context, exc.problem) if p) or str(exc)
        hint = "; indent with spaces, not tabs" if "'\\t'" in problem else ""
        raise KnowledgeBaseError(f"{path}{where}: not valid YAML: {problem}{hint}") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()
    lines = ()
    if isinstance(node, yaml.SequenceNode):
        lines = tuple(item.start_mark.line + 1 for item in node.value)
    return data, lines


def _describe(entry: Any, position: int, line: int | None) -> str:
    """How an entry without an id is named in a message: its position counted from 1, its line
    and what it looks like, e.g. ``3 (line 41, name: 'Pembrolizumab')``."""
    where = [f"line {line}"] if line is not None else []
    if isinstance(entry, dict):
        shown = next((k for k in _DESCRIBING if entry.get(k) not in (None, "")), None)
        if shown is None and entry:
            shown = str(next(iter(entry)))
        if shown is not None:
            where.append(f"{shown}: {_short(entry.get(shown))}")
    elif entry is None:
        where.append("empty")
    else:
        where.append(f"written as {_short(entry)}")
    return f"{position}" + (f" ({', '.join(where)})" if where else "")


# The fields that tell an entry apart when it has no id, most telling first.
_DESCRIBING = ("name", "title", "label", "gene", "value", "authors", "rationale")


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[: limit - 1].rstrip() + "…")
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What a pattern of the schema asks for, in words.
_PATTERNS = {
    r"^[a-z0-9_]+$": "lower-case letters, digits and underscores only (e.g. msi_h_anti_pd1)",
    r"^10\.\d{4,9}/\S+$": (
        "a DOI such as 10.1056/NEJMoa2017699, written without 'https://doi.org/' or 'doi:'"
    ),
    r"^https?://\S+$": "a web address starting with https:// or http://, without spaces",
    r"^[A-Z][A-Z0-9_]{1,15}$": "an upper-case code of 2 to 16 letters, digits or underscores, "
    "e.g. LUAD",
    THERAPY_SELECTOR: "a therapy id or tag:NAME, in lower-case letters, digits and underscores",
}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class an annotation holds (``Condition | None``, ``tuple[Condition, ...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _keys_at(model: type[BaseModel], loc: list[Any]) -> list[str]:
    """The keys an entry of ``model`` may have at ``loc`` (the path to a mapping in it)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None:
            return []
        field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
        current = _model_in(field.annotation) if field is not None else None
    if current is None:
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _message(err: Any, model: type[BaseModel] | None, loc: list[Any]) -> str:
    """A schema problem in words: what was written and what is expected."""
    msg = str(err["msg"]).removeprefix("Value error, ")
    kind, value = err["type"], err.get("input")
    if kind == "string_pattern_mismatch":
        pattern = str(err.get("ctx", {}).get("pattern", ""))
        return f"got {_short(value)}; expected {_PATTERNS.get(pattern, f'text matching {pattern}')}"
    if kind == "too_short" and loc and loc[-1] in ("all", "any") and not value:
        holds = "always holds" if loc[-1] == "all" else "never holds"
        return (
            f"an empty {loc[-1]} {holds}, whatever the patient's values; list at least one "
            "condition"
        )
    if kind == "extra_forbidden":
        keys = _keys_at(model, loc[:-1]) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.6) if loc else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        allowed = f" (keys: {', '.join(keys)})" if keys and not close else ""
        return f"unknown key{allowed}{hint}"
    if kind == "literal_error" and isinstance(value, int | float) and not isinstance(value, bool):
        expected = str(err.get("ctx", {}).get("expected", ""))
        if f"'{value}'" in expected:
            return (
                f"{msg}; got the number {value}: write it in quotes ({_short(str(value))}), as "
                f"YAML reads {value} as a number"
            )
    if isinstance(value, bool) and msg.startswith("Keys should be strings"):
        return (
            f"a key reads as {str(value).lower()}: YAML reads on, off, yes, no, true and false "
            "as yes/no; check its spelling, or quote it"
        )
    if kind not in ("missing", "value_error") and isinstance(value, str | int | float | bool):
        return f"{msg}; got {_short(value)}"
    return msg


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file of a knowledge-base directory."""
    names = ["manifest.yaml", *(n for n, _ in _FILES.values()), *(n for n, _ in _MAPPINGS.values())]
    signature = []
    for name in names:
        try:
            stat = (directory / name).stat()
        except OSError:
            signature.append((name, -1, -1))
        else:
            signature.append((name, stat.st_size, stat.st_mtime_ns))
    return tuple(signature)


@functools.lru_cache(maxsize=16)
def _load_cached(directory: Path, signature: tuple[tuple[str, int, int], ...]) -> KnowledgeBase:
    # ``signature`` is part of the cache key only: an edited file is read again.
    digest = hashlib.sha256()
    content: dict[str, Any] = {}
    lines: dict[str, tuple[int, ...]] = {}
    manifest, _ = _parse(directory / "manifest.yaml", _read_bytes(directory / "manifest.yaml"))
    if manifest is None:
        manifest = {}
    if not isinstance(manifest, dict):
        raise KnowledgeBaseError(
            f"{directory / 'manifest.yaml'}: expected a mapping such as 'version: \"1.0\"'"
        )
    version = manifest.get("version", "unversioned")
    if not isinstance(version, str) or not version.strip():
        raise KnowledgeBaseError(
            f"{directory / 'manifest.yaml'} version: expected text, got {version!r}; quote it "
            '(version: "2026.10"), as YAML reads 2026.10 as the number 2026.1'
        )
    files: list[tuple[str, str, type]] = [(k, n, list) for k, (n, _) in _FILES.items()]
    files += [(k, n, dict) for k, (n, _) in _MAPPINGS.items()]
    for key, name, shape in files:
        raw = _read_bytes(directory / name)
        digest.update(name.encode() + b"\0" + raw)
        content[key], lines[key] = _parse(directory / name, raw)
        if not isinstance(content[key], shape):
            what = "a list of entries" if shape is list else "a mapping"
            raise KnowledgeBaseError(f"{directory / name}: expected {what}")
    try:
        return KnowledgeBase.model_validate(
            {"version": version, "sha256": digest.hexdigest(), **content}
        )
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            if not loc:  # the cross-check: one problem a line, each naming file, entry, field
                msg = str(err["msg"]).removeprefix("Value error, ")
                problems += msg.splitlines()
                continue
            where = kind = str(loc[0])
            if str(loc[0]) in _MAPPINGS:
                where = _MAPPINGS[str(loc[0])][0]
                loc = loc[1:]
            elif len(loc) > 1 and isinstance(loc[1], int):
                kind, index = str(loc[0]), loc[1]
                entry = content.get(kind, [])[index]
                ident = entry.get("id") or entry.get("code") if isinstance(entry, dict) else None
                if not ident or not isinstance(ident, str | int):
                    starts = lines.get(kind, ())
                    line = starts[index] if index < len(starts) else None
                    ident = _describe(entry, index + 1, line)
                where = f"{_FILES[kind][0]} entry {ident}"
                loc = loc[2:]
            else:
                loc = loc[1:]
            field = ".".join(map(str, loc))
            model = (_MAPPINGS.get(kind) or _FILES.get(kind) or (None, None))[1]
            problems.append(f"{where}{' ' + field if field else ''}: {_message(err, model, loc)}")
        raise KnowledgeBaseError(
            f"knowledge base {directory} is invalid:\n  - " + "\n  - ".join(problems)
        ) from None


def load_knowledge_base(directory: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a knowledge base directory (default: the one shipped).

    Parameters
    ----------
    directory
        A directory with ``manifest.yaml``, ``references.yaml``, ``diseases.yaml``,
        ``thresholds.yaml``, ``therapies.yaml``, ``rules.yaml``, ``immunogram.yaml``,
        ``drivers.yaml``, ``constants.yaml``, ``timing.yaml``, ``strategies.yaml``,
        ``questions.yaml``, ``therapy_history.yaml`` and ``immunoscore_reference.yaml``; a site
        may copy the shipped one and edit it (for example to put its own Immunoscore reference
        distribution in place).

    Returns
    -------
    KnowledgeBase
        Validated and cross-checked (every reference, therapy and disease code exists).
        Loading the same directory again returns the same object.

    Raises
    ------
    KnowledgeBaseError
        Naming the file, entry and field that is wrong.

    Examples
    --------
    >>> kb = load_knowledge_base()
    >>> kb.reference("saifi2010").doi
    '10.3892/etm.2010.146'
    """
    path = Path(directory) if directory is not None else default_knowledge_dir()
    if not path.is_dir():
        raise KnowledgeBaseError(f"{path}: not a knowledge-base directory")
    resolved = path.resolve()
    return _load_cached(resolved, _signature(resolved))
