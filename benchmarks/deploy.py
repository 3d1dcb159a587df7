"""Deployment figures: export parity, runtime cold start and throughput, server, streaming, Dask.

One run prints, measured on this machine:

- export parity: max |ONNX - torch| score over ``--rows`` rows for every registered family;
- cold start (new process -> first score): ``aekit.runtime`` on the .onnx vs loading the run with torch;
- rows/s scoring a ``--table-rows`` x 20 table: onnxruntime vs the torch detector;
- ``aekit serve --workers``: ``--clients`` concurrent clients on loopback sending single-row,
  then 1,000-row requests (wrk, or aiohttp where wrk is missing): requests/s, p50/p99
  latency, errors, the server's CPU per request;
- streaming ``aekit score`` of a generated CSV of ``--csv-mb`` MB: rows/s and peak resident memory;
- Dask (local cluster of 2 workers) vs one process on a folder of Parquet files.

    PYTHONPATH=src .venv/bin/python benchmarks/deploy.py [--rows 10000] [--table-rows 1000000] [--csv-mb 5000]

The defaults are small enough to finish in a few minutes on 2 cores; the issue's sizes are
``--table-rows 1000000 --csv-mb 5000 --clients 200``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
N_FEATURES = 20


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def make_detector(tmp: Path, rows: int = 5000) -> tuple[Path, Path]:
    from aekit.apps.detect import AutoencoderDetector, save_detector
    from aekit.export import export

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, N_FEATURES)).astype(np.float32)
    det = AutoencoderDetector(model_params={"hidden": [64], "latent_dim": 8}, max_epochs=3, batch_size=256).fit(X)
    save_detector(det, tmp / "run")
    return tmp / "run", export(tmp / "run", tmp / "det.onnx", feature_names=[f"f{i}" for i in range(N_FEATURES)])


def parity(tmp: Path, rows: int) -> None:
    import torch

    from aekit.data.dataset import Scaler
    from aekit.errors import ConfigError
    from aekit.export import export
    from aekit.registry import build_model, families
    from aekit.runs import load, save_model
    from aekit.runtime import load_exported

    sys.path.insert(0, str(ROOT))
    from tests.test_families import TINY  # one tiny config per family, kept complete by the test suite

    print(f"\n== export parity: max |ONNX - torch| over {rows} rows (target <= 1e-5 on scores)")
    print(f"{'family':20s} {'score':>10s} {'reconstruction':>15s} {'code':>10s}")
    for fam in sorted(families()):
        params, shape = TINY[fam]
        torch.manual_seed(0)
        model = build_model(fam, {"input_shape": list(shape), **params})
        X = np.random.default_rng(1).random((rows, *shape)).astype(np.float32)
        save_model(tmp / fam, model, Scaler("standard").fit(X))
        try:
            m = load_exported(export(tmp / fam, tmp / f"{fam}.onnx", overwrite=True))
        except ConfigError as err:
            print(f"{fam:20s} refused: {err}")
            continue
        run, out = load(tmp / fam), m.predict(X)
        ds = np.abs(out["score"] - run.score(X)).max()
        dr = np.abs(out["reconstruction"] - run.reconstruct(X).reshape(rows, -1)).max()
        dc = np.abs(out["code"] - run.encode(X)).max()
        print(f"{fam:20s} {ds:10.2e} {dr:15.2e} {dc:10.2e}")


COLD_ONNX = """
import time, numpy as np
t = time.perf_counter()
from aekit.runtime import load_exported
m = load_exported({onnx!r})
m.score(np.zeros((1, {n}), np.float32))
print(time.perf_counter() - t)
"""
COLD_TORCH = """
import time, numpy as np
t = time.perf_counter()
from aekit.apps.detect import load_detector
d = load_detector({run!r})
d.anomaly_score(np.zeros((1, {n}), np.float32))
print(time.perf_counter() - t)
"""


def cold_start(run: Path, onnx: Path, repeats: int = 3) -> None:
    print("\n== cold start: new process -> first score (median of 3; in-process time / whole process)")
    for name, code in (("onnx runtime", COLD_ONNX.format(onnx=str(onnx), n=N_FEATURES)),
                       ("torch load", COLD_TORCH.format(run=str(run), n=N_FEATURES))):
        inner, whole = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
            whole.append(time.perf_counter() - t)
            inner.append(float(res.stdout.strip().splitlines()[-1]))
        print(f"{name:14s} {np.median(inner):7.3f} s / {np.median(whole):7.3f} s")


def throughput(run: Path, onnx: Path, rows: int) -> None:
    from aekit.apps.detect import load_detector
    from aekit.runtime import load_exported

    X = np.random.default_rng(2).standard_normal((rows, N_FEATURES)).astype(np.float32)
    m, det = load_exported(onnx), load_detector(run)
    print(f"\n== scoring throughput, {rows} x {N_FEATURES} table in memory")
    for name, fn in (("onnx runtime", m.score), ("torch detector", det.anomaly_score)):
        fn(X[:1000])
        t = time.perf_counter()
        fn(X)
        dt = time.perf_counter() - t
        print(f"{name:14s} {rows / dt:12,.0f} rows/s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(rows: int) -> bytes:
    X = np.random.default_rng(3).standard_normal((rows, N_FEATURES)).astype(np.float32).tolist()
    return json.dumps({"rows": X}).encode()


async def _load(base: str, clients: int, requests: int, rows: int) -> tuple[float, np.ndarray, int]:
    """``clients`` concurrent connections sending ``requests`` POSTs of ``rows`` rows in all.

    aiohttp drives the load: httpx's async client costs several times more CPU per request,
    which on a 2-core machine shared with the server would measure the client.
    """
    import aiohttp

    body = _body(rows)
    latencies: list[float] = []
    errors = 0
    left = requests

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal left, errors
        while left > 0:
            left -= 1
            t = time.perf_counter()
            try:
                async with session.post("/v1/score", data=body, headers={"content-type": "application/json"}) as r:
                    await r.read()
                    errors += r.status != 200
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - t)

    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base, connector=conn, timeout=aiohttp.ClientTimeout(total=120)) as session:
        left = clients  # warm-up: every client opens its keep-alive connection before the clock starts
        await asyncio.gather(*(client(session) for _ in range(clients)))
        latencies.clear()
        left = requests
        t = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - t
    return wall, np.asarray(latencies), errors


# wrk (C, one thread) as the load generator: a few microseconds of CPU per request, so on a
# small machine the figures are the server's rather than the client's. wrk runs for a fixed
# time (it cannot stop at a count) and prints its own latency percentiles (microseconds).
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%.1f %%.1f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk(base: str, clients: int, seconds: float, rows: int, cpus: set[int] | None) -> tuple[float, float, float, int, int]:
    """wall s, p50 s, p99 s, answered, errors for ``clients`` connections sending for ``seconds``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % {"body": _body(rows).decode()})
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", f.name, f"{base}/v1/score"],
                             capture_output=True, text=True, check=True, preexec_fn=_pin(cpus)).stdout
    finally:
        os.unlink(f.name)
    n, duration_us, errors, p50, p99 = next(line for line in out.splitlines() if line.startswith("WRK ")).split()[1:]
    return int(duration_us) / 1e6, float(p50) / 1e6, float(p99) / 1e6, int(n), int(errors)


def _pin(cpus: set[int] | None):  # noqa: ANN202 - a preexec_fn
    return None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))


def _cpus(text: str | None) -> set[int] | None:
    """``"0,1"`` or ``"2-5"`` -> a CPU set (``None``: no pinning)."""
    if not text:
        return None
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` and its children (worker processes)."""
    import psutil

    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(t.user + t.system for t in (p.cpu_times() for p in procs))


def server(onnx: Path, clients: list[int], requests: int, workers: int, load: str,
           server_cpus: set[int] | None, client_cpus: set[int] | None, seconds: float = 5.0) -> None:
    """Single-row and 1,000-row request rates and latencies at each concurrency in ``clients``.

    With ``c`` clients each waiting for its answer before sending again, Little's law ties
    the mean latency to the rate: latency = c / (requests/s). A p99 target at a given
    concurrency is therefore a throughput target; the sweep shows both the latency of a lone
    request (the server's own cost) and where queueing takes over. aiohttp sends ``requests``
    requests (a tenth of them for 1,000 rows); wrk sends for ``seconds`` (twice that for 1,000
    rows) and the count is what it got answered. The server's own CPU time
    per request (its processes, from the OS) separates its cost from the load generator's.
    ``server_cpus``/``client_cpus`` pin either side to CPUs (to emulate a small machine on a
    big one, or keep the load generator off the server's cores).
    """
    from aekit.serve import wait_until_ready

    port = _free_port()
    cmd = [sys.executable, "-m", "aekit.cli.main", "serve", str(onnx), "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
                            preexec_fn=_pin(server_cpus))
    if load == "aiohttp" and client_cpus is not None:
        os.sched_setaffinity(0, client_cpus)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_ready(base, timeout=60, alive=lambda: proc.poll() is None):
            raise SystemExit(f"server did not start: {proc.stderr.read() if proc.poll() is not None else 'timeout'}")
        where = (f"server on CPUs {sorted(server_cpus) if server_cpus else 'all'}, "
                 f"{load} on CPUs {sorted(client_cpus) if client_cpus else 'all'} of {os.cpu_count()}")
        print(f"\n== aekit serve --workers {workers} on loopback ({where})")
        for c in clients:
            for rows, n in ((1, requests), (1000, max(20, requests // 10))):
                if rows > 1 and c != max(clients):
                    continue  # big requests only at the highest concurrency
                cpu = _cpu_seconds(proc.pid)
                if load == "wrk":
                    _wrk(base, c, 1, rows, client_cpus)  # warm-up: every connection opened and used
                    cpu = _cpu_seconds(proc.pid)
                    wall, p50, p99, n, errors = _wrk(base, c, seconds if rows == 1 else 2 * seconds, rows, client_cpus)
                else:
                    wall, lat, errors = asyncio.run(_load(base, c, n, rows))
                    p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
                cpu = _cpu_seconds(proc.pid) - cpu  # aiohttp: includes the warm-up requests, c more than n
                rate = n / wall
                print(f"{c:4d} clients, {rows:5d}-row requests: {n} in {wall:.2f} s = {rate:8.1f} req/s "
                      f"({n * rows / wall:,.0f} rows/s), p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, errors {errors}; "
                      f"Little's law mean {1000 * c / rate:.1f} ms; server CPU {1000 * cpu / n:.2f} ms/request")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def write_csv(path: Path, mb: float, distinct: int = 8, block: int = 100_000) -> int:
    """A CSV of about ``mb`` MB: an id column and 20 float features.

    ``distinct`` blocks of ``block`` rows are rendered once and written in turn (ids repeat
    every ``distinct * block`` rows), so a multi-GB file is written at disk speed; scoring
    work per row is the same as for unique rows.
    """
    import pandas as pd

    rng = np.random.default_rng(4)
    texts = []
    for b in range(distinct):
        df = pd.DataFrame(rng.standard_normal((block, N_FEATURES)).astype(np.float32),
                          columns=[f"f{i}" for i in range(N_FEATURES)])
        df.insert(0, "id", np.arange(b * block, (b + 1) * block))
        texts.append(df.to_csv(header=False, index=False, float_format="%.6g").encode())
    header = ("id," + ",".join(f"f{i}" for i in range(N_FEATURES)) + "\n").encode()
    rows = 0
    with open(path, "wb") as f:
        f.write(header)
        while f.tell() < mb * 1e6:
            f.write(texts[(rows // block) % distinct])
            rows += block
    return rows


STREAM = """
import sys, time
from aekit.cli.main import main
t = time.perf_counter()
try:
    main({args!r})
except SystemExit as e:
    assert not e.code, e.code
# VmHWM: this process's peak resident memory (ru_maxrss would carry the parent's over exec)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(time.perf_counter() - t, hwm / 1024)
"""


def streaming(run: Path, onnx: Path, tmp: Path, mb: float, models: list[str]) -> None:
    csv = tmp / "big.csv"
    rows = write_csv(csv, mb)
    print(f"\n== streaming aekit score of a {csv.stat().st_size / 1e6:,.0f} MB CSV ({rows:,} rows), 65,536-row chunks")
    for name, model in (("torch run", run), ("onnx file", onnx)):
        if name.split()[0] not in models:
            continue
        out = tmp / f"scores-{name[:4]}.parquet"
        args = ["score", str(model), str(csv), str(out), "--id-column", "id", "--quiet", "--overwrite"]
        res = subprocess.run([sys.executable, "-c", STREAM.format(args=args)], capture_output=True, text=True,
                             env=_env(), check=True)
        secs, peak = map(float, res.stdout.strip().splitlines()[-1].split())
        print(f"{name:10s} {rows / secs:12,.0f} rows/s, peak resident memory {peak:,.0f} MB")


def dask_vs_one(onnx: Path, tmp: Path, rows: int) -> None:
    import pandas as pd

    from aekit.stream import score_parquet_dask, score_stream

    folder = tmp / "parts"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(8):
        pd.DataFrame(rng.standard_normal((rows // 8, N_FEATURES)).astype(np.float32),
                     columns=[f"f{j}" for j in range(N_FEATURES)]).to_parquet(folder / f"p{i}.parquet")
    print(f"\n== {rows:,} rows in 8 Parquet files: Dask local cluster (2 workers) vs one process (onnx runtime)")
    t = time.perf_counter()
    score_stream(onnx, folder, tmp / "one.parquet")
    one = time.perf_counter() - t
    t = time.perf_counter()
    score_parquet_dask(onnx, folder, tmp / "dask-out", n_workers=2)
    dask = time.perf_counter() - t
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40) as cluster:
        score_parquet_dask(onnx, folder, tmp / "dask-warm", scheduler=cluster.scheduler_address)  # workers warm
        t = time.perf_counter()
        score_parquet_dask(onnx, folder, tmp / "dask-warm", scheduler=cluster.scheduler_address, overwrite=True)
        warm = time.perf_counter() - t
    print(f"one process        {rows / one:12,.0f} rows/s ({one:.2f} s)")
    print(f"dask, 2 workers    {rows / dask:12,.0f} rows/s ({dask:.2f} s, including cluster start-up)")
    print(f"dask, warm cluster {rows / warm:12,.0f} rows/s ({warm:.2f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000, help="rows for the export parity check")
    ap.add_argument("--table-rows", type=int, default=200_000, help="rows of the in-memory throughput table")
    ap.add_argument("--csv-mb", type=float, default=50.0, help="size of the generated CSV for streaming")
    ap.add_argument("--clients", default="1,10,50,200", help="concurrent clients, comma-separated (a sweep)")
    ap.add_argument("--requests", type=int, default=2000, help="single-row requests (1,000-row ones: a tenth)")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="aekit serve --workers (default: one per core)")
    ap.add_argument("--load", choices=["wrk", "aiohttp"], default="wrk" if shutil.which("wrk") else "aiohttp",
                    help="load generator (default wrk when installed: scripts/setup.sh installs it)")
    ap.add_argument("--seconds", type=float, default=5.0, help="wrk: seconds of load per concurrency level")
    ap.add_argument("--server-cpus", default=None, help="pin the server to these CPUs, e.g. 0,1 (default: no pinning)")
    ap.add_argument("--client-cpus", default=None, help="pin the load generator to these CPUs, e.g. 2-5")
    ap.add_argument("--dask-rows", type=int, default=400_000)
    ap.add_argument("--stream-models", default="torch,onnx", help="which models stream the CSV: torch, onnx or both")
    ap.add_argument("--parts", default="parity,cold,throughput,server,stream,dask", help="sections to run")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        parts = args.parts.split(",")
        if "parity" in parts:
            parity(tmp / "parity", args.rows)
        run, onnx = make_detector(tmp)
        if "cold" in parts:
            cold_start(run, onnx)
        if "throughput" in parts:
            throughput(run, onnx, args.table_rows)
        if "server" in parts:
            server(onnx, [int(c) for c in args.clients.split(",")], args.requests, args.workers, args.load,
                   _cpus(args.server_cpus), _cpus(args.client_cpus), args.seconds)
        if "stream" in parts:
            streaming(run, onnx, tmp, args.csv_mb, args.stream_models.split(","))
        if "dask" in parts:
            dask_vs_one(onnx, tmp, args.dask_rows)


if __name__ == "__main__":
    main()
