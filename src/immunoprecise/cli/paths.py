"""Output paths checked when the command line is read, before any work is done.

A command that computes for minutes and then fails to write its result, or prints half its
output and then stops, is worse than one that refuses the path at once. These callbacks are
given to Typer options; a path that cannot be written gives a usage error (exit 2) naming the
option and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

__all__ = ["output_file", "output_folder", "writing"]


def output_file(*suffixes: str) -> Callable[[Path | None], Path | None]:
    """A Typer callback that accepts a file path that can be created or replaced.

    Missing folders on the way are allowed (the command makes them); a folder where the file
    should be, or a file where a folder should be, is refused.

    Parameters
    ----------
    suffixes
        The file suffixes accepted (``".png"``, ``".svg"``); any when none are given.

    Returns
    -------
    callable
        The callback: returns the path unchanged, or raises ``typer.BadParameter``.

    Examples
    --------
    >>> check = output_file(".png", ".svg")
    >>> check(Path("km.png"))
    PosixPath('km.png')
    >>> try:
    ...     check(Path("km.txt"))
    ... except typer.BadParameter as exc:
    ...     print(exc)
    km.txt: write a .png or .svg file
    """

    def check(path: Path | None) -> Path | None:
        if path is None:
            return None
        if suffixes and path.suffix.lower() not in suffixes:
            kinds = " or ".join(
                [", ".join(suffixes[:-1]), suffixes[-1]] if len(suffixes) > 1 else suffixes
            )
            raise typer.BadParameter(f"{path}: write a {kinds} file")
        if path.is_dir():
            raise typer.BadParameter(f"{path} is a folder; give a file name")
        _no_file_in_the_way(path)
        return path

    return check


def output_folder(path: Path | None) -> Path | None:
    """A Typer callback that accepts a folder that exists or can be created.

    Examples
    --------
    >>> output_folder(Path("results/run1"))
    PosixPath('results/run1')
    """
    if path is None:
        return None
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} is a file, not a folder")
    _no_file_in_the_way(path)
    return path


def _no_file_in_the_way(path: Path) -> None:
    """Refuse a path through a file (``x.txt/out.csv``); missing folders are made on writing."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise typer.BadParameter(f"{path}: {parent} is a file, not a folder")
            return


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Make the file's folder, and turn a write the system refuses (no space, read-only) into
    exit 2 naming the file.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "new" / "out.txt"
    >>> with writing(target):
    ...     _ = target.write_text("ok")
    >>> target.read_text()
    'ok'
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield
    except OSError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"error: cannot write {path}: {exc.strerror or exc}", markup=False
        )
        raise typer.Exit(2) from None
