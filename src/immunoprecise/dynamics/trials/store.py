"""Finished chunks of a trial on disk, as Parquet: what makes a killed run resumable.

Layout of a trial folder::

    trial.json                      the design, its hash, the package version and sampling scheme
    chunks/chunk-000012.parquet     outcomes of chunk 12 (one row per patient and arm)
    chunks/chunk-000012.population.parquet, chunk-000012.trajectories.parquet
    chunks/chunk-000012.json        the chunk's constraint rejections

A chunk's files are written under temporary names and renamed, the outcome file last, so a chunk
either exists completely or not at all: a run killed at any moment leaves only complete chunks
(and maybe temporary files, removed on the next start). A folder holding another design's
chunks is refused rather than mixed.

Finished chunks may be kept elsewhere than in a folder — the REST service keeps them in its
registry — by any object with the three methods of :class:`ChunkKeeper`; :func:`chunk_bytes` and
:func:`chunk_from_bytes` turn a chunk into one self-contained blob and back.

Examples
--------
>>> import tempfile
>>> from immunoprecise.dynamics.trials.design import TrialArm, TrialDesign
>>> d = TrialDesign(name="t", model="kuznetsov1994", seed=3, n_per_arm=10, follow_up_days=60,
...                 arms=(TrialArm(id="none", regimen=""),))
>>> store = ChunkStore(tempfile.mkdtemp(), d)
>>> store.completed()
set()
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Protocol

import pandas as pd

from immunoprecise.dynamics.trials.design import TrialDesign, design_hash
from immunoprecise.dynamics.trials.outcomes import ChunkOutput
from immunoprecise.dynamics.trials.patients import SAMPLING_SCHEME
from immunoprecise.dynamics.trials.population import _package_version
from immunoprecise.errors import FieldProblem, ValidationError

__all__ = ["ChunkKeeper", "ChunkStore", "chunk_bytes", "chunk_from_bytes"]

_PARTS = ("population", "trajectories")
_TABLES = ("outcomes", *_PARTS)
"""The three tables of a chunk, in the order they are read and kept in a blob."""


class ChunkKeeper(Protocol):
    """Where a trial's finished chunks are kept, so that a stopped run continues from them."""

    def completed(self) -> set[int]:
        """Indices of the chunks kept completely."""
        ...  # pragma: no cover - a protocol

    def write(self, out: ChunkOutput) -> None:
        """Keep one finished chunk."""
        ...  # pragma: no cover - a protocol

    def read(self, index: int) -> ChunkOutput:
        """One kept chunk."""
        ...  # pragma: no cover - a protocol


class ChunkStore:
    """A trial folder: writes finished chunks atomically and reads them back in chunk order.

    Parameters
    ----------
    folder
        Where the trial's files go (created if missing).
    design
        The design; a folder already holding another design's (or another version's) chunks
        raises :class:`~immunoprecise.errors.ValidationError` naming both hashes.
    name
        How errors name the folder: ``"out"`` (the keyword of
        :func:`~immunoprecise.dynamics.trials.run_trial`) or a surface's option (``"--out"``).
    """

    def __init__(
        self, folder: str | os.PathLike[str], design: TrialDesign, *, name: str = "out"
    ) -> None:
        self.folder = Path(folder)
        self.name = name
        self.chunks = self.folder / "chunks"
        self.design = design
        self.hash = design_hash(design)
        manifest = self.folder / "trial.json"
        if self.folder.exists() and not self.folder.is_dir():
            raise ValidationError(
                [
                    FieldProblem(
                        self.name,
                        str(self.folder),
                        "is a file, not a folder: give a folder (new or of this trial) for the "
                        "trial's chunks and results",
                    )
                ]
            )
        if manifest.is_file():
            try:
                held = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValidationError(
                    [FieldProblem(self.name, str(manifest), f"unreadable trial record ({exc})")]
                ) from None
            if not isinstance(held, dict):
                raise ValidationError(
                    [
                        FieldProblem(
                            self.name,
                            str(manifest),
                            "unreadable trial record (expected a mapping with the design hash, "
                            f"not {type(held).__name__}); choose another output folder or "
                            "delete that one",
                        )
                    ]
                )
            if (
                held.get("design_hash") != self.hash
                or held.get("version") != _package_version()
                or held.get("sampling") != SAMPLING_SCHEME
            ):
                raise ValidationError(
                    [
                        FieldProblem(
                            self.name,
                            str(self.folder),
                            f"holds chunks of design {str(held.get('design_hash'))[:12]}… "
                            f"(immunoprecise {held.get('version')}, patient sampling "
                            f"{held.get('sampling', 1)}), not of this design "
                            f"{self.hash[:12]}… (immunoprecise {_package_version()}, "
                            f"patient sampling {SAMPLING_SCHEME}); "
                            "choose another output folder or delete that one",
                        )
                    ]
                )
        try:
            self.chunks.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file on the way, no permission, a full or read-only disk
            raise ValidationError(
                [
                    FieldProblem(
                        self.name,
                        str(self.folder),
                        f"cannot be created ({exc.strerror or exc}): give a folder that can "
                        "be written",
                    )
                ]
            ) from None
        for stale in self.chunks.glob("*.tmp"):
            stale.unlink()
        if not manifest.is_file():
            record = {
                "design_hash": self.hash,
                "version": _package_version(),
                "sampling": SAMPLING_SCHEME,
                "design": design.model_dump(mode="json"),
            }
            _write_text(manifest, json.dumps(record, indent=2, ensure_ascii=False))

    def _path(self, index: int, part: str | None = None) -> Path:
        suffix = ".parquet" if part is None else f".{part}.parquet"
        return self.chunks / f"chunk-{index:06d}{suffix}"

    def completed(self) -> set[int]:
        """Indices of the chunks already written completely."""
        done = set()
        for path in self.chunks.glob("chunk-*.parquet"):
            stem = path.name.removesuffix(".parquet")
            if stem.count(".") == 0:
                index = int(stem.removeprefix("chunk-"))
                if index < self.design.n_chunks:
                    done.add(index)
        return done

    def write(self, out: ChunkOutput) -> None:
        """Write one finished chunk (its outcome file last, each by atomic rename)."""
        for part in _PARTS:
            _write_bytes(self._path(out.index, part), _parquet(getattr(out, part)))
        _write_text(self.chunks / f"chunk-{out.index:06d}.json", json.dumps(out.rejected))
        _write_bytes(self._path(out.index), _parquet(out.outcomes))

    def read(self, index: int) -> ChunkOutput:
        """Read one finished chunk back.

        Raises
        ------
        ValidationError
            A file of the chunk is missing or cannot be read (emptied, truncated or replaced
            after it was written): naming the file, and that deleting the chunk's files makes
            the next run compute it again.
        """
        path = self.chunks / f"chunk-{index:06d}.json"
        try:
            counts = _counts(json.loads(path.read_text(encoding="utf-8")))
            frames = {}
            for part in _TABLES:
                path = self._path(index, None if part == "outcomes" else part)
                frames[part] = pd.read_parquet(path)
            return _chunk(index, frames, counts)
        except (OSError, ValueError, TypeError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            reason = str(exc).replace("\n", " ")
            raise ValidationError(
                [
                    FieldProblem(
                        self.name,
                        str(path),
                        f"chunk {index} cannot be read ({reason}); delete its files "
                        f"({self.chunks / f'chunk-{index:06d}'}.*) and run again to compute it "
                        "anew",
                    )
                ]
            ) from None

    def paths(self, index: int) -> list[Path]:
        """The files of chunk ``index`` (for checks that nothing is rewritten on resume)."""
        return [self._path(index), *(self._path(index, p) for p in _PARTS)]


def chunk_bytes(out: ChunkOutput) -> bytes:
    """One finished chunk as a single blob: a zip archive of its three tables (Parquet) and its
    constraint rejections (JSON), read back by :func:`chunk_from_bytes`.

    Parameters
    ----------
    out
        The chunk.

    Returns
    -------
    bytes

    Examples
    --------
    >>> out = ChunkOutput(index=4, outcomes=pd.DataFrame({"a": [1.5]}),
    ...                   population=pd.DataFrame(), trajectories=pd.DataFrame(),
    ...                   rejected={"size": 2})
    >>> back = chunk_from_bytes(4, chunk_bytes(out))
    >>> back.outcomes["a"].tolist(), back.rejected
    ([1.5], {'size': 2})
    """
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", compression=zipfile.ZIP_STORED) as archive:
        for part in _TABLES:
            archive.writestr(f"{part}.parquet", _parquet(getattr(out, part)))
        archive.writestr("rejected.json", json.dumps(out.rejected))
    return blob.getvalue()


def chunk_from_bytes(index: int, data: bytes) -> ChunkOutput:
    """Chunk ``index`` back from the blob :func:`chunk_bytes` made.

    Parameters
    ----------
    index
        The chunk's index.
    data
        The blob.

    Returns
    -------
    ChunkOutput

    Raises
    ------
    ValidationError
        If the blob is not a chunk (naming what is wrong).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            tables = {
                part: pd.read_parquet(io.BytesIO(archive.read(f"{part}.parquet")))
                for part in _TABLES
            }
            counts = _counts(json.loads(archive.read("rejected.json")))
        return _chunk(index, tables, counts)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ValidationError(
            [FieldProblem(f"chunk {index}", f"{len(data)} bytes", f"not a saved chunk ({exc})")]
        ) from None


def _counts(rejected: object) -> dict[str, int]:
    """A chunk's constraint rejections as read back (from a file or a blob): ``ValueError``
    (or ``TypeError``) when they are not a mapping of constraint → count."""
    if not isinstance(rejected, dict):
        raise ValueError(f"expected a mapping of constraint → count, not {rejected!r}")
    return {str(k): int(v) for k, v in rejected.items()}


def _chunk(index: int, tables: dict[str, pd.DataFrame], counts: dict[str, int]) -> ChunkOutput:
    """The chunk of ``tables`` (its three tables by name) and its rejection ``counts``."""
    return ChunkOutput(
        index=index,
        outcomes=tables["outcomes"],
        population=tables["population"],
        trajectories=tables["trajectories"],
        rejected=counts,
    )


def _parquet(frame: pd.DataFrame) -> bytes:
    """A table as Parquet bytes (without its index), as a chunk's file or blob holds it."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
