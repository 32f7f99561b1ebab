"""A chunk kept as files and a chunk kept as one blob are written and read by the same code.

A blob whose constraint rejections are not a mapping of constraint → count (a list, or a
count that is not a number) was read into an AttributeError or ValueError traceback, where a
chunk file of the same content was refused naming the chunk; both now say it is not a saved
chunk.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from immunoprecise.dynamics.trials.design import TrialArm, TrialDesign
from immunoprecise.dynamics.trials.outcomes import ChunkOutput
from immunoprecise.dynamics.trials.store import ChunkStore, chunk_bytes, chunk_from_bytes
from immunoprecise.errors import ValidationError

OUT = ChunkOutput(
    index=0,
    outcomes=pd.DataFrame({"patient": [0, 1], "best_change_percent": [-35.5, 12.0]}),
    population=pd.DataFrame({"patient": [0, 1], "r": [0.1, 0.2]}),
    trajectories=pd.DataFrame({"patient": [0], "t": [7.0]}),
    rejected={"size": 3},
)


def _blob(rejected: str) -> bytes:
    data = io.BytesIO(chunk_bytes(OUT))
    out = io.BytesIO()
    with zipfile.ZipFile(data) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = rejected.encode() if name == "rejected.json" else src.read(name)
            dst.writestr(name, body)
    return out.getvalue()


def test_a_chunk_reads_back_the_same_from_a_folder_and_from_a_blob(tmp_path: Path) -> None:
    design = TrialDesign(
        name="t",
        model="kuznetsov1994",
        seed=3,
        n_per_arm=10,
        follow_up_days=60,
        arms=(TrialArm(id="none", regimen=""),),
    )
    store = ChunkStore(tmp_path, design)
    store.write(OUT)
    from_files, from_blob = store.read(0), chunk_from_bytes(0, chunk_bytes(OUT))
    for back in (from_files, from_blob):
        for part in ("outcomes", "population", "trajectories"):
            pd.testing.assert_frame_equal(getattr(back, part), getattr(OUT, part))
        assert back.rejected == {"size": 3}
    assert (tmp_path / "chunks" / "chunk-000000.parquet").read_bytes().startswith(b"PAR1")


@pytest.mark.parametrize("rejected", ["[1, 2]", '{"size": "many"}', '{"size": null}', "3"])
def test_a_blob_with_unreadable_rejections_is_not_a_saved_chunk(rejected: str) -> None:
    with pytest.raises(ValidationError, match="not a saved chunk") as err:
        chunk_from_bytes(5, _blob(rejected))
    assert err.value.problems[0].field == "chunk 5"


def test_a_chunk_file_with_unreadable_rejections_names_the_chunk(tmp_path: Path) -> None:
    design = TrialDesign(
        name="t",
        model="kuznetsov1994",
        seed=3,
        n_per_arm=10,
        follow_up_days=60,
        arms=(TrialArm(id="none", regimen=""),),
    )
    store = ChunkStore(tmp_path, design)
    store.write(OUT)
    (tmp_path / "chunks" / "chunk-000000.json").write_text(json.dumps([1]), encoding="utf-8")
    with pytest.raises(ValidationError, match="chunk 0 cannot be read"):
        store.read(0)
