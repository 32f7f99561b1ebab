"""``immunoprecise token`` commands and ``serve_command`` running a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from typer.testing import CliRunner

from immunoprecise.cli.serve import serve_command, token_app

runner = CliRunner()


def test_token_create_list_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    made = runner.invoke(token_app, ["create", "ann", "--role", "clinician", "--db", db])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert len(secret) >= 43
    again = runner.invoke(token_app, ["create", "ann", "--role", "admin", "--db", db])
    assert again.exit_code == 2
    assert "already exists" in again.output
    bad_role = runner.invoke(token_app, ["create", "bob", "--role", "boss", "--db", db])
    assert bad_role.exit_code == 2
    listed = runner.invoke(token_app, ["list", "--db", db])
    assert listed.exit_code == 0
    assert "ann" in listed.stdout
    assert "clinician" in listed.stdout
    assert secret not in listed.stdout
    revoked = runner.invoke(token_app, ["revoke", "ann", "--db", db])
    assert revoked.exit_code == 0
    assert "revoked ann" in revoked.stdout
    missing = runner.invoke(token_app, ["revoke", "nobody", "--db", db])
    assert missing.exit_code == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_command_migrates_the_database_and_serves(tmp_path: Path) -> None:
    db = tmp_path / "served" / "registry.db"
    port = _free_port()
    script = (
        "import typer; from immunoprecise.cli.serve import serve_command; typer.run(serve_command)"
    )
    env = {**os.environ, "IMMUNOPRECISE_PSEUDONYM_KEY": "k" * 32, "XDG_DATA_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--port", str(port), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None
        assert health.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/patients").status_code == 401
    finally:
        process.terminate()
        _, err = process.communicate(timeout=15)
    assert db.is_file()
    assert f"http://localhost:{port}/docs" in err
    assert "immunoprecise token create" in err


def test_serve_command_is_a_typer_command() -> None:
    app = typer.Typer()
    app.command("serve")(serve_command)
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "--port" in result.output
    assert "--db" in result.output
    assert "--workers" in result.output
