"""`immunoprecise db ...` through typer's CliRunner, on real SQLite files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli.db import db_app
from immunoprecise.registry import Registry, head_revision

runner = CliRunner()
COHORT = str(ip.data.example_path("fl_cohort.csv"))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_init_import_export_status(url: str, tmp_path: Path) -> None:
    result = runner.invoke(db_app, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    assert f"schema revision {head_revision()}" in result.output
    result = runner.invoke(db_app, ["import", COHORT, "--db", url, "--actor", "ann"])
    assert result.exit_code == 0, result.output
    assert "200 rows, 200 new, 0 updated, 0 unchanged" in result.output
    result = runner.invoke(db_app, ["import", COHORT, "--db", url, "--actor", "ann"])
    assert "0 new, 0 updated, 200 unchanged" in result.output
    out = tmp_path / "export.jsonl"
    result = runner.invoke(db_app, ["export", "--db", url, "--out", str(out), "--actor", "x"])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    assert json.loads(lines[0])["patient"]["id"] == "SYN-FLC-001"
    result = runner.invoke(db_app, ["status", "--db", url])
    assert result.exit_code == 0, result.output
    assert "patients: 200" in result.output
    assert f"schema: {head_revision()} (latest)" in result.output
    with Registry.open(url) as registry:
        actors = {e.actor for e in registry.audit()}
    assert actors == {"ann", "x"}


def test_export_to_stdout_and_default_actor(url: str) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", str(ip.data.example_path("crc_msih.json")), "--db", url])
    result = runner.invoke(db_app, ["export", "--db", url])
    assert result.exit_code == 0, result.output
    assert (
        json.loads(result.stdout)["patient"]["id"]
        == ip.read_patient(ip.data.example_path("crc_msih.json")).patient_id
    )
    with Registry.open(url) as registry:
        assert all(e.actor for e in registry.audit())


def test_env_var_names_the_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMMUNOPRECISE_DB", url)
    assert runner.invoke(db_app, ["init"]).exit_code == 0
    assert runner.invoke(db_app, ["import", COHORT]).exit_code == 0
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 200


def test_downgrade_and_upgrade(url: str) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    result = runner.invoke(db_app, ["downgrade", "base", "--db", url])
    assert result.exit_code == 0, result.output
    assert "revision base" in result.output
    result = runner.invoke(db_app, ["status", "--db", url])
    assert result.exit_code == 1
    assert "run `immunoprecise db upgrade`" in result.output
    result = runner.invoke(db_app, ["import", COHORT, "--db", url])
    assert result.exit_code == 2
    assert "immunoprecise db upgrade" in result.output
    result = runner.invoke(db_app, ["upgrade", "--db", url, "--revision", "head"])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output


def _assert_clean_failure(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.output


def test_bad_input_exits_2_without_traceback(url: str, tmp_path: Path) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    missing = tmp_path / "missing.csv"
    _assert_clean_failure(
        runner.invoke(db_app, ["import", str(missing), "--db", url]), "no such file"
    )
    _assert_clean_failure(runner.invoke(db_app, ["init", "--db", "nosuchdb://x/y"]), "nosuchdb")
    _assert_clean_failure(
        runner.invoke(db_app, ["status", "--db", str(tmp_path / "absent.db")]), "db init"
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patient": {"id": "B1", "ecog": 9}, "disease": {}}), "utf-8")
    _assert_clean_failure(runner.invoke(db_app, ["import", str(bad), "--db", url]), "ecog")
    _assert_clean_failure(runner.invoke(db_app, ["downgrade", "zzzz", "--db", url]), "zzzz")
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 0


@pytest.mark.parametrize("command", [["init"], ["status"], ["upgrade"], ["import", COHORT]])
def test_url_with_a_bad_port_is_refused_without_traceback_or_password(
    command: list[str],
) -> None:
    """SQLAlchemy reads the port with int(): a typo there raised ValueError (a traceback)."""
    url = "postgresql+psycopg://ann:s3cr3t@dbhost:54x32/registry"
    result = runner.invoke(db_app, [*command, "--db", url])
    _assert_clean_failure(result, "cannot read database URL", "port must be a number")
    assert "s3cr3t" not in result.output
    assert "ann:***@dbhost" in result.output


def test_upgrade_of_a_database_from_a_newer_immunoprecise_says_so(url: str) -> None:
    """`db upgrade`/`db init`/`db downgrade` on a newer schema said only "Can't locate
    revision identified by '0099'"; now they say, as `db status` does, to upgrade immunoprecise."""
    from sqlalchemy import create_engine, text

    runner.invoke(db_app, ["init", "--db", url])
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for command in (["upgrade"], ["init"], ["downgrade", "previous"]):
        result = runner.invoke(db_app, [*command, "--db", url])
        _assert_clean_failure(result, "schema revision 0099", "a newer immunoprecise migrated it")


def test_export_makes_missing_folders(url: str, tmp_path: Path) -> None:
    """`--out` accepts missing folders (the callback says the command makes them): it failed
    with "No such file or directory"."""
    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", COHORT, "--db", url])
    out = tmp_path / "exports" / "2026" / "registry.jsonl"
    result = runner.invoke(db_app, ["export", "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 200


def test_failed_export_keeps_the_earlier_file_and_audits_nothing(url: str, tmp_path: Path) -> None:
    """A write that fails part-way (here: a file-size limit, as a full disk would) left a
    truncated export in place of the earlier one; now the earlier one stays, no partial file is
    left and no export is audited."""
    import resource
    import signal
    import subprocess
    import sys

    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", COHORT, "--db", url, "--actor", "ann"])
    out = tmp_path / "out" / "registry.jsonl"
    out.parent.mkdir()
    out.write_text("the earlier export\n", encoding="utf-8")

    def small_files() -> None:  # the export (~700 kB) is larger; the database's log is not
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "db", "export", "--db", url, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=small_files,
    )
    assert result.returncode == 2, result.stderr
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr
    assert out.read_text(encoding="utf-8") == "the earlier export\n"
    assert [p.name for p in out.parent.iterdir()] == ["registry.jsonl"]
    with Registry.open(url) as registry:
        assert [e for e in registry.audit() if e.action.value == "export"] == []


def _filled(db_url: str) -> None:
    """A registry with the example records stored by ann, one read by bob, exported by cy."""
    assert runner.invoke(db_app, ["init", "--db", db_url]).exit_code == 0
    paths = [str(p) for p in ip.data.example_patients()]
    assert (
        runner.invoke(db_app, ["import", *paths, "--db", db_url, "--actor", "ann"]).exit_code == 0
    )
    with Registry.open(db_url) as registry:
        registry.record("SYN-CRC-001", actor="bob")
    out = runner.invoke(db_app, ["export", "--db", db_url, "--actor", "cy"])
    assert out.exit_code == 0, out.output


def _tsv(output: str) -> list[dict[str, str]]:
    header, *lines = output.splitlines()
    return [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]


def test_audit_command_filters_and_formats(db_url: str) -> None:
    """The audit log could only be read from Python (Registry.audit); `db audit` reads it
    from the database, filtered, as a table, JSON or TSV."""
    _filled(db_url)
    n = len(ip.data.example_patients())
    with Registry.open(db_url) as registry:
        entries = registry.audit()
    result = runner.invoke(db_app, ["audit", "--db", db_url, "--format", "tsv"])
    assert result.exit_code == 0, result.output
    rows = _tsv(result.stdout)
    assert len(rows) == len(entries) == 2 * n + 1
    assert rows[0] == {
        "id": str(entries[0].id),
        "at": entries[0].at.isoformat(),
        "actor": "ann",
        "action": "create",
        "patient": entries[0].patient_id,
        "object": "record_version 1",
    }
    result = runner.invoke(
        db_app, ["audit", "--db", db_url, "-f", "json", "--patient", "SYN-CRC-001"]
    )
    assert result.exit_code == 0, result.output
    assert [(e["actor"], e["action"]) for e in json.loads(result.stdout)] == [
        ("ann", "create"), ("bob", "read"), ("cy", "export")
    ]  # fmt: skip
    result = runner.invoke(
        db_app,
        ["audit", "--db", db_url, "-f", "tsv", "--action", "read", "--action", "export",
         "--actor", "cy", "--newest-first", "--limit", "2", "--offset", "1"],
    )  # fmt: skip
    assert [(r["actor"], r["action"]) for r in _tsv(result.stdout)] == [("cy", "export")] * 2
    assert [r["id"] for r in _tsv(result.stdout)] == [str(e.id) for e in entries[-2:-4:-1]]
    day = entries[0].at.date()
    since = runner.invoke(db_app, ["audit", "--db", db_url, "-f", "tsv", "--since", str(day)])
    assert len(_tsv(since.stdout)) == len([e for e in entries if e.at.date() >= day])
    before = runner.invoke(
        db_app, ["audit", "--db", db_url, "--until", str(day - dt.timedelta(days=1))]
    )
    assert before.exit_code == 0
    assert before.stdout == ""
    assert "no audit entries match" in before.stderr
    table = runner.invoke(db_app, ["audit", "--db", db_url, "--actor", "bob"])
    assert table.exit_code == 0
    assert "SYN-CRC-001" in table.stdout
    (read,) = [e for e in entries if e.actor == "bob"]
    assert read.at.isoformat(timespec="seconds") in table.stdout  # not cut short
    # reading the log is not audited
    with Registry.open(db_url) as registry:
        assert len(registry.audit()) == len(entries)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--since", "yesterday"], "'yesterday' is not a date or time"),
        (["--since", "0001-01-01T00:00+01:00"], "is outside the years"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "is before since"),
        (["--action", "delete"], "'delete' is not one of"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_audit_command_refuses_bad_filters(url: str, options: list[str], needle: str) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    result = runner.invoke(db_app, ["audit", "--db", url, *options])
    _assert_clean_failure(result, needle)


def test_audit_tsv_escapes_tabs_and_newlines(url: str) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    with Registry.open(url) as registry:
        registry.patients(actor="ann\tlee", search="a\nb\\c")
    result = runner.invoke(db_app, ["audit", "--db", url, "-f", "tsv"])
    (row,) = _tsv(result.stdout)
    assert row["actor"] == "ann\\tlee"
    assert row["object"] == "patients matching 'a\\\\nb\\\\\\\\c'"


def test_history_shows_every_version_with_date_and_author(db_url: str, tmp_path: Path) -> None:
    runner.invoke(db_app, ["init", "--db", db_url])
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    changed = record.model_dump(mode="json")
    changed["patient"]["ecog"] = 2 if changed["patient"].get("ecog") != 2 else 1
    second = tmp_path / "crc_v2.json"
    second.write_text(json.dumps(changed), encoding="utf-8")
    runner.invoke(db_app, ["import", str(ip.data.example_path("crc_msih.json")), "--db", db_url,
                           "--actor", "ann"])  # fmt: skip
    runner.invoke(db_app, ["import", str(second), "--db", db_url, "--actor", "bob"])
    result = runner.invoke(
        db_app, ["history", record.patient_id, "--db", db_url, "-f", "json", "--actor", "cy"]
    )
    assert result.exit_code == 0, result.output
    versions = json.loads(result.stdout)
    assert [(v["version"], v["actor"], v["source"]) for v in versions] == [
        (1, "ann", "crc_msih.json"), (2, "bob", "crc_v2.json")
    ]  # fmt: skip
    assert all(dt.datetime.fromisoformat(v["created_at"]).tzinfo for v in versions)
    assert "record" not in versions[0]
    table = runner.invoke(db_app, ["history", record.patient_id, "--db", db_url])
    assert "crc_v2.json" in table.stdout
    assert versions[1]["sha256"][:12] in table.stdout
    with Registry.open(db_url) as registry:
        assert registry.audit(actor="cy")[-1].object == "record_versions 1-2"
    _assert_clean_failure(
        runner.invoke(db_app, ["history", "SYN-NOBODY", "--db", db_url]), "no patient"
    )


def test_import_a_folder(db_url: str, tmp_path: Path) -> None:
    """`db import DIR` was refused ("is not a file")."""
    runner.invoke(db_app, ["init", "--db", db_url])
    folder = tmp_path / "records"
    (folder / "more").mkdir(parents=True)
    for path in ip.data.example_patients()[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "more" / "fl_cohort.csv").write_bytes(Path(COHORT).read_bytes())
    (folder / "notes.txt").write_text("from the clinic", encoding="utf-8")
    result = runner.invoke(db_app, ["import", str(folder), "--db", db_url, "--actor", "ann"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in ip.data.example_patients()[:3])
    assert [line.split(": ")[0] for line in result.stdout.splitlines()] == [
        *(str(folder / name) for name in names), "total"
    ]  # fmt: skip
    assert "total: 3 files, 3 rows, 3 new, 0 updated, 0 unchanged" in result.stdout
    assert f"left out 1 file that is not a record file: {folder / 'notes.txt'}" in (result.stderr)
    result = runner.invoke(db_app, ["import", str(folder), "-r", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "total: 4 files, 203 rows, 200 new, 0 updated, 3 unchanged" in result.stdout
    (folder / "more" / "bad.json").write_text("{", encoding="utf-8")
    result = runner.invoke(db_app, ["import", str(folder), "-r", "--db", db_url])
    _assert_clean_failure(result, f"{folder / 'more' / 'bad.json'}", "nothing was stored")
    with Registry.open(db_url) as registry:
        assert registry.counts()["patients"] == 203


def test_downgrade_that_drops_data_needs_yes(db_url: str) -> None:
    """`db downgrade base` dropped every table, patient records and audit log included,
    without asking."""
    runner.invoke(db_app, ["init", "--db", db_url])
    # nothing is lost on an empty registry: no question
    result = runner.invoke(db_app, ["downgrade", "previous", "--db", db_url])
    assert result.exit_code == 0, result.output
    runner.invoke(db_app, ["upgrade", "--db", db_url])
    runner.invoke(db_app, ["import", COHORT, "--db", db_url, "--actor", "ann"])
    result = runner.invoke(db_app, ["downgrade", "base", "--db", db_url])
    _assert_clean_failure(
        result,
        "deletes data for good",
        "patients: 200 rows",
        "record_versions: 200 rows",
        "audit_log: 200 rows",
        "nothing was changed; add --yes",
    )
    assert "api_tokens" not in result.output  # empty tables are not listed
    with Registry.open(db_url) as registry:
        assert registry.counts()["patients"] == 200
    result = runner.invoke(db_app, ["downgrade", "base", "--db", db_url, "--yes"])
    assert result.exit_code == 0, result.output
    assert "revision base" in result.output


def test_downgrade_asks_on_a_terminal(url: str) -> None:
    import os
    import pty  # noqa: F401  (a real terminal, as an administrator's)
    import subprocess
    import sys

    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", COHORT, "--db", url])
    for answer, code, revision in (("n", 1, head_revision()), ("y", 0, None)):
        leader, follower = os.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "immunoprecise", "db", "downgrade", "base", "--db", url],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.close(follower)
        os.write(leader, f"{answer}\n".encode())
        _, err = process.communicate()
        os.close(leader)
        assert process.returncode == code, err.decode()
        assert "patients: 200 rows" in err.decode()
        assert "Delete this data? [y/N]" in err.decode()
        from immunoprecise.registry import current_revision

        assert current_revision(url) == revision


def test_file_paths_with_question_marks_and_unicode(tmp_path: Path) -> None:
    """A file path was pasted into a URL as it was: in 'my db?.db' SQLAlchemy read '?.db' as
    a query string, and the registry went to the file 'my db'; and a Unicode folder was shown
    as 'S%C3%BCd'."""
    folder = tmp_path / "Klinik Süd"
    folder.mkdir()
    path = folder / "my db?.db"
    result = runner.invoke(db_app, ["init", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["my db?.db"]
    result = runner.invoke(db_app, ["import", COHORT, "--db", str(path)])
    assert result.exit_code == 0, result.output
    with Registry.open(str(path)) as registry:
        assert registry.counts()["patients"] == 200
    plain = folder / "registry.db"
    result = runner.invoke(db_app, ["init", "--db", str(plain)])
    assert f"registry sqlite:///{plain} is ready" in result.output
    result = runner.invoke(db_app, ["status", "--db", str(folder / "absent.db")])
    assert f"--db sqlite:///{folder / 'absent.db'}`" in result.output


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true"]
)
def test_an_in_memory_database_is_refused(url: str) -> None:
    """`db init --db sqlite://` said "is ready" about a database gone as the command ended."""
    _assert_clean_failure(runner.invoke(db_app, ["init", "--db", url]), "in-memory SQLite")


@pytest.mark.parametrize("option", ["--db", "--actor"])
def test_an_empty_option_is_refused_not_replaced_by_the_default(
    url: str, option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--db "$UNSET"` used the default registry, and `--actor "$UNSET"` the OS user, without
    a word."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("IMMUNOPRECISE_DB", raising=False)
    runner.invoke(db_app, ["init", "--db", url])
    args = ["import", COHORT, "--db", url, "--actor", "ann"]
    args[args.index(option) + 1] = ""
    result = runner.invoke(db_app, args)
    assert result.exit_code == 2
    assert "is empty" in result.output
    assert not (tmp_path / "data").exists()
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 0


def test_names_are_printed_as_written(url: str, tmp_path: Path) -> None:
    """rich turned ':pill:' in a file name into an emoji in the import summary."""
    runner.invoke(db_app, ["init", "--db", url])
    path = tmp_path / "visit:pill:2.json"
    path.write_bytes(ip.data.example_path("crc_msih.json").read_bytes())
    result = runner.invoke(db_app, ["import", str(path), "--db", url])
    assert result.exit_code == 0, result.output
    assert f"{path}: 1 row, 1 new" in result.stdout


def test_a_file_name_that_is_not_utf8_is_stored(url: str, tmp_path: Path) -> None:
    """A file named in Latin-1 ('Müller.json' from an older system) reaches Python with a
    lone surrogate, which the database driver cannot encode: `db import` ended in a
    UnicodeEncodeError traceback."""
    import os

    runner.invoke(db_app, ["init", "--db", url])
    folder = tmp_path / "records"
    folder.mkdir()
    name = os.fsdecode(b"M\xfcller.json")
    (folder / name).write_bytes(ip.data.example_path("crc_msih.json").read_bytes())
    result = runner.invoke(db_app, ["import", str(folder / name), "--db", url])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    with Registry.open(url) as registry:
        (version,) = registry.versions("SYN-CRC-001", actor="ann")
    assert version.source == "M\\xfcller.json"


def test_export_onto_the_registry_file_is_refused(url: str, tmp_path: Path) -> None:
    """`db export --out` given the registry's own file replaced the database with its export
    ("database disk image is malformed" afterwards)."""
    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", COHORT, "--db", url])
    database = tmp_path / "cli.db"
    (tmp_path / "link.jsonl").symlink_to(database)
    for out in (database, tmp_path / "sub" / ".." / "cli.db", tmp_path / "link.jsonl"):
        result = runner.invoke(db_app, ["export", "--db", url, "--out", str(out)])
        _assert_clean_failure(result, "is this registry's database file")
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 200
        assert [e for e in registry.audit() if e.action.value == "export"] == []


def _store_a_version_that_no_longer_validates(db_url: str, tmp_path: Path) -> str:
    """Import the CRC example twice (versions 1 and 2), then change version 1's stored JSON in
    SQL into what this immunoprecise no longer reads: an age out of range, a field it lacks."""
    import sqlalchemy as sa

    from immunoprecise.registry.schema import RecordVersionRow

    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    changed = record.model_dump(mode="json")
    changed["patient"]["ecog"] = 2 if changed["patient"].get("ecog") != 2 else 1
    second = tmp_path / "crc_v2.json"
    second.write_text(json.dumps(changed), encoding="utf-8")
    runner.invoke(db_app, ["init", "--db", db_url])
    for path in (ip.data.example_path("crc_msih.json"), second):
        assert runner.invoke(db_app, ["import", str(path), "--db", db_url]).exit_code == 0
    old = record.model_dump(mode="json")
    old["patient"]["age"] = -5
    old["tumour_board_notes"] = "legacy field"
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.update(RecordVersionRow).where(RecordVersionRow.version == 1).values(record=old)
            )
    finally:
        engine.dispose()
    return record.patient_id


def test_history_shows_a_version_that_no_longer_validates_with_a_warning(
    db_url: str, tmp_path: Path
) -> None:
    pid = _store_a_version_that_no_longer_validates(db_url, tmp_path)
    table = runner.invoke(db_app, ["history", pid, "--db", db_url])
    as_json = runner.invoke(db_app, ["history", pid, "--db", db_url, "-f", "json"])
    assert table.exit_code == 0, table.output
    assert "Traceback" not in table.output
    assert "crc_msih.json" in table.stdout
    assert "crc_v2.json" in table.stdout
    assert f"warning: version 1 of {pid}'s record is shown as stored" in table.stderr
    assert "2 invalid field(s)" in table.stderr
    assert "patient.age = -5: " in table.stderr
    assert "tumour_board_notes" in table.stderr
    assert "version 2" not in table.stderr
    assert as_json.exit_code == 0, as_json.output
    versions = json.loads(as_json.stdout)
    assert [v["version"] for v in versions] == [1, 2]
    assert sorted(versions[0]["invalid_fields"]) == ["patient.age", "tumour_board_notes"]
    assert versions[1]["invalid_fields"] == versions[1]["problems"] == []


def test_too_many_steps_down_or_up_says_how_far_is_possible(url: str) -> None:
    """`db downgrade -- -9` passed on Alembic's "Relative revision -9 didn't produce 9
    migrations"; the message says where the database is and how far it can go."""
    runner.invoke(db_app, ["init", "--db", url])
    head = head_revision()
    steps = int(head)  # revisions are numbered 0001 … head
    down = runner.invoke(db_app, ["downgrade", "--db", url, "--yes", "--", "-99"])
    _assert_clean_failure(
        down,
        f"cannot migrate down 99 steps: the database is at schema revision {head}",
        f"{steps} steps from base",
        f"give -1 to -{steps}",
    )
    assert "didn't produce" not in down.output
    done = runner.invoke(db_app, ["downgrade", "--db", url, "--yes", "--", "-2"])
    assert done.exit_code == 0, done.output
    up = runner.invoke(db_app, ["upgrade", "--db", url, "--revision", "+5"])
    _assert_clean_failure(up, f"2 steps from head ({head})", "give +1 to +2")
    assert runner.invoke(db_app, ["upgrade", "--db", url, "--revision", "+2"]).exit_code == 0
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 0


def test_a_new_registry_file_is_private_and_a_shared_one_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The registry holds patient data: it was created with the umask's mode (often 644)."""
    path = tmp_path / "private.db"
    url = f"sqlite:///{path}"
    result = runner.invoke(db_app, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    assert runner.invoke(db_app, ["import", COHORT, "--db", url]).exit_code == 0
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 200
        for suffix in ("-wal", "-shm"):  # made by SQLite with the database file's mode
            assert path.with_name(path.name + suffix).stat().st_mode & 0o777 == 0o600
    assert path.stat().st_mode & 0o777 == 0o600
    caplog.set_level("WARNING", logger="immunoprecise.registry")
    assert not [r for r in caplog.records if "chmod 600" in r.getMessage()]
    path.chmod(0o644)
    for _ in range(2):
        assert runner.invoke(db_app, ["status", "--db", url]).exit_code == 0
    warned = [r.getMessage() for r in caplog.records if "chmod 600" in r.getMessage()]
    assert warned == [
        f"the registry database {path} holds patient data and may be read or changed by "
        f"others (mode 0644); make it private with: chmod 600 {path}"
    ]
    assert path.stat().st_mode & 0o777 == 0o644  # an existing file keeps its mode
