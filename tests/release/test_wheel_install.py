"""The built wheel is complete and works on its own: installed in a fresh virtual environment
(pinned dependencies from ``constraints.txt``, nothing from the source tree), it evaluates every
bundled example patient, scores the example expression matrix, creates a registry and validates
its knowledge base.

Marked ``release``: ``make test`` leaves it out (a fresh environment downloads every dependency,
minutes on a CI machine); ``make release-check`` and CI run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "immunoprecise"
EXAMPLES = sorted((PACKAGE / "data" / "examples").glob("*.json"))

pytestmark = pytest.mark.release


def _run(*command: str | Path, cwd: Path, timeout: float = 900) -> str:
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", ROOT, "-w", out, cwd=out)
    (found,) = out.glob("immunoprecise-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv with the wheel and its pinned dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", venv, cwd=venv)
    pip = venv / "bin" / "pip"
    _run(pip, "install", "--quiet", "-c", ROOT / "constraints.txt", wheel, cwd=venv)
    return venv / "bin"


def test_the_wheel_holds_every_data_file_of_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    data = {
        "immunoprecise/" + p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    assert data, "no data files found in the source tree"
    assert data <= names, f"missing from the wheel: {sorted(data - names)}"
    # licence notices of redistributed third-party data travel with it
    assert "immunoprecise/profile/expression/data/TIL10_LICENSE.txt" in names
    assert "immunoprecise/py.typed" in names


def test_the_installed_wheel_evaluates_every_example(installed: Path, tmp_path: Path) -> None:
    cli = installed / "immunoprecise"
    probe = _run(installed / "python", "-c", "import immunoprecise; print(immunoprecise.__file__)",
                 cwd=tmp_path)  # fmt: skip
    assert str(installed.parent) in probe  # the installed copy, not the source tree
    _run(cli, "evaluate", *EXAMPLES, "--format", "json", "--out", tmp_path / "out", cwd=tmp_path)
    written = sorted((tmp_path / "out").glob("*.json"))
    assert len(written) == len(EXAMPLES)
    for path in written:
        evaluation = json.loads(path.read_text(encoding="utf-8"))
        assert "not a medical device" in evaluation["disclaimer"]
        assert evaluation["plan"]["options"], path.name
        assert evaluation["software"]["knowledge_base_sha256"]


def test_the_installed_wheel_scores_expression_and_makes_a_registry(
    installed: Path, tmp_path: Path
) -> None:
    cli = installed / "immunoprecise"
    matrix = PACKAGE / "data" / "examples" / "expression_examples.tsv"
    scores = tmp_path / "scores.tsv"
    _run(cli, "score-expression", matrix, "--out", scores, cwd=tmp_path)
    header = scores.read_text(encoding="utf-8").splitlines()[0].split("\t")
    assert {"icb_response", "CYT", "GEP18"} <= set(header)
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    _run(cli, "db", "init", "--db", db, cwd=tmp_path)
    imported = _run(cli, "db", "import", EXAMPLES[0], "--db", db, cwd=tmp_path)
    assert "1" in imported
    assert "valid" in _run(cli, "kb", "validate", "--strict", cwd=tmp_path).lower()
