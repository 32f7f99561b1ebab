"""A fork server for the crash tests: imports immunoprecise once, then forks real child processes.

Starting ``immunoprecise`` costs 2–3 s of imports; the crash tests start about a hundred
importers and servers, so a fresh interpreter each time would not fit their time budget. This
process (``python crash_forkserver.py``) imports the command line, the registry, the service and
uvicorn once, then forks a child per request. Each child is an ordinary process running the real
code (the ``immunoprecise`` command line itself, or ``Registry.add_records``); the tests SIGKILL
it by its process id.

Protocol: one JSON object a line on stdin, answers one JSON object a line on stdout.

* ``{"op": "cli", "argv": [...], "log": PATH}`` forks a child that runs
  ``immunoprecise ARGV...``; answer ``{"pid": N}``.
* ``{"op": "add", "url": URL, "file": PATH, "actor": NAME, "log": PATH}`` forks a child that reads
  the file's records and opens the registry, writes ``{"ready": N}`` on stdout, then stores the
  records with ``Registry.add_records`` (one transaction); answer ``{"pid": N}``.
* ``{"op": "wait", "pid": N}`` reaps the child; answer ``{"pid": N, "exit": CODE}`` or
  ``{"pid": N, "signal": SIGNAL}``.

Every child appends to ``LOG.tx`` a line ``write`` before each statement that changes the
database and ``commit`` / ``rollback`` as each transaction ends (unbuffered writes, so they are
there however the child dies): the tests read from it whether a kill landed inside a write
transaction, on any database.

The fork server itself starts no threads and opens no database before forking.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _child_io(log: str) -> int:
    """Point the child's stdin at /dev/null and its stdout/stderr at ``log``; keep a channel."""
    channel = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    return channel


def _mark_transactions(path: str) -> None:
    """Append ``write``, ``commit`` and ``rollback`` lines to ``path`` as this process's
    database connections change data and end transactions."""
    from sqlalchemy import Engine, event

    marks = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            os.write(marks, b"write\n")

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "commit", lambda _conn: os.write(marks, b"commit\n"))
    event.listen(Engine, "rollback", lambda _conn: os.write(marks, b"rollback\n"))


def _run_child(request: dict[str, Any]) -> int:
    channel = _child_io(str(request["log"]))
    _mark_transactions(f"{request['log']}.tx")
    if request["op"] == "cli":
        os.close(channel)
        from immunoprecise.cli.app import app

        try:
            app(args=[str(a) for a in request["argv"]], prog_name="immunoprecise")
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return 0
    from immunoprecise.records import read_patients
    from immunoprecise.registry import Registry

    path = Path(str(request["file"]))
    records = read_patients(path)
    with Registry.open(str(request["url"])) as registry:
        os.write(channel, (json.dumps({"ready": os.getpid()}) + "\n").encode())
        os.close(channel)
        registry.add_records(records, actor=str(request["actor"]), source=path.name)
    return 0


def _warm_up() -> None:
    """Run the code paths once on a scratch database, so that their lazy imports and caches are
    in this process before it forks (a child then starts in ~0.2 s instead of ~1 s)."""
    import gc
    import tempfile

    from immunoprecise.data import example_path
    from immunoprecise.records import read_patients
    from immunoprecise.registry import Registry
    from immunoprecise.service import create_app

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/warm-up.db"
        create_app(url, create=True)
        with Registry.open(url) as registry:
            registry.add_records(read_patients(example_path("fl_cohort.csv"))[:2], actor="warm")
    gc.collect()


def main() -> None:
    """Serve fork requests from stdin until it closes."""
    # imported once here, so that the children start at once
    for module in (
        "uvicorn",
        "immunoprecise.cli.app",
        "immunoprecise.records",
        "immunoprecise.registry",
        "immunoprecise.service",
        "immunoprecise.service.caches",
    ):
        importlib.import_module(module)
    _warm_up()

    def answer(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    answer({"started": os.getpid()})
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "wait":
            pid = int(request["pid"])
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                answer({"pid": pid, "signal": os.WTERMSIG(status)})
            else:
                answer({"pid": pid, "exit": os.WEXITSTATUS(status)})
            continue
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into this loop
            code = 1
            try:
                code = _run_child(request)
            except BaseException as exc:
                print(f"child failed: {exc!r}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        answer({"pid": pid})


if __name__ == "__main__":
    main()
