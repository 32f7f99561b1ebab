"""The knowledge base: all entries loaded, cross-checked and indexed by id."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from immunoprecise.documents import UniqueKeyLoader
from immunoprecise.errors import KnowledgeBaseError, repeated
from immunoprecise.knowledge.measures import (
    ActionableDriver,
    Constant,
    DensityReference,
    ImmunogramAxis,
    TherapyHistoryCategory,
)
from immunoprecise.knowledge.schema import DiseaseNode, Reference, Rule, Therapy, Threshold
from immunoprecise.knowledge.strategies import PlanQuestion, Strategy, TimingWindow

__all__ = ["KnowledgeBase", "default_knowledge_dir", "load_knowledge_base"]

_FILES = {
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
_MAPPINGS = {"immunoscore_reference": ("immunoscore_reference.yaml", DensityReference)}
_LISTS = tuple(_FILES)


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
                )
        citing: list[tuple[str, Any]] = [
            (where(k, e.id), e) for k in _LISTS[2:] for e in getattr(self, k)
        ]
        citing.append((_MAPPINGS["immunoscore_reference"][0], self.immunoscore_reference))
        for entry, e in citing:
            cited = getattr(e, "references", ())
            for ref in cited:
                if ref not in refs:
                    problems.append(f"{entry} references: unknown reference {ref!r}")
            for ref in repeated(cited):
                problems.append(f"{entry} references: {ref!r} is listed more than once")
            for code in getattr(e, "diseases", None) or ():
                if code not in codes:
                    problems.append(f"{entry} diseases: unknown disease code {code!r}")
        tags = {tag for t in self.therapies for tag in t.tags}
        windows = {w.id: w for w in self.timing_windows}
        for rule in self.rules:
            entry = where("rules", rule.id)
            if rule.window is not None and rule.window not in windows:
                problems.append(f"{entry} window: unknown timing window {rule.window!r}")
            for selector in rule.therapies:
                tag = selector.removeprefix("tag:")
                if selector.startswith("tag:") and tag not in tags:
                    problems.append(f"{entry} therapies: no therapy has the tag {tag!r}")
                elif not selector.startswith("tag:") and selector not in therapies:
                    problems.append(f"{entry} therapies: unknown therapy {selector!r}")
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
                    problems.append(f"{entry} steps.{n}.therapy: unknown therapy {step.therapy!r}")
                if step.window is None:
                    continue
                window = windows.get(step.window)
                if window is None:
                    problems.append(
                        f"{entry} steps.{n}.window: unknown timing window {step.window!r}"
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
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

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
            where = str(loc[0])
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
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}{' ' + field if field else ''}: {msg}")
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
