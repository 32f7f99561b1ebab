"""The README and the docs pages: the README opens with the two Quickstart commands, its
generated tables are current, and the code and command lines the pages show work as shown."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

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


# ---------------------------------------------------------------------------------------------
# The code and commands the pages show work as shown

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted((DOCS / "tutorials").glob("*.md"))]
PYTHON_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
# pages whose Python runs as shown, on the shipped examples only (the tutorials are run by
# tests/test_docs_site.py)
SELF_CONTAINED = [
    "index.md",
    "cohort.md",
    "cohort_cutpoints.md",
    "safety.md",
    "virtual_populations.md",
]


def _python_blocks(page: Path) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text(encoding="utf-8"))


def _run_blocks(page: Path, blocks: list[str]) -> dict[str, object]:
    """Run a page's Python blocks in order in one namespace (doctest blocks as doctests)."""
    import doctest

    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(blocks, 1):
        name = f"{page.name} (python block {number})"
        if block.lstrip().startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(block, namespace, name, str(page), 0)
            flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            runner = doctest.DocTestRunner(optionflags=flags)
            runner.run(test, clear_globs=False)
            assert runner.failures == 0, f"{name}: its output differs from the page"
            namespace.update(test.globs)  # the doctest's names, for the blocks after it
        else:
            exec(compile(block, name, "exec"), namespace)  # the documented code is what is tested
    return namespace


@pytest.mark.parametrize("name", SELF_CONTAINED)
def test_page_python_runs_as_shown(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    page = DOCS / name
    blocks = _python_blocks(page)
    assert blocks, f"{name} has no Python"
    # the reference ICB cohorts are not shipped (tests/cohort/test_icb_reader.py reads them)
    blocks = [block for block in blocks if "shared/data/icb" not in block]
    _run_blocks(page, blocks)
    plt.close("all")


def test_readme_site_immunoscore_reference_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's own Immunoscore reference: a site's densities into a knowledge base."""
    import numpy as np
    import pandas as pd

    from immunoprecise.knowledge import load_knowledge_base

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    columns = [f"{m}_{r}" for m in ("CD3", "CD8") for r in ("tumor_core", "invasive_margin")]
    pd.DataFrame({c: rng.lognormal(5, 1, 40) for c in columns}).to_csv(
        "our_densities.csv", index=False
    )
    [block] = [b for b in _python_blocks(ROOT / "README.md") if "density_reference_from_table" in b]
    _run_blocks(ROOT / "README.md", [block])
    kb = load_knowledge_base(tmp_path / "my_kb")
    assert kb.immunoscore_reference.version == "site-2026"


def test_pages_import_only_public_modules() -> None:
    """A page shows the public names (``immunoprecise.pl.roc``), never a private module's."""
    private = re.compile(r"(?:from|import)\s+immunoprecise(?:\.\w+)*\._\w+")
    found = [
        f"{page.relative_to(ROOT)}: {m.group(0)}"
        for page in PAGES
        for m in private.finditer(page.read_text(encoding="utf-8"))
    ]
    assert not found, found


def test_tutorials_name_every_shipped_example_file() -> None:
    """``immunoprecise examples`` lists the patients and the cohort; the other shipped files the
    tutorials use are named on the tutorials' index, so a reader can find them."""
    from immunoprecise.data import example_patients

    examples = ROOT / "src" / "immunoprecise" / "data" / "examples"
    listed = {p.name for p in example_patients()} | {"fl_cohort.csv"}
    index = (DOCS / "tutorials" / "index.md").read_text(encoding="utf-8")
    for path in sorted(examples.iterdir()):
        if path.is_file() and path.name not in listed:
            assert f"`{path.name}`" in index, f"{path.name} is not named on the tutorials' index"


def _cli_options() -> dict[tuple[str, ...], set[str]]:
    """Every command path of the CLI with the options it takes."""
    import typer

    from immunoprecise.cli import app

    options: dict[tuple[str, ...], set[str]] = {}

    def walk(command: object, path: tuple[str, ...]) -> None:
        names: set[str] = set()
        for param in getattr(command, "params", []):
            names.update(param.opts)
            names.update(param.secondary_opts)
        options[path] = names
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return options


def test_cli_options_named_in_the_docs_exist() -> None:
    """An ``immunoprecise CMD ... --option`` on a page (a shell line or inline code) names an
    option that CMD takes."""
    options = _cli_options()
    command_line = re.compile(r"immunoprecise((?: [a-z][a-z-]*)+)\b([^`\n]*)")
    wrong = []
    checked = 0
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for match in command_line.finditer(line):
                path: tuple[str, ...] = ()
                for word in match.group(1).split():
                    if (*path, word) not in options:
                        break
                    path = (*path, word)
                if not path or any(key[: len(path)] == path and key != path for key in options):
                    continue  # not a command, or a group named without its subcommand
                rest = match.group(2).split("#")[0]
                if rest.startswith("|"):
                    continue  # a synopsis of alternatives (db init|upgrade|...)
                checked += 1
                for option in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", rest):
                    if option not in options[path] | {"--help"}:
                        wrong.append(f"{page.name}:{number}: {' '.join(path)} {option}")
    assert checked > 50
    assert not wrong, wrong


def test_documented_output_keys_are_the_evaluation_keys() -> None:
    """The README and the data-model page list every top-level key of an evaluation's JSON."""
    import immunoprecise as ip

    evaluation = ip.evaluate(ip.read_patient(ip.data.example_path("crc_msih.json")))
    keys = list(evaluation.model_dump(mode="json"))
    for page in (ROOT / "README.md", DOCS / "data_model.md"):
        text = " ".join(page.read_text(encoding="utf-8").split())
        start = text.index("top-level keys")
        sentence = text[start : text.index("Later versions", start)]
        named = [key for key in keys if f"`{key}`" in sentence]
        assert named == keys, f"{page.name} names {named} of the keys {keys}"


def test_options_in_inline_code_exist() -> None:
    """An option written in inline code anywhere on a page is one some command takes."""
    other_tools = {"--gencode"}  # Salmon's, named on the expression page
    known = set().union(*_cli_options().values()) | other_tools | {"--help"}
    wrong = [
        f"{page.name}:{number}: {option}"
        for page in PAGES
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        for code in re.findall(r"`([^`\n]+)`", line)
        for option in re.findall(r"(?<![\w-])(--[a-zA-Z][\w-]*)", code)
        if option not in known
    ]
    assert not wrong, wrong
