"""What the service keeps in memory to answer again without recomputing: recent evaluations
(:class:`EvaluationCache`) and cohort analysis tables (:class:`RecentlyUsed`, in
:func:`immunoprecise.service.routes.cohorts.analysis_frame`).

An evaluation is a deterministic function of the record, the knowledge base and the software
version (:func:`immunoprecise.evaluate` draws nothing at random and records no time). The
service keeps the latest ones, each with its JSON text, under the key (record SHA-256,
knowledge-base SHA-256): a record posted again is answered without profiling and planning it
again, and without serializing the result again. The software version needs no place in the key
because one process runs one version.

A request body is itself remembered by its bytes' SHA-256 with the record it was read into
(validation, like evaluation, is deterministic), so a body sent again is neither validated nor
hashed again.

The service never opens files named in a record, so a record's expression reference is set
aside before evaluating, with a note saying so. The cache holds no more than ``size``
evaluations (least recently used first out) and is off with ``size=0``.

Examples
--------
>>> import immunoprecise as ip
>>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
>>> cache = EvaluationCache(size=8)
>>> first = cache.get_or_evaluate(record, "a" * 64, ip.load_knowledge_base())
>>> again = cache.get_or_evaluate(record, "a" * 64, ip.load_knowledge_base())
>>> again is first, cache.hits, cache.misses
(True, 1, 1)
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from immunoprecise.evaluation import Evaluation, evaluate
from immunoprecise.knowledge import KnowledgeBase
from immunoprecise.records import PatientRecord
from immunoprecise.registry import record_sha256 as canonical_sha256
from immunoprecise.service.payloads import parse_record

__all__ = [
    "DEFAULT_EVALUATION_CACHE_SIZE",
    "EXPRESSION_NOTE",
    "CachedEvaluation",
    "EvaluationCache",
    "ParsedRecord",
    "RecentlyUsed",
]

_Key = TypeVar("_Key", bound=Hashable)
_Value = TypeVar("_Value")

EXPRESSION_NOTE = (
    "the record's expression reference was not read: the service never opens files named in a "
    "request; expression signatures are reported as not assessable"
)

DEFAULT_EVALUATION_CACHE_SIZE = 1024
"""Evaluations kept by default (each tens of kB: tens of MB at most)."""


class RecentlyUsed(Generic[_Key, _Value]):
    """At most ``size`` values by key, the least recently used dropped first; thread-safe.

    Parameters
    ----------
    size
        Values kept (0: none).

    Examples
    --------
    >>> kept: RecentlyUsed[str, int] = RecentlyUsed(2)
    >>> kept.put("a", 1); kept.put("b", 2); kept.get("a"); kept.put("c", 3)
    1
    >>> kept.get("b"), kept.get("a"), (kept.hits, kept.misses)
    (None, 1, (2, 1))
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"cache size {size}: use 0 (off) or more")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[_Key, _Value] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: _Key) -> _Value | None:
        """The value kept under ``key`` (now the most recently used), else ``None``."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: _Key, value: _Value) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used beyond ``size``."""
        if self.size == 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


@dataclass(frozen=True)
class CachedEvaluation:
    """An evaluation, its JSON text (``Evaluation.model_dump_json()``) and notes on its input."""

    evaluation: Evaluation
    json: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ParsedRecord:
    """A request body read into a record: the record, its SHA-256 and notes on the reading."""

    record: PatientRecord
    sha256: str
    notes: tuple[str, ...]


class EvaluationCache:
    """The latest evaluations, by (record SHA-256, knowledge-base SHA-256); thread-safe.

    Parameters
    ----------
    size
        Evaluations kept, and request bodies (0: none; every call evaluates).
    """

    def __init__(self, size: int = DEFAULT_EVALUATION_CACHE_SIZE) -> None:
        self._entries: RecentlyUsed[tuple[str, str], CachedEvaluation] = RecentlyUsed(size)
        self._bodies: RecentlyUsed[str, ParsedRecord] = RecentlyUsed(size)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Evaluations kept at most (and request bodies)."""
        return self._entries.size

    @property
    def hits(self) -> int:
        """Answers found kept (evaluations and request bodies)."""
        return self._entries.hits + self._bodies.hits

    @property
    def misses(self) -> int:
        """Answers not found kept (evaluations and request bodies)."""
        return self._entries.misses + self._bodies.misses

    def parse(self, raw: bytes, body: Any) -> ParsedRecord:
        """Read a request body into a record (a record's JSON or a FHIR Bundle), or recall it.

        Parameters
        ----------
        raw
            The body's bytes, as received.
        body
            The same body, parsed as JSON.

        Returns
        -------
        ParsedRecord

        Raises
        ------
        ValidationError
            Listing every invalid field (invalid bodies are not kept).
        """
        key = hashlib.sha256(raw).hexdigest()
        found = self._bodies.get(key)
        if found is not None:
            return found
        record, notes = parse_record(body)
        parsed = ParsedRecord(record, canonical_sha256(record), tuple(notes))
        self._bodies.put(key, parsed)
        return parsed

    def get_or_evaluate(
        self, record: PatientRecord, record_sha256: str, knowledge_base: KnowledgeBase
    ) -> CachedEvaluation:
        """The evaluation of ``record``: the kept one if any, else a new one (then kept).

        Parameters
        ----------
        record
            The validated record; its expression reference, if any, is not read (see
            :data:`EXPRESSION_NOTE`).
        record_sha256
            SHA-256 of ``record``; the evaluation records it as its input hash.
        knowledge_base
            The knowledge base to evaluate against.

        Returns
        -------
        CachedEvaluation
        """
        found = self._entries.get((record_sha256, knowledge_base.sha256))
        if found is not None:
            return found
        return self._evaluate(record, record_sha256, knowledge_base)

    def _evaluate(
        self, record: PatientRecord, record_sha256: str, knowledge_base: KnowledgeBase
    ) -> CachedEvaluation:
        notes: tuple[str, ...] = ()
        if record.expression is not None:
            record = record.model_copy(update={"expression": None})
            notes = (EXPRESSION_NOTE,)
        evaluation = evaluate(record, knowledge_base=knowledge_base, input_sha256=record_sha256)
        made = CachedEvaluation(evaluation, evaluation.model_dump_json(), notes)
        self._entries.put((record_sha256, knowledge_base.sha256), made)
        return made
