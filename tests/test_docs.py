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


def _script(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_page_is_current() -> None:
    module = _script("make_example_docs")
    names = module.example_names()  # type: ignore[attr-defined]
    text = (ROOT / "docs" / "examples.md").read_text(encoding="utf-8")
    assert module.page(names) + "\n" == text, "run `make docs` and commit docs/examples.md"  # type: ignore[attr-defined]
    for figure in re.findall(r"\]\((figures/[^)]+\.svg)\)", text):
        svg = (ROOT / "docs" / figure).read_text(encoding="utf-8")
        assert svg.startswith("<svg"), figure


def test_shipped_immunoscore_reference_is_the_documented_model() -> None:
    import contextlib
    import io

    module = _script("make_immunoscore_reference")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        module.main()  # type: ignore[attr-defined]
    shipped = ROOT / "src" / "immunoprecise" / "knowledge" / "data" / "immunoscore_reference.yaml"
    assert out.getvalue() == shipped.read_text(encoding="utf-8")


def test_shipped_example_expression_matrix_is_the_script_output() -> None:
    module = _script("make_example_expression")
    text = module.build().to_csv(sep="\t", lineterminator="\n")  # type: ignore[attr-defined]
    shipped = ROOT / "src" / "immunoprecise" / "data" / "examples" / "expression_examples.tsv"
    assert text == shipped.read_text(encoding="utf-8"), "run scripts/make_example_expression.py"
