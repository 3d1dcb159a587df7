"""Streaming `aekit score` (chunks, bounded memory) and distributed scoring on a two-worker Dask cluster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.apps.detect import AutoencoderDetector, load_detector, save_detector
from aekit.errors import ConfigError, DataError
from aekit.export import export
from aekit.runtime import load_exported
from aekit.stream import score_parquet_dask, score_stream
from tests.conftest import NAMES, table_rows as _rows, run_cli



@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    det = AutoencoderDetector(model_params={"hidden": [8], "latent_dim": 2}, contamination=0.2, max_epochs=2).fit(_rows(80, 0))
    folder = tmp_path_factory.mktemp("stream") / "run"
    save_detector(det, folder)
    return folder


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    X = _rows(53, 7) * 1.5
    df = pd.DataFrame(X, columns=NAMES)
    df.insert(0, "key", [f"k{i}" for i in range(len(df))])
    df["label"] = np.arange(len(df)) % 2
    path = tmp_path_factory.mktemp("data") / "table.csv"
    df.to_csv(path, index=False)
    return path, X


def test_streamed_scores_equal_in_memory_scores(run: Path, table: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, X = table
    det = load_detector(run)
    n = score_stream(run, path, tmp_path / "s.parquet", id_column="key", chunk_rows=7)
    got = pd.read_parquet(tmp_path / "s.parquet")
    assert n == 53 and list(got.columns) == ["key", "score", "is_anomaly"]
    assert got["key"].tolist() == [f"k{i}" for i in range(53)]
    np.testing.assert_array_equal(got["score"].to_numpy(), det.anomaly_score(X))  # bit for bit
    np.testing.assert_array_equal(got["is_anomaly"].to_numpy() == 1, det.predict(X) == -1)
    # the exported file streams the same scores through onnxruntime
    onnx = export(run, tmp_path / "d.onnx")
    score_stream(onnx, path, tmp_path / "o.csv", id_column="key", chunk_rows=10)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "o.csv")["score"], det.anomaly_score(X), atol=1e-5)


def test_folder_of_parquet_and_csv_files_is_read_in_order(run: Path, tmp_path: Path) -> None:
    X = _rows(30, 9)
    folder = tmp_path / "in"
    folder.mkdir()
    pd.DataFrame(X[:10], columns=NAMES).to_parquet(folder / "a.parquet")
    pd.DataFrame(X[10:25], columns=NAMES).to_csv(folder / "b.csv", index=False)
    pd.DataFrame(X[25:], columns=NAMES).to_parquet(folder / "c.parquet")
    (folder / "notes.txt").write_text("ignored")
    assert score_stream(run, folder, tmp_path / "s.csv", chunk_rows=4) == 30
    got = pd.read_csv(tmp_path / "s.csv")
    assert list(got.columns) == ["row", "score", "is_anomaly"]  # no id column named: the global row number
    assert got["row"].tolist() == list(range(30))
    np.testing.assert_allclose(got["score"], load_detector(run).anomaly_score(X), rtol=1e-7)


def test_stream_refuses_bad_input_and_leaves_no_output(run: Path, table: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, X = table
    out = tmp_path / "s.csv"
    with pytest.raises(DataError, match="id column 'nope' not found"):
        score_stream(run, path, out, id_column="nope")
    bad = pd.DataFrame(X, columns=NAMES)
    bad.iloc[41, 2] = np.nan
    bad.to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(DataError, match="feature 'f2'.*row 41"):
        score_stream(run, tmp_path / "nan.csv", out, chunk_rows=8)
    assert not out.exists() and not list(tmp_path.glob(".s.csv*"))
    (tmp_path / "empty.csv").write_text(",".join(NAMES) + "\n")
    with pytest.raises(DataError, match="no rows to score"):
        score_stream(run, tmp_path / "empty.csv", out)
    assert not out.exists()
    out.write_text("keep")
    with pytest.raises(ConfigError, match="--overwrite"):
        score_stream(run, path, out)
    assert out.read_text() == "keep"
    with pytest.raises(Exception, match="7 feature columns, the model expects 6"):  # 'key' is no feature
        score_stream(run, path, out, overwrite=True)
    score_stream(run, path, out, id_column="key", overwrite=True)
    assert out.read_text().startswith("key,score,is_anomaly")


def test_cli_score_streams_with_an_id_column(run: Path, table: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, X = table
    out = tmp_path / "s.csv"
    res = run_cli("score", str(run), str(path), str(out), "--id-column", "key", "--chunk-rows", "5")
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(out)
    assert list(got.columns) == ["key", "score", "is_anomaly"] and len(got) == 53
    np.testing.assert_allclose(got["score"], load_detector(run).anomaly_score(X), rtol=1e-7)
    for args, message in (((str(run), str(path), str(out)), "exists"),
                          ((str(run), str(path), str(tmp_path / "n.csv"), "--id-column", "nope"), "id column 'nope'"),
                          ((str(run), str(path), str(tmp_path / "n.json")), ".csv or .parquet")):
        bad = run_cli("score", *args)
        assert bad.returncode == 2 and message in bad.stderr and len(bad.stderr.splitlines()) == 1, bad.stderr
    assert not (tmp_path / "n.csv").exists()


@pytest.mark.slow
def test_dask_scores_a_parquet_folder_on_two_workers(run: Path, tmp_path: Path) -> None:
    X = _rows(45, 11)
    folder, with_ids = tmp_path / "in", tmp_path / "in-ids"
    folder.mkdir()
    with_ids.mkdir()
    for i, (a, b) in enumerate(((0, 20), (20, 35), (35, 45))):
        df = pd.DataFrame(X[a:b], columns=NAMES)
        df.to_parquet(folder / f"part{i}.parquet")
        df.assign(id=np.arange(a, b) + 1000).to_parquet(with_ids / f"part{i}.parquet")
    onnx = export(run, tmp_path / "d.onnx")
    expected = load_exported(onnx).score(X)
    assert score_parquet_dask(onnx, folder, tmp_path / "out", n_workers=2) == 45
    got = pd.read_parquet(tmp_path / "out")
    assert got["row"].tolist() == list(range(45))
    np.testing.assert_allclose(got["score"].to_numpy(), expected, atol=1e-6)  # float32 sums differ by batch size
    # a run folder works too (exported in memory), with an id column kept
    assert score_parquet_dask(run, with_ids, tmp_path / "out", id_column="id", overwrite=True) == 45
    got = pd.read_parquet(tmp_path / "out")
    assert got["id"].tolist() == list(range(1000, 1045))
    np.testing.assert_allclose(got["score"].to_numpy(), expected, atol=1e-6)  # float32 sums differ by batch size
    with pytest.raises(ConfigError, match="exists"):
        score_parquet_dask(onnx, folder, tmp_path / "out")
    res = run_cli("score", str(onnx), str(folder), str(tmp_path / "cli-out"), "--workers", "2")
    assert res.returncode == 0 and "45 scores" in res.stdout, res.stderr
    np.testing.assert_allclose(pd.read_parquet(tmp_path / "cli-out")["score"].to_numpy(), expected, atol=1e-6)


def test_plain_run_streams_its_mean_reconstruction_error(tmp_path: Path) -> None:
    import torch

    from aekit.data.dataset import Scaler
    from aekit.registry import build_model
    from aekit.runs import load, save_model

    torch.manual_seed(0)
    X = _rows(25, 4)
    save_model(tmp_path / "run", build_model("mlp", {"input_shape": [6], "hidden": [8], "latent_dim": 2}),
               Scaler("standard").fit(X))
    pd.DataFrame(X, columns=NAMES).to_parquet(tmp_path / "x.parquet")
    assert score_stream(tmp_path / "run", tmp_path / "x.parquet", tmp_path / "s.parquet", chunk_rows=6) == 25
    got = pd.read_parquet(tmp_path / "s.parquet")
    np.testing.assert_allclose(got["score"], load(tmp_path / "run").score(X), rtol=1e-6)
    assert (got["is_anomaly"] == 0).all()  # a plain run has no threshold


def test_a_run_folder_is_served_through_its_in_memory_export(run: Path) -> None:
    from aekit.serve import load_for_serving

    X = _rows(9, 2)
    m = load_for_serving(run)
    assert m.kind == "detector"
    np.testing.assert_allclose(m.score(X), load_detector(run).anomaly_score(X), atol=1e-5)
