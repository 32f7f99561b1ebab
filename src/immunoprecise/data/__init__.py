"""Example data shipped with immunoprecise (clearly synthetic patients).

Examples
--------
>>> sorted(p.stem for p in example_patients())[:2]
['ball_cd19', 'crc_msih']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_path", "example_patients"]


def _examples_dir() -> Path:
    return Path(str(resources.files("immunoprecise.data") / "examples"))


def example_path(name: str) -> Path:
    """Return the path of a shipped example file, e.g. ``example_path("fl_relapsed.json")``.

    Raises
    ------
    FileNotFoundError
        If no example of that name is shipped (the message lists those that are).
    """
    path = _examples_dir() / name
    if not path.is_file():
        known = ", ".join(sorted(p.name for p in _examples_dir().iterdir() if p.is_file()))
        raise FileNotFoundError(f"no example named {name!r}; shipped examples: {known}")
    return path


def example_patients() -> list[Path]:
    """Return the paths of the shipped single-patient examples (``*.json``), sorted by name."""
    return sorted(_examples_dir().glob("*.json"))
