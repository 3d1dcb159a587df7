"""``aekit serve``: a real server on a free loopback port, real HTTP requests, then SIGTERM."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.apps.detect import AutoencoderDetector, save_detector
from aekit.export import export
from aekit.runtime import load_exported
from tests.conftest import NAMES, table_rows as _rows, AEKIT



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    det = AutoencoderDetector(model_params={"hidden": [8], "latent_dim": 2}, contamination=0.2, max_epochs=2).fit(_rows(80, 0))
    folder = tmp_path_factory.mktemp("serve")
    save_detector(det, folder / "run")
    return export(folder / "run", folder / "det.onnx", feature_names=NAMES)


@pytest.fixture(scope="module")
def server(onnx_file: Path):
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*AEKIT, "serve", str(onnx_file), "--port", str(port), "--max-body-mb", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    from aekit.serve import wait_until_ready

    base = f"http://127.0.0.1:{port}"
    if not wait_until_ready(base, timeout=30, alive=lambda: proc.poll() is None) and proc.poll() is not None:
        pytest.fail(f"server exited: {proc.stderr.read()}")
    yield base, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_server_scores_like_the_export_and_refuses_bad_requests(server, onnx_file: Path) -> None:
    import httpx

    base, proc = server
    m = load_exported(onnx_file)
    X = _rows(7, 3)
    expected = m.predict(X)
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    meta = httpx.get(f"{base}/v1/metadata").json()
    assert meta["kind"] == "detector" and meta["feature_names"] == NAMES and meta["n_features"] == 6
    schema = httpx.get(f"{base}/openapi.json").json()
    assert {"/v1/score", "/v1/encode", "/v1/reconstruct", "/health", "/v1/metadata"} <= set(schema["paths"])
    assert "rows" in json.dumps(schema["paths"]["/v1/score"])  # the request schema is documented
    r = httpx.post(f"{base}/v1/score", json={"rows": X.tolist()})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["score"], expected["score"], rtol=1e-12)
    assert r.json()["is_anomaly"] == expected["is_anomaly"].tolist()
    objects = [dict(zip(NAMES[::-1], row[::-1])) for row in X.tolist()]  # keyed by name, any order
    np.testing.assert_allclose(httpx.post(f"{base}/v1/score", json={"rows": objects}).json()["score"], expected["score"])
    np.testing.assert_allclose(httpx.post(f"{base}/v1/encode", json={"rows": X.tolist()}).json()["code"], expected["code"])
    rec = httpx.post(f"{base}/v1/reconstruct", json={"rows": X.tolist()}).json()
    np.testing.assert_allclose(rec["reconstruction"], expected["reconstruction"], rtol=1e-6)
    # uploads: CSV, Parquet, NPY
    csv = pd.DataFrame(X, columns=NAMES).to_csv(index=False).encode()
    pq = io.BytesIO()
    pd.DataFrame(X, columns=NAMES).to_parquet(pq)
    npy = io.BytesIO()
    np.save(npy, X)
    for name, data in (("x.csv", csv), ("x.parquet", pq.getvalue()), ("x.npy", npy.getvalue())):
        r = httpx.post(f"{base}/v1/score", files={"file": (name, data)})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(r.json()["score"], expected["score"], rtol=1e-6)
    # bad requests: one-line JSON errors naming the field
    bad = [
        ({"rows": [[1.0] * 5]}, 422, "5 features"),
        ({"rows": [[1.0, "x", 1, 1, 1, 1]]}, 422, "rows.0.1"),
        ({"rows": [dict(zip(NAMES, [1.0] * 6), zzz=1.0)]}, 422, "unknown feature 'zzz'"),
        ({"rows": []}, 422, "rows"),
        ({"rows": [dict(zip(NAMES, [1.0] * 6), f2="x")]}, 422, "rows.0.f2: Input should be a valid number"),
    ]
    for body, status, message in bad:
        r = httpx.post(f"{base}/v1/score", json=body)
        assert r.status_code == status and message in r.json()["error"], (body, r.text)
        assert "\n" not in r.json()["error"]
    r = httpx.post(f"{base}/v1/score", content=b'{"rows": [[1, NaN, 1, 1, 1, 1]]}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "NaN" in r.json()["error"] and "f1" in r.json()["error"], r.text
    r = httpx.post(f"{base}/v1/score", json={"rows": X.tolist() * 200})  # ~60 kB > 0.05 MB limit
    assert r.status_code == 413 and "limit" in r.json()["error"]
    chunked = (json.dumps({"rows": X.tolist() * 200}).encode()[i : i + 4096] for i in range(0, 70_000, 4096))
    r = httpx.post(f"{base}/v1/score", content=chunked, headers={"content-type": "application/json"})  # no length
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = httpx.post(f"{base}/v1/score", content=b"1,2,3", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = httpx.post(f"{base}/v1/score", files={"file": ("x.bin", b"abc")})
    assert r.status_code == 422 and ".bin" in r.json()["error"]


def test_concurrent_requests_are_answered_each_with_its_own_rows(server, onnx_file: Path) -> None:
    import httpx

    base, _ = server
    m = load_exported(onnx_file)
    batches = [_rows(1 + i % 5, 100 + i) for i in range(40)]

    async def go() -> list[list[float]]:
        async with httpx.AsyncClient(base_url=base) as client:
            rs = await asyncio.gather(*(client.post("/v1/score", json={"rows": b.tolist()}) for b in batches))
        return [r.json()["score"] for r in rs]

    for got, b in zip(asyncio.run(go()), batches):
        np.testing.assert_allclose(got, m.score(b), rtol=1e-6)


def test_sigterm_stops_the_server_cleanly(server) -> None:
    _, proc = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "Traceback" not in proc.stderr.read()


def test_several_worker_processes_share_the_port_and_stop_together(onnx_file: Path) -> None:
    import httpx
    import psutil

    from aekit.serve import wait_until_ready

    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*AEKIT, "serve", str(onnx_file), "--port", str(port), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_ready(base, timeout=60, alive=lambda: proc.poll() is None), proc.stderr.read()
        workers = [c for c in psutil.Process(proc.pid).children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]
        assert len(workers) == 2
        m = load_exported(onnx_file)
        batches = [_rows(1 + i % 4, 300 + i) for i in range(30)]

        async def go() -> list[list[float]]:
            limits = httpx.Limits(max_keepalive_connections=0)  # a new connection each: both workers get some
            async with httpx.AsyncClient(base_url=base, limits=limits) as client:
                rs = await asyncio.gather(*(client.post("/v1/score", json={"rows": b.tolist()}) for b in batches))
            return [r.json()["score"] for r in rs]

        for got, b in zip(asyncio.run(go()), batches):
            np.testing.assert_allclose(got, m.score(b), rtol=1e-6)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_refuses_a_bad_model_file(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"not onnx")
    res = run_cli("serve", str(bad), "--port", str(_free_port()))
    assert res.returncode == 2 and "not a readable ONNX model" in res.stderr and len(res.stderr.splitlines()) == 1


def test_workers_that_cannot_start_end_the_server_with_an_error(onnx_file: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from aekit import serve
    from aekit.errors import ConfigError

    real = serve.load_for_serving
    # the parent's check passes; the workers then load the real (missing) source and fail
    monkeypatch.setattr(serve, "load_for_serving", lambda source, threads=None: real(onnx_file, threads))
    monkeypatch.delenv(serve.WORKER_SPEC, raising=False)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(ConfigError, match="worker processes failed to start"):
        serve.run_server(tmp_path / "gone.onnx", serve.ServeConfig(port=_free_port(), workers=2))
    assert signal.getsignal(signal.SIGINT) is before  # the supervisor's signal handlers are handed back


def test_serve_refuses_a_bad_worker_count(onnx_file: Path) -> None:
    from tests.conftest import run_cli

    res = run_cli("serve", str(onnx_file), "--port", str(_free_port()), "--workers", "0")
    assert res.returncode == 2 and res.stderr.strip() == "aekit: error: workers must be >= 1, got 0", res.stderr


@pytest.mark.parametrize("wait_s", [0.05, 0.0])
def test_micro_batcher_groups_concurrent_requests_into_one_pass(wait_s: float) -> None:
    from aekit.serve import MicroBatcher

    calls: list[int] = []

    class Model:
        def run_prepared(self, x: np.ndarray) -> dict[str, np.ndarray]:
            calls.append(len(x))
            return {"score": x.sum(axis=1)}

    async def go() -> list[np.ndarray]:
        b = MicroBatcher(Model(), wait_s=wait_s, max_rows=1000)  # 0: no wait, what is queued goes together
        await b.start()
        try:
            outs = await asyncio.gather(*(b.submit(np.full((i + 1, 2), float(i), np.float32)) for i in range(10)))
        finally:
            await b.stop()
        return [o["score"] for o in outs]

    got = asyncio.run(go())
    assert calls == [55]  # ten requests of 1..10 rows, one pass
    for i, s in enumerate(got):
        np.testing.assert_array_equal(s, np.full(i + 1, 2.0 * i))


def test_a_series_export_scores_each_request_as_one_series(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from aekit.apps.detect import SeriesDetector
    from aekit.serve import create_app

    t = np.arange(200)
    x = np.stack([np.sin(t / 5), np.cos(t / 7)], axis=1)
    det = SeriesDetector(window=16, model="mlp", model_params={"hidden": [8], "latent_dim": 2}, max_epochs=2).fit(x)
    save_detector(det, tmp_path / "run")
    m = load_exported(export(tmp_path / "run", tmp_path / "s.onnx"))
    with TestClient(create_app(m)) as client:
        r = client.post("/v1/score", json={"rows": x.tolist()})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(r.json()["score"], m.score(x))
        assert client.get("/v1/metadata").json()["series"]["window"] == 16
        r = client.post("/v1/score", json={"rows": x[:5].tolist()})
        assert r.status_code == 422 and "shorter than one window" in r.json()["error"]
        r = client.post("/v1/encode", json={"rows": x.tolist()})
        assert r.status_code == 404 and "no encode output" in r.json()["error"]


@pytest.mark.parametrize("kind", ["table", "numbers"])
def test_an_upload_with_the_runs_label_and_id_columns_scores_as_aekit_score(kind: str, tmp_path: Path) -> None:
    """The training file, its label column and its --id-column included, uploaded: both are left out as
    `aekit score` leaves them out (a mixed-type table run and a run of plain numbers alike); the Python API
    takes the features only and says so in one line."""
    import aekit
    from fastapi.testclient import TestClient

    from aekit.errors import DataError
    from aekit.serve import create_app, load_for_serving
    from tests.conftest import run_cli

    rng = np.random.default_rng(5)
    n = 40
    df = pd.DataFrame({"key": [f"k{i:03d}" for i in range(n)], "x": rng.normal(size=n).round(3),
                       "y2": rng.normal(size=n).round(3), "label": [0] * (n - 3) + [1] * 3})
    if kind == "table":
        df["city"] = rng.choice(["a", "b", "c"], n)
    df.to_csv(tmp_path / "t.csv", index=False)
    run = tmp_path / "run"
    res = run_cli("detect", str(tmp_path / "t.csv"), "--id-column", "key", "-o", str(run), "-q", "--epochs", "1",
                  "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    res = run_cli("score", str(run), str(tmp_path / "t.csv"), "-o", str(tmp_path / "s.csv"), "-q")
    assert res.returncode == 0, res.stderr
    expected = pd.read_csv(tmp_path / "s.csv")["score"].to_numpy()
    with TestClient(create_app(load_for_serving(run))) as client:
        r = client.post("/v1/score", files={"file": ("t.csv", (tmp_path / "t.csv").read_bytes())})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["score"], expected, rtol=1e-5, atol=1e-6)  # onnxruntime float32 vs torch
    if kind == "table":
        with pytest.raises(DataError, match="unknown column 'key'.*drop it"):
            aekit.load(run).anomaly_score(pd.read_csv(tmp_path / "t.csv"))
