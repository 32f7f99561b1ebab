"""`immunoprecise simulate`: real runs, the files written, `--list`, and exit code 2 on errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from immunoprecise.cli import app

runner = CliRunner()
CAR_T = ["cartmath2021", "--regimen", "CAR-T 1e6 cells d42", "--t-end", "100"]


def _simulate(*args: str) -> Result:
    return runner.invoke(app, ["simulate", *args])


def _fails(result: Result, *messages: str) -> str:
    """Exit code 2, each message on stderr, and no traceback; returns stderr."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    for message in messages:
        assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


def test_car_t_run_writes_csv_json_and_png_and_the_tumor_goes_to_zero(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _simulate(*CAR_T, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "summary.json",
        "trajectories.csv",
        "trajectories.png",
    ]
    frame = pd.read_csv(out / "trajectories.csv")
    assert frame.columns.tolist() == ["patient", "t", "C_T", "C_M", "T"]
    assert len(frame) == 101
    assert frame["t"].tolist() == [float(d) for d in range(101)]
    assert frame["T"].iloc[0] == 2e6
    assert frame["T"].iloc[-1] == 0.0  # eradicated
    assert frame.loc[frame["t"] == 42, "C_T"].item() == pytest.approx(1e6)  # the infusion
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["model"]["id"] == "cartmath2021"
    assert summary["regimen"]["text"] == "CAR-T 1e6 cells d42"
    assert summary["t_end_days"] == 100
    assert summary["dose_days"] == {"CAR-T": [42.0]}
    (patient,) = summary["patients"]
    assert patient["patient"] == "1"
    assert patient["tumor_start_cells"] == 2e6
    assert patient["tumor_end_cells"] == 0.0
    assert 45 < patient["eradication_day"] < 50
    assert patient["best_response"] == "CR"
    assert patient["time_to_progression_days"] is None
    assert summary["response"]["assessment_days"] == [0.0, 56.0]
    assert (out / "trajectories.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # the summary table on stdout, the files listed on stderr
    assert "CR" in result.stdout
    assert "48.73" in result.stdout
    assert "trajectories.png" in result.stderr


def test_csv_alone_goes_to_stdout_and_the_table_to_stderr() -> None:
    result = _simulate(*CAR_T, "--format", "csv")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert frame.columns.tolist() == ["patient", "t", "C_T", "C_M", "T"]
    assert "RECIST 1.1 at scans on days 0, 56" in result.stderr
    assert "CR" in result.stderr


def test_doses_after_t_end_are_named_not_silently_left_out() -> None:
    result = _simulate(
        "cartmath2021", "--regimen", "CAR-T 1e6 cells q21d x6", "--t-end", "50", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dose_days"] == {"CAR-T": [0.0, 21.0, 42.0]}
    assert (
        "warning: 3 doses start after day 50 and are not simulated (CAR-T on days 63, 84, "
        "105); lengthen --t-end to include them" in result.stderr
    )
    within = _simulate(*CAR_T, "--format", "json")
    assert "not simulated" not in within.stderr


def test_html_report_has_the_figure_and_the_table(tmp_path: Path) -> None:
    result = _simulate(*CAR_T, "--out", str(tmp_path), "-f", "html")
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["trajectories.html"]
    html = (tmp_path / "trajectories.html").read_text(encoding="utf-8")
    assert "<svg" in html
    assert "<td>CR</td>" in html
    assert "cartmath2021: CAR-T 1e6 cells d42" in html


def test_patients_file_params_and_initial_states(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("patient,gamma,T\nA,3e-6,1e6\nB,,3e6\nC,5e-6,\n", encoding="utf-8")
    out = tmp_path / "out"
    result = _simulate(
        *CAR_T, "--patients", str(cohort), "--param", "r=0.06", "--out", str(out), "-f", "json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {p["patient"]: p for p in summary["patients"]}
    assert list(rows) == ["A", "B", "C"]
    assert rows["A"]["tumor_start_cells"] == 1e6
    assert rows["B"]["tumor_start_cells"] == 3e6
    assert rows["C"]["tumor_start_cells"] == 2e6  # empty cell: the model's initial state
    assert summary["params"] == {"r": 0.06}
    assert all(p["best_response"] == "CR" for p in rows.values())
    # a stronger kill (gamma) eradicates sooner
    assert rows["C"]["eradication_day"] < rows["A"]["eradication_day"]
    for patient in ("A", "B", "C"):
        assert patient in result.stdout


def test_param_initial_parameter_set_method_and_regimen_file(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: two infusions\nitems:\n  - {agent: CAR-T, dose: 1e6 cells, days: [10, 40]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = _simulate(
        "cartmath2021",
        "--regimen-file",
        str(plan),
        "--t-end",
        "60",
        "--parameter-set",
        "RAJI",
        "--param",
        "gamma=4e-8",
        "--initial",
        "T=5e5",
        "--method",
        "rodas4",
        "--out",
        str(out),
        "-f",
        "json",
        "-f",
        "csv",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["regimen"]["name"] == "two infusions"
    assert summary["dose_days"] == {"CAR-T": [10.0, 40.0]}
    assert summary["parameter_set"] == "RAJI"
    assert summary["settings"]["method"] == "rodas4"
    assert summary["initial"] == {"T": 5e5}
    assert summary["patients"][0]["tumor_start_cells"] == 5e5
    frame = pd.read_csv(out / "trajectories.csv")
    assert frame["t"].iloc[-1] == 60


def test_model_without_tumor_summarises_the_effectors() -> None:
    result = _simulate("stein2019", "--regimen", "CAR-T 1e8 cells d0", "--t-end", "60")
    assert result.exit_code == 0, result.output
    assert "E peak" in result.stdout
    assert "copies/µg" in result.stdout


def test_list_shows_models_states_parameter_sets_and_dosing_inputs() -> None:
    result = _simulate("--list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for model in ("kuznetsov1994", "depillis2005", "depillis2006", "cartmath2021", "stein2019"):
        assert model in out
    assert "C_T (cells) [effector]: effector CAR-T cells" in out
    assert "M (mg/L): chemotherapy drug concentration in blood" in out
    assert "RAJI: RAJI B-cell lymphoma, CAR-T19" in out
    assert "IL-2 → I, in IU/L; aliases: IL2, aldesleukin, interleukin-2" in out
    assert "tisagenlecleucel" in out
    assert "+checkpoint" in out


def test_list_of_one_model_shows_its_parameters() -> None:
    result = _simulate("kuznetsov1994+checkpoint", "--list")
    assert result.exit_code == 0, result.output
    assert "A (mg): anti-PD-1/PD-L1 antibody in the body" in result.stdout
    assert "t_half_A = 22 d: antibody elimination half-life" in result.stdout
    assert "anti-PD-1 → A, in mg" in result.stdout


def test_help_has_examples() -> None:
    result = _simulate("--help")
    assert result.exit_code == 0
    assert "immunoprecise simulate --list" in result.output
    assert "--regimen-file" in result.output


# --- errors -----------------------------------------------------------------------------------


def test_unknown_model_exits_2() -> None:
    assert _fails(
        _simulate("nomodel"), "error: unknown model 'nomodel'", "known models: kuznetsov1994"
    )
    assert _fails(_simulate("cartmath2021+foo"), "unknown model modification 'foo'")


def test_bad_regimen_text_exits_2_with_the_caret() -> None:
    result = _simulate("cartmath2021", "--regimen", "CAR-T 1e6 celz d42")
    assert _fails(result, "item 1, column 11: unknown unit 'celz'")
    lines = result.stderr.splitlines()
    (shown,) = [i for i, line in enumerate(lines) if line.strip() == "CAR-T 1e6 celz d42"]
    assert lines[shown + 1].strip() == "^^^^"
    assert lines[shown + 1].index("^") == lines[shown].index("celz")


def test_agent_the_model_cannot_take_exits_2() -> None:
    assert _fails(
        _simulate("cartmath2021", "--regimen", "chemo 1 mg/kg d0"),
        "cannot take agent 'chemo'",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "gamma"], "--param 'gamma': write NAME=VALUE with a number"),
        (["--param", "=1"], "--param '=1': write NAME=VALUE"),
        (["--param", "gamma=abc"], "'abc' is not a number"),
        (["--param", "gamma=nan"], "must be a finite number"),
        (["--param", "gamma=1", "--param", "gamma=2"], "--param gamma is given twice"),
        (["--initial", "T"], "--initial 'T': write NAME=VALUE"),
        (["--param", "gama=1e-6"], "has no parameter 'gama'; parameters: phi"),
        (["--initial", "X=1"], "has no state 'X'; states: C_T, C_M, T"),
        (["--parameter-set", "FOO"], "no parameter set 'FOO'; known: HDLM2, RAJI"),
        (["--t-end", "-5"], "--t-end must be a positive number of days"),
    ],
)
def test_bad_values_exit_2(args: list[str], message: str) -> None:
    assert _fails(_simulate("cartmath2021", *args), message)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("- CAR-T 1e6 cells d42\n", encoding="utf-8")
    assert _fails(_simulate(), "give a MODEL")
    assert _fails(
        _simulate("cartmath2021", "--regimen", "CAR-T 1e6 cells d1", "--regimen-file", str(plan)),
        "not both",
    )
    assert _fails(_simulate("cartmath2021", "-f", "png"), "--format png needs --out DIR")
    assert _fails(_simulate("cartmath2021", "-f", "csv", "-f", "json"), "only one of")


def test_bad_regimen_file_exits_2(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("items:\n  - {agent: CAR-T, dose: 1e6 cells, every_days: 7}\n", "utf-8")
    assert _fails(_simulate("cartmath2021", "--regimen-file", str(plan)), "items[0]")


def test_bad_patients_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("patient,foo,gamma\nA,1,x\nA,2,3e-6\n", encoding="utf-8")
    assert _fails(
        _simulate("cartmath2021", "--patients", str(bad)),
        "column foo: is neither a parameter nor a state of cartmath2021",
        "column patient: ids repeat: A",
        "row 1 (A) column gamma = 'x': must be a finite number",
    )
    twice = tmp_path / "twice.csv"
    twice.write_text("gamma\n3e-6\n", encoding="utf-8")
    assert _fails(
        _simulate("cartmath2021", "--patients", str(twice), "--param", "gamma=1e-6"),
        "column gamma: is also given on the command line",
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("patient,gamma\n", encoding="utf-8")
    assert _fails(_simulate("cartmath2021", "--patients", str(empty)), "has no rows")
    repeated = tmp_path / "repeated.csv"  # pandas would read the second gamma as "gamma.1"
    repeated.write_text("patient,gamma,gamma\nA,1e-6,2e-6\n", encoding="utf-8")
    assert _fails(
        _simulate("cartmath2021", "--patients", str(repeated)),
        "column gamma: is written more than once; keep one",
    )
