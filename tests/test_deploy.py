"""Putting models to work: ONNX export of the whole scoring path and the torch-free runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from aekit.apps.detect import AutoencoderDetector, load_detector, save_detector
from aekit.data.dataset import Scaler
from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError
from aekit.export import export, export_bytes
from aekit.registry import build_model, families
from aekit.runs import load, save_model
from aekit.runtime import load_exported
from tests.conftest import NAMES, table_rows as _rows, run_cli
from tests.test_families import TINY

FAST = dict(max_epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def detector_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    det = AutoencoderDetector(model_params={"hidden": [8], "latent_dim": 2}, contamination=0.2, **FAST).fit(_rows(80, 0))
    folder = tmp_path_factory.mktemp("det") / "run"
    save_detector(det, folder)
    return folder


@pytest.fixture(scope="module")
def detector_onnx(detector_run: Path) -> Path:
    return export(detector_run, detector_run.parent / "det.onnx", feature_names=NAMES)


# --- export parity -----------------------------------------------------------------------

def test_every_registered_family_is_covered() -> None:
    assert set(families()) <= set(TINY)


@pytest.mark.parametrize("family", sorted(TINY))
def test_plain_run_export_matches_torch(family: str, tmp_path: Path) -> None:
    params, shape = TINY[family]
    torch.manual_seed(0)
    model = build_model(family, {"input_shape": list(shape), **params})
    X = np.random.default_rng(1).random((12, *shape)).astype(np.float32)
    save_model(tmp_path / "run", model, Scaler("standard").fit(X))
    m = load_exported(export(tmp_path / "run", tmp_path / "m.onnx"))
    run = load(tmp_path / "run")
    out = m.predict(X)  # (N, C, H, W) rows are flattened by the runtime
    assert m.kind == "autoencoder" and m.family == family and "is_anomaly" not in out
    assert out["score"].dtype == np.float64 and out["score"].shape == (12,)
    assert np.abs(out["score"] - run.score(X)).max() <= 1e-5
    np.testing.assert_allclose(out["reconstruction"], run.reconstruct(X).reshape(12, -1), atol=1e-5)
    np.testing.assert_allclose(out["code"], run.encode(X), atol=1e-5)
    # the batch axis is dynamic: one row alone scores as in a batch
    assert abs(m.score(X[:1])[0] - out["score"][0]) <= 1e-6
    if family == "mlp":  # the same export from the loaded run object, and through aekit's lazy API
        import aekit

        again = aekit.load_exported(export(run, tmp_path / "again.onnx"))
        np.testing.assert_array_equal(again.score(X), out["score"])


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(reduction="max", standardize_errors=True),
    dict(reduction="sum", scaling="minmax"),
    dict(model="vae", model_params={"hidden": [8], "latent_dim": 2}),
    dict(model="conv", input_shape=(1, 8), model_params={"channels": [2, 4], "stride": [2], "latent_dim": 2}),
])
def test_detector_export_matches_detector(kwargs: dict, tmp_path: Path) -> None:
    params = {"model_params": {"hidden": [8], "latent_dim": 2}, **kwargs}
    if params.get("input_shape"):
        X, Xnew = np.random.default_rng(0).random((60, 8)), np.random.default_rng(5).random((40, 8))
    else:
        X, Xnew = _rows(60, 0), _rows(40, 5)
    Xnew[:20] *= 1.5  # half the new rows drawn wider than the training rows: some flagged, some not
    det = AutoencoderDetector(contamination=0.2, **FAST, **params).fit(X)
    save_detector(det, tmp_path / "run")
    det = load_detector(tmp_path / "run")
    m = load_exported(export(tmp_path / "run", tmp_path / "d.onnx"))
    out = m.predict(Xnew)
    assert m.kind == "detector" and m.threshold["value"] == pytest.approx(det.threshold_.value)
    assert np.abs(out["score"] - det.anomaly_score(Xnew)).max() <= 1e-5
    np.testing.assert_array_equal(out["is_anomaly"], det.predict(Xnew) == -1)
    assert 0 < out["is_anomaly"].sum() < len(Xnew)
    np.testing.assert_allclose(out["error_map"], det.error_map(Xnew).reshape(len(Xnew), -1), atol=1e-5)
    # the in-memory detector object exports the same graph
    m2 = load_exported(export_bytes(det))
    np.testing.assert_allclose(m2.score(Xnew), out["score"], atol=1e-7)


def test_metadata_describes_the_export(detector_onnx: Path) -> None:
    import onnx

    props = {p.key: p.value for p in onnx.load(detector_onnx).metadata_props}
    assert props["aekit.format"] == "aekit-onnx/1" and props["aekit.kind"] == "detector"
    assert props["aekit.family"] == "mlp" and json.loads(props["aekit.feature_names"]) == NAMES
    assert json.loads(props["aekit.input_schema"]) == {"name": "input", "shape": ["batch", 6], "dtype": "float32",
                                                      "example_shape": [6]}
    assert json.loads(props["aekit.threshold"])["method"] == "contamination"
    assert "aekit.version" in props
    m = load_exported(detector_onnx)
    assert m.outputs == ["score", "is_anomaly", "code", "reconstruction", "error_map"]


@pytest.mark.parametrize("family", ["vae", "conv_vae"])
@pytest.mark.parametrize("kind", ["elbo", "iwae"])
def test_variational_detector_scores_export_with_the_detector_draws(family: str, kind: str, tmp_path: Path) -> None:
    params = {"hidden": [8], "latent_dim": 2} if family == "vae" else {"channels": [2, 4], "latent_dim": 2}
    shape = None if family == "vae" else (1, 8)
    X = np.random.default_rng(0).random((50, 8))
    det = AutoencoderDetector(model=family, model_params=params, input_shape=shape, score_type=kind, n_samples=4,
                              contamination=0.2, random_state=3, **FAST).fit(X)
    save_detector(det, tmp_path / "run")
    m = load_exported(export(tmp_path / "run", tmp_path / "v.onnx"))
    Xnew = np.random.default_rng(1).random((30, 8)) * 1.3
    det = load_detector(tmp_path / "run")
    out = m.predict(Xnew)
    assert np.abs(out["score"] - det.anomaly_score(Xnew)).max() <= 1e-5
    np.testing.assert_array_equal(out["is_anomaly"], det.predict(Xnew) == -1)


@pytest.mark.parametrize("kwargs", [
    dict(stride=1, aggregation="mean", model="mlp", model_params={"hidden": [8], "latent_dim": 2}),
    dict(stride=5, aggregation="max", model="conv"),
])
def test_series_detector_exports_point_scores_for_any_length(kwargs: dict, tmp_path: Path) -> None:
    from aekit.apps.detect import SeriesDetector
    from aekit.stream import score_stream

    t = np.arange(300)
    x = np.stack([np.sin(t / 5), np.cos(t / 7)], axis=1)
    det = SeriesDetector(window=16, contamination=0.05, **FAST, **kwargs).fit(x)
    save_detector(det, tmp_path / "run")
    det = load_detector(tmp_path / "run")
    m = load_exported(export(tmp_path / "run", tmp_path / "s.onnx"))
    assert m.kind == "series" and m.series == {"window": 16, "stride": kwargs["stride"], "aggregation": kwargs["aggregation"]}
    assert m.outputs == ["score", "is_anomaly"] and m.n_features == 2
    for n_steps in (16, 37, 300):  # the time axis is dynamic; 37 leaves a final window off the stride
        xn = x[:n_steps] + 0.3 * np.random.default_rng(n_steps).standard_normal((n_steps, 2))
        out = m.predict(xn)
        assert out["score"].shape == (n_steps,)
        assert np.abs(out["score"] - det.anomaly_score(xn)).max() <= 1e-5
        np.testing.assert_array_equal(out["is_anomaly"], det.is_anomaly(xn))
    with pytest.raises(DataError, match="shorter than one window of 16"):
        m.score(x[:10])
    pd.DataFrame(x, columns=["a", "b"]).to_csv(tmp_path / "series.csv", index=False)
    with pytest.raises(ConfigError, match="whole series"):  # chunks would cut the series
        score_stream(tmp_path / "s.onnx", tmp_path / "series.csv", tmp_path / "o.csv")
    res = run_cli("score", str(tmp_path / "s.onnx"), str(tmp_path / "series.csv"), str(tmp_path / "o.csv"))
    assert res.returncode == 0, res.stderr  # scored whole, in memory
    np.testing.assert_allclose(pd.read_csv(tmp_path / "o.csv")["score"], det.anomaly_score(x), rtol=1e-6, atol=1e-7)
    res = run_cli("score", str(tmp_path / "run"), str(tmp_path / "series.csv"), str(tmp_path / "r.csv"))
    assert res.returncode == 0, res.stderr  # a series run folder, too
    np.testing.assert_allclose(pd.read_csv(tmp_path / "r.csv")["score"], det.anomaly_score(x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(load_exported(export_bytes(det)).score(x), m.score(x))  # the fitted object exports


# --- runtime -------------------------------------------------------------------------------

def test_runtime_matches_names_and_refuses_bad_input(detector_onnx: Path, detector_run: Path) -> None:
    m = load_exported(detector_onnx)
    X = _rows(10, 3)
    df = pd.DataFrame(X, columns=NAMES)
    expected = load_detector(detector_run).anomaly_score(X)
    np.testing.assert_allclose(m.score(df[NAMES[::-1]]), expected, atol=1e-5)  # columns matched by name
    np.testing.assert_allclose(m.score(df.assign(id=1), ignore=["id"]), expected, atol=1e-5)
    assert m.score(X[0]).shape == (1,)  # a 1-d array is one row
    with pytest.raises(ShapeError, match="5 features"):
        m.score(X[:, :5])
    with pytest.raises(DataError, match="unknown feature 'zzz'"):
        m.score(df.assign(zzz=1.0))
    with pytest.raises(DataError, match="missing feature 'f5'"):
        m.score(df.drop(columns=["f5"]))
    bad = X.copy()
    bad[2, 4] = np.nan
    with pytest.raises(DataError, match="feature 'f4'.*row 2"):
        m.score(bad)
    with pytest.raises(DataError, match="feature 'f1'.*not numeric"):
        m.score(df.assign(f1="x"))


def test_runtime_refuses_truncated_and_foreign_files(detector_onnx: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(detector_onnx.read_bytes()[:500])
    with pytest.raises(ModelFileError, match="not a readable ONNX model"):
        load_exported(cut)
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    foreign = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), foreign)
    with pytest.raises(ModelFileError, match="not an aekit export"):
        load_exported(foreign)
    with pytest.raises(ModelFileError, match="not found"):
        load_exported(tmp_path / "none.onnx")


def test_runtime_imports_and_scores_without_torch(detector_onnx: Path) -> None:
    X = _rows(5, 3)
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['lightning'] = None; sys.modules['sklearn'] = None\n"
        "import numpy as np, json\n"
        "from aekit.runtime import load_exported\n"
        f"m = load_exported({str(detector_onnx)!r})\n"
        f"s = m.score(np.array({X.tolist()!r}, dtype=np.float32))\n"
        "heavy = sorted(k for k in sys.modules if k.split('.')[0] in ('torch', 'lightning', 'sklearn', 'pandas', 'onnx') and sys.modules[k] is not None)\n"
        "print(json.dumps({'scores': s.tolist(), 'heavy': heavy}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["heavy"] == []
    np.testing.assert_allclose(got["scores"], load_exported(detector_onnx).score(X), atol=0)


def _installed_closure(dist: str, extras: tuple[str, ...]) -> set[str]:
    """Every distribution that installing ``dist[extras]`` pulls in, from installed metadata (normalised names)."""
    import re
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [(dist, extras)]
    while todo:
        name, wanted = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            lines = requires(name) or []
        except PackageNotFoundError:
            continue
        for line in lines:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (*wanted, "")):
                todo.append((req.name, tuple(req.extras)))
    return seen


def test_runtime_extra_installs_neither_torch_nor_lightning() -> None:
    runtime = _installed_closure("aekit", ("runtime",))
    assert {"onnxruntime", "numpy"} <= runtime
    assert not runtime & {"torch", "lightning", "pytorch-lightning", "torchmetrics"}
    assert {"torch", "lightning"} <= _installed_closure("aekit", ("torch",))  # the walk does see them when asked


# A finder that makes torch and Lightning look uninstalled: importing them fails like a missing module.
NO_TORCH = """import importlib.machinery, sys
class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'lightning'):
            return importlib.machinery.ModuleSpec(name, self)
    def create_module(self, spec):
        raise ModuleNotFoundError(f'No module named {spec.name!r}', name=spec.name)
    def exec_module(self, module):
        pass
sys.meta_path.insert(0, _Missing())
from aekit.cli.main import main
main(sys.argv[1:])
"""


def test_cli_without_torch_scores_exports_and_names_the_extra_for_runs(detector_run: Path, detector_onnx: Path,
                                                                      tmp_path: Path) -> None:
    pd.DataFrame(_rows(12, 4), columns=NAMES).to_csv(tmp_path / "x.csv", index=False)
    script = tmp_path / "no_torch.py"
    script.write_text(NO_TORCH)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120,
                              env=os.environ.copy())

    ok = cli("score", str(detector_onnx), str(tmp_path / "x.csv"), str(tmp_path / "s.csv"), "--quiet")
    assert ok.returncode == 0, ok.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 12
    for args in (("score", str(detector_run), str(tmp_path / "x.csv"), str(tmp_path / "t.csv")),
                 ("train", "--data", str(tmp_path / "x.csv"), "-e", "1")):
        res = cli(*args)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert res.stderr.strip().count("\n") == 0 and "aekit[torch]" in res.stderr, res.stderr
    assert not (tmp_path / "t.csv").exists()


# --- CLI -----------------------------------------------------------------------------------

def test_cli_export_writes_refuses_and_overwrites(detector_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    res = run_cli("export", str(detector_run), str(out), "--feature-names", ",".join(NAMES))
    assert res.returncode == 0, res.stderr
    assert "detector (mlp), 6 inputs" in res.stdout and load_exported(out).feature_names == NAMES
    before = out.read_bytes()
    again = run_cli("export", str(detector_run), str(out))
    assert again.returncode == 2 and "--overwrite" in again.stderr and len(again.stderr.splitlines()) == 1
    assert out.read_bytes() == before
    assert run_cli("export", str(detector_run), str(out), "--overwrite").returncode == 0
    for args, message in (((str(tmp_path), str(tmp_path / "a.onnx")), "missing model.json"),
                          ((str(detector_run), str(tmp_path / "a.txt")), ".onnx"),
                          ((str(detector_run), str(tmp_path / "b.onnx"), "--feature-names", "a,b"), "feature names")):
        bad = run_cli("export", *args)
        assert bad.returncode == 2 and message in bad.stderr and len(bad.stderr.splitlines()) == 1, bad.stderr
    assert not (tmp_path / "a.onnx").exists() and not (tmp_path / "b.onnx").exists()


def test_detect_export_score_end_to_end(table_csv: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert run_cli("detect", str(table_csv), "--out", str(run), "-e", "2").returncode == 0
    res = run_cli("export", str(run), str(tmp_path / "m.onnx"))
    assert res.returncode == 0, res.stderr
    m = load_exported(tmp_path / "m.onnx")
    assert m.feature_names == NAMES  # recorded by `aekit detect` from the table's header
    res = run_cli("score", str(tmp_path / "m.onnx"), str(table_csv), str(tmp_path / "s.parquet"), "--quiet")
    assert res.returncode == 0, res.stderr
    detected = pd.read_csv(run / "scores.csv")
    got = pd.read_parquet(tmp_path / "s.parquet")
    np.testing.assert_allclose(got["score"], detected["score"], rtol=1e-5, atol=1e-6)
    assert (got["is_anomaly"] == detected["is_anomaly"]).all()


def test_a_trained_image_run_exports_and_scores_flat_or_shaped_rows(tiny_images: np.ndarray, tmp_path: Path) -> None:
    np.save(tmp_path / "imgs.npy", tiny_images)
    res = run_cli("train", "--data", str(tmp_path / "imgs.npy"), "--model", "conv", "--latent-dim", "4",
                  "--epochs", "1", "--out", str(tmp_path / "run"), "--no-progress")
    assert res.returncode == 0, res.stderr
    res = run_cli("export", str(tmp_path / "run"), str(tmp_path / "c.onnx"))
    assert res.returncode == 0, res.stderr
    m, run = load_exported(tmp_path / "c.onnx"), load(tmp_path / "run")
    assert m.kind == "autoencoder" and m.example_shape == (1, 8, 8) and m.n_features == 64
    np.testing.assert_allclose(m.score(tiny_images), run.score(tiny_images), atol=1e-5)
    np.testing.assert_allclose(m.score(tiny_images.reshape(64, -1)), run.score(tiny_images), atol=1e-5)
    np.testing.assert_allclose(m.reconstruct(tiny_images).reshape(tiny_images.shape), run.reconstruct(tiny_images), atol=1e-5)
