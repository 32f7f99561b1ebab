"""The knowledge base: all entries loaded, cross-checked and indexed by id."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

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
_SINGULAR = {"strategies": "strategy", "therapy_history": "therapy-history category"}


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
        problems: list[str] = []
        for kind in _LISTS:
            ids = [getattr(e, "code", None) or e.id for e in getattr(self, kind)]
            dupes = repeated(ids)
            if dupes:
                problems.append(f"{kind}: duplicate ids {dupes}")
        refs = {r.id for r in self.references}
        codes = {d.code for d in self.diseases}
        therapies = {t.id for t in self.therapies}
        for d in self.diseases:
            if d.parent and d.parent not in codes:
                problems.append(f"disease {d.code}: unknown parent {d.parent!r}")
        citing = [(_SINGULAR.get(k, k[:-1]), e) for k in _LISTS[2:] for e in getattr(self, k)]
        citing.append(("immunoscore reference", self.immunoscore_reference))
        for kind, e in citing:
            ident = getattr(e, "id", e.version if isinstance(e, DensityReference) else "")
            for ref in getattr(e, "references", ()):
                if ref not in refs:
                    problems.append(f"{kind} {ident}: unknown reference {ref!r}")
            for code in getattr(e, "diseases", None) or ():
                if code not in codes:
                    problems.append(f"{kind} {ident}: unknown disease code {code!r}")
        tags = {tag for t in self.therapies for tag in t.tags}
        windows = {w.id for w in self.timing_windows}
        for rule in self.rules:
            if rule.window is not None and rule.window not in windows:
                problems.append(f"rule {rule.id}: unknown timing window {rule.window!r}")
            for selector in rule.therapies:
                tag = selector.removeprefix("tag:")
                if selector.startswith("tag:") and tag not in tags:
                    problems.append(f"rule {rule.id}: no therapy has the tag {tag!r}")
                elif not selector.startswith("tag:") and selector not in therapies:
                    problems.append(f"rule {rule.id}: unknown therapy {selector!r}")
        history = {c.id: c for c in self.therapy_history}
        for strategy in self.strategies:
            anchor = strategy.anchor_history
            if anchor is not None and not (anchor in history and history[anchor].track_days):
                problems.append(
                    f"strategy {strategy.id}: anchor_history {anchor!r} is not a "
                    "therapy-history category with track_days"
                )
            for step in strategy.steps:
                if step.therapy not in therapies:
                    problems.append(f"strategy {strategy.id}: unknown therapy {step.therapy!r}")
                if step.window is not None and step.window not in windows:
                    problems.append(
                        f"strategy {strategy.id}: unknown timing window {step.window!r}"
                    )
        for question in self.questions:
            for tag in question.tags:
                if tag not in tags:
                    problems.append(f"question {question.id}: no therapy has the tag {tag!r}")
        if problems:
            raise ValueError("; ".join(problems))
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


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeBaseError(f"{path}: file missing from the knowledge base") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path}: not valid YAML ({exc})") from None


@functools.cache
def _load_cached(directory: Path) -> KnowledgeBase:
    digest = hashlib.sha256()
    content: dict[str, Any] = {}
    manifest = _read(directory / "manifest.yaml") or {}
    files: list[tuple[str, str, type]] = [(k, n, list) for k, (n, _) in _FILES.items()]
    files += [(k, n, dict) for k, (n, _) in _MAPPINGS.items()]
    for key, name, shape in files:
        raw = (directory / name).read_bytes() if (directory / name).exists() else b""
        digest.update(name.encode() + b"\0" + raw)
        content[key] = _read(directory / name)
        if not isinstance(content[key], shape):
            what = "a list of entries" if shape is list else "a mapping"
            raise KnowledgeBaseError(f"{directory / name}: expected {what}")
    try:
        return KnowledgeBase.model_validate(
            {
                "version": str(manifest.get("version", "unversioned")),
                "sha256": digest.hexdigest(),
                **content,
            }
        )
    except pydantic.ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            where = loc[0] if loc else "knowledge base"
            if loc and str(loc[0]) in _MAPPINGS:
                where = _MAPPINGS[str(loc[0])][0]
                loc = loc[1:]
            elif len(loc) > 1 and isinstance(loc[1], int):
                entry = content.get(str(loc[0]), [])[loc[1]]
                ident = entry.get("id") or entry.get("code") if isinstance(entry, dict) else None
                where = f"{_FILES[str(loc[0])][0]} entry {ident or loc[1]}"
                loc = loc[2:]
            else:
                loc = loc[1:]
            field = ".".join(map(str, loc))
            lines.append(f"{where}{' ' + field if field else ''}: {err['msg']}")
        raise KnowledgeBaseError(
            f"knowledge base {directory} is invalid:\n  - " + "\n  - ".join(lines)
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
    return _load_cached(path.resolve())
