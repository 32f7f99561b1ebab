"""Secrets come only from the environment or from files only their owner can read: the
pseudonym key file is made private (mode 600), and a key file others may read or write is
refused, by the library and by ``immunoprecise serve``, with the fix in the message."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from immunoprecise.service.pseudonymize import (
    PSEUDONYM_KEY_ENV,
    PSEUDONYM_KEY_FILE_ENV,
    default_key_path,
    resolve_pseudonym_key,
)


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    monkeypatch.delenv(PSEUDONYM_KEY_FILE_ENV, raising=False)
    return tmp_path


def test_the_key_file_is_made_private_and_kept(data_home: Path) -> None:
    first = resolve_pseudonym_key()
    path = default_key_path()
    assert path == data_home / "immunoprecise" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_pseudonym_key() == first  # made once, then read
    assert len(first) >= 32


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_a_key_file_others_can_read_or_write_is_refused(data_home: Path, mode: int) -> None:
    resolve_pseudonym_key()
    path = default_key_path()
    path.chmod(mode)
    with pytest.raises(ValueError, match=f"mode {mode:04o}") as refused:
        resolve_pseudonym_key()
    assert f"chmod 600 {path}" in str(refused.value)


def test_a_named_key_file_is_used_and_checked(
    data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = data_home / "secret.key"
    secret.write_text("a-long-random-key-from-a-container-secret\n", encoding="ascii")
    secret.chmod(0o600)
    monkeypatch.setenv(PSEUDONYM_KEY_FILE_ENV, str(secret))
    assert resolve_pseudonym_key() == b"a-long-random-key-from-a-container-secret"
    secret.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        resolve_pseudonym_key()
    monkeypatch.setenv(PSEUDONYM_KEY_FILE_ENV, str(data_home / "missing.key"))
    with pytest.raises(ValueError, match="no key file"):
        resolve_pseudonym_key()
    # the environment's key wins over any file
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "x" * 20)
    assert resolve_pseudonym_key() == b"x" * 20


def test_serve_refuses_a_readable_key_file_without_a_traceback(
    data_home: Path, tmp_path: Path
) -> None:
    resolve_pseudonym_key()
    default_key_path().chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k != PSEUDONYM_KEY_ENV}
    env["XDG_DATA_HOME"] = str(data_home)
    done = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "serve", "--db", str(tmp_path / "r.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "chmod 600" in done.stderr
    assert "Traceback" not in done.stderr
