"""The documentation site: it builds with ``mkdocs build --strict``, its generated knowledge-base
pages are current, and the Python of its tutorials runs.

The site needs mkdocs-material and mkdocstrings[python] (in the ``test`` extra); the build
test is skipped where they are not installed. The tutorial and knowledge-base tests need only
immunoprecise.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted((DOCS / "tutorials").glob("*.md"))
TUTORIAL_PAGES = [p for p in TUTORIALS if p.name != "index.md"]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def _kb_pages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kb_pages", ROOT / "scripts" / "kb_pages.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks(page: Path) -> list[str]:
    """The fenced ```python blocks of a Markdown page, in order."""
    return FENCE.findall(page.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs-material is not installed")
    pytest.importorskip("material", reason="mkdocs-material is not installed")
    pytest.importorskip("mkdocstrings_handlers.python", reason="mkdocstrings[python] missing")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING")]
    assert not warnings, "\n".join(warnings)
    return out


def _page(site: Path, path: str) -> str:
    html = site / path / "index.html" if not path.endswith(".html") else site / path
    assert html.is_file(), f"{path} is missing from the built site"
    return html.read_text(encoding="utf-8")


@pytest.mark.release
def test_site_builds_strict_with_the_key_pages(site: Path) -> None:
    home = _page(site, "index.html")
    assert "not a medical device" in home
    assert "make run" in home
    assert "make test" in home
    for page in TUTORIAL_PAGES:
        _page(site, f"tutorials/{page.stem}")
    api = _page(site, "api/top_level")
    assert "read_patient" in api
    assert "score_expression" in api
    assert 'id="immunoprecise.recommend"' in _page(site, "api/recommend")
    assert "optimal_cutpoint" in _page(site, "api/cohort")
    therapies = _page(site, "knowledge_base/therapies")
    assert 'id="pembrolizumab"' in therapies
    assert 'id="msi_h_anti_pd1"' in _page(site, "knowledge_base/rules")
    assert "https://doi.org/" in _page(site, "knowledge_base/references")
    assert "0.653" in _page(site, "validation")
    assert "patient.id" in _page(site, "data_model")
    assert (site / "schema" / "patient-record.schema.json").is_file()


def test_every_docs_page_is_in_the_nav() -> None:
    yaml = pytest.importorskip("yaml")

    def paths(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [p for item in node for p in paths(item)]
        if isinstance(node, dict):
            return [p for value in node.values() for p in paths(value)]
        return []

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(paths(config["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - in_nav == set(), "add these pages to the nav of mkdocs.yml"
    assert in_nav - pages == set(), "the nav names pages that do not exist"


def test_knowledge_base_pages_are_current(tmp_path: Path) -> None:
    module = _kb_pages()
    module.main(["--out", str(tmp_path)])
    generated = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in (DOCS / "knowledge_base").glob("*.md"))
    assert generated == committed
    for name in generated:
        assert (tmp_path / name).read_text(encoding="utf-8") == (
            DOCS / "knowledge_base" / name
        ).read_text(encoding="utf-8"), f"run scripts/kb_pages.py: {name} is out of date"
    # idempotent: a second run writes nothing
    assert module.write(tmp_path, module.render()) == []


def test_knowledge_base_pages_name_every_therapy_and_rule() -> None:
    import immunoprecise as ip

    kb = ip.load_knowledge_base()
    therapies = (DOCS / "knowledge_base" / "therapies.md").read_text(encoding="utf-8")
    rules = (DOCS / "knowledge_base" / "rules.md").read_text(encoding="utf-8")
    references = (DOCS / "knowledge_base" / "references.md").read_text(encoding="utf-8")
    assert all(f"{{#{t.id}}}" in therapies for t in kb.therapies)
    assert all(f"{{#{r.id}}}" in rules for r in kb.rules)
    assert all(f"https://doi.org/{r.doi}" in references for r in kb.references if r.doi)


def test_tutorials_have_python_and_cli() -> None:
    assert len(TUTORIAL_PAGES) == 5
    for page in TUTORIAL_PAGES:
        text = page.read_text(encoding="utf-8")
        assert python_blocks(page), f"{page.name} has no Python"
        assert "```sh" in text, f"{page.name} has no command line"
        assert "immunoprecise " in text


@pytest.mark.release
@pytest.mark.parametrize("page", TUTORIAL_PAGES, ids=lambda p: p.stem)
def test_tutorial_python_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the page's Python blocks in order, in one namespace, in an empty directory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(page)
    # the blocks check their own results: a wrong number fails them, not only an exception
    assert any("assert " in block for block in blocks), f"{page.name}: its Python checks nothing"
    namespace: dict[str, object] = {"__name__": f"tutorial_{page.stem}"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{page.name} (python block {number})", "exec")
        exec(code, namespace)  # the documented code is what is tested
    plt.close("all")
    assert len(namespace) > 2, f"{page.name}: its Python defined nothing"
