"""Coverage-guided fuzzing of the input parsers with atheris (libFuzzer), for a fixed time each.

Targets, each fed the fuzzer's bytes through the same entry point a user's file takes:

- ``patients``: a JSON/YAML patient document, read by :func:`immunoprecise.read_patients`;
- ``cohort``: a CSV cohort table, read by :func:`immunoprecise.read_cohort`;
- ``fhir``: a FHIR R4 Bundle (JSON), imported by :func:`immunoprecise.records.read_fhir_bundles`;
- ``expression``: a TSV expression matrix, read by :func:`read_expression` (units detected);
- ``regimen``: regimen text, parsed by :meth:`immunoprecise.dynamics.Regimen.parse`;
- ``trial``: a virtual-trial design (YAML), read by :func:`load_trial_design`.

Each starts from the bundled examples as its seed corpus. The only accepted failure is the
package's own :class:`~immunoprecise.errors.ImmunopreciseError` (a named refusal); any other
exception is a crash, which libFuzzer saves as ``crash-*`` in the output folder and this script
reports. Only ``immunoprecise`` is instrumented for coverage. Not run in CI (a time budget,
not a test); the property-based tests in ``tests/records/test_adversarial_input.py`` are.

Needs ``pip install atheris`` (the ``fuzz`` extra).

Run: .venv/bin/python benchmarks/fuzz_parsers.py [seconds_per_target] [target ...]
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

TARGETS = ("patients", "cohort", "fhir", "expression", "regimen", "trial")
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "immunoprecise" / "data" / "examples"


def _seeds(target: str, folder: Path) -> None:
    """Write the seed corpus of ``target`` into ``folder``."""
    import immunoprecise as ip
    from immunoprecise.records import record_to_fhir

    folder.mkdir(parents=True, exist_ok=True)
    seeds: list[bytes] = []
    if target == "patients":
        seeds = [p.read_bytes() for p in EXAMPLES.glob("*.json")]
    elif target == "cohort":
        lines = (EXAMPLES / "fl_cohort.csv").read_text(encoding="utf-8").splitlines()
        seeds = ["\n".join(lines[:6]).encode(), "\n".join(lines[:2]).encode()]
    elif target == "fhir":
        for path in EXAMPLES.glob("*.json"):
            bundle = record_to_fhir(ip.read_patient(path))
            seeds.append(json.dumps(bundle).encode())
    elif target == "expression":
        lines = (EXAMPLES / "expression_examples.tsv").read_text(encoding="utf-8").splitlines()
        seeds = ["\n".join(lines[:40]).encode(), "\n".join(lines[:5]).encode()]
    elif target == "regimen":
        seeds = [
            b"chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12",
            b"anti-PD-1 200 mg q21d x8",
            b"rituximab 375 mg/m2 qw x4; zoledronate 4 mg d1; IL-2 1e6 IU/d d1-5 q28d x6",
        ]
    elif target == "trial":
        seeds = [(EXAMPLES / "fl_gammadelta_trial.yaml").read_bytes()]
    for k, seed in enumerate(seeds):
        (folder / f"seed{k}").write_bytes(seed)


def _fuzz(target: str) -> None:
    """The fuzzing process of one target (runs until libFuzzer's time budget ends)."""
    import atheris

    with atheris.instrument_imports(include=["immunoprecise"]):
        import yaml

        import immunoprecise as ip
        from immunoprecise.dynamics import Regimen
        from immunoprecise.dynamics.trials import load_trial_design
        from immunoprecise.errors import ImmunopreciseError
        from immunoprecise.profile.expression import read_expression
        from immunoprecise.records import read_fhir_bundles

    scratch = Path(tempfile.mkdtemp(prefix="ip-fuzz-", dir="/dev/shm" if os.path.isdir(
        "/dev/shm") else None))  # fmt: skip

    def through_file(suffix: str, data: bytes) -> Path:
        path = scratch / f"input{suffix}"
        path.write_bytes(data)
        return path

    def one(data: bytes) -> None:
        try:
            if target == "patients":
                suffix = ".json" if data[:1] in (b"{", b"[") else ".yaml"
                ip.read_patients(through_file(suffix, data))
            elif target == "cohort":
                ip.read_cohort(through_file(".csv", data))
            elif target == "fhir":
                try:
                    doc = json.loads(data)
                except (ValueError, RecursionError):
                    return  # not JSON: refused before the importer (the file reader says so)
                read_fhir_bundles(doc if isinstance(doc, dict) else {"resourceType": doc})
            elif target == "expression":
                read_expression(through_file(".tsv", data))
            elif target == "regimen":
                Regimen.parse(data.decode("utf-8", "replace"))
            elif target == "trial":
                try:
                    doc = yaml.safe_load(data)
                except (yaml.YAMLError, ValueError, RecursionError):
                    return  # not YAML: refused before the design reader
                load_trial_design(doc if isinstance(doc, dict) else {"name": doc})
        except ImmunopreciseError:
            pass  # a named refusal: what bad input should get

    atheris.Setup(sys.argv[:1] + sys.argv[3:], one)
    atheris.Fuzz()


def _run(target: str, seconds: int, out: Path) -> dict[str, object]:
    corpus = out / target / "corpus"
    _seeds(target, corpus)
    (out / target).mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        __file__,
        "--child",
        target,
        f"-max_total_time={seconds}",
        "-rss_limit_mb=4096",
        "-timeout=20",
        f"-artifact_prefix={out / target}/",
        "-print_final_stats=1",
        str(corpus),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300)
    log = done.stdout + done.stderr
    (out / target / "fuzz.log").write_text(log, encoding="utf-8")
    runs = re.findall(r"stat::number_of_executed_units:\s+(\d+)", log)
    cov = re.findall(r"cov: (\d+)", log)
    crashes = sorted(p.name for p in (out / target).glob("crash-*"))
    crashes += sorted(p.name for p in (out / target).glob("timeout-*"))
    crashes += sorted(p.name for p in (out / target).glob("oom-*"))
    return {
        "target": target,
        "seconds": seconds,
        "executions": int(runs[-1]) if runs else 0,
        "coverage": int(cov[-1]) if cov else 0,
        "crashes": crashes,
        "exit": done.returncode,
        "log": out / target / "fuzz.log",
    }


def main(seconds: int = 60, targets: tuple[str, ...] = TARGETS) -> None:
    """Fuzz each target for ``seconds``; print executions, coverage and crashes."""
    out = Path(tempfile.mkdtemp(prefix="ip-fuzz-out-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {seconds} s per target; artifacts in {out}")  # fmt: skip
    print("| target | executions | exec/s | coverage (edges) | crashes |")
    print("|---|---|---|---|---|")
    total = 0
    for target in targets:
        r = _run(target, seconds, out)
        found = r["crashes"]
        assert isinstance(found, list)
        total += len(found)
        executions = int(str(r["executions"]))
        print(f"| {target} | {executions:,} | {executions / seconds:,.0f} | {r['coverage']} | "
              f"{len(found)}{' ' + ', '.join(found) if found else ''} |", flush=True)  # fmt: skip
        if found:
            print(f"  see {r['log']}")
    print(f"crashes: {total} (target 0)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _fuzz(sys.argv[2])
    else:
        args = sys.argv[1:]
        main(int(args[0]) if args else 60, tuple(args[1:]) or TARGETS)
