"""The README: opens with the two Quickstart commands and its generated tables are current."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_quickstart_is_the_two_make_commands() -> None:
    text = _readme()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", quickstart, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    assert text.index("## Quickstart") < text.index("\n## ", text.index("## Quickstart") - 1) + 2


def test_readme_says_research_use_only() -> None:
    assert "not a medical device" in _readme()


def test_generated_sections_are_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "scripts" / "update_readme.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = _readme()
    assert module.render(text) == text, "run `make docs` and commit README.md"
