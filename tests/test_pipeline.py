"""Runs end to end: train -> run folder -> load; resume; DDP; CLI; bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError

from conftest import AEKIT, run_cli

TINY = {
    "model": {"family": "mlp", "hidden": [32], "latent_dim": 8},
    "data": {"source": "digits", "limit": 400},
    "trainer": {"max_epochs": 3, "batch_size": 64},
    "report": False,
}


def _cfg(tmp_path: Path, **over) -> dict:
    cfg = json.loads(json.dumps(TINY))
    cfg["out_dir"] = str(tmp_path)
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    return cfg


def test_train_writes_a_complete_run_folder_and_load_is_bit_exact(tmp_path):
    run = aekit.train(_cfg(tmp_path, name="r1"))
    files = {p.name for p in run.path.iterdir()}
    assert {"config.yaml", "model.safetensors", "model.json", "metrics.json", "logs", "checkpoints", "figures"} <= files
    assert (run.path / "figures" / "loss_curves.png").stat().st_size > 0
    assert (run.path / "figures" / "reconstructions.png").stat().st_size > 0
    assert (run.path / "checkpoints" / "last.ckpt").exists() and (run.path / "checkpoints" / "best.ckpt").exists()
    assert (run.path / "logs" / "metrics.csv").exists()
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert set(metrics["test"]) >= {"loss", "recon"} and len(metrics["history"]) == 3
    assert metrics["splits"] == {"train": 288, "val": 72, "test": 40}
    meta = json.loads((run.path / "model.json").read_text())
    assert meta["family"] == "mlp" and meta["preprocessing"]["kind"] == "minmax"

    X = aekit.load_dataset("digits").X[:25]
    again = aekit.load(run.path)
    assert np.array_equal(run.reconstruct(X), again.reconstruct(X))
    assert np.array_equal(run.encode(X), again.encode(X))
    assert run.encode(X).shape == (25, 8) and again.reconstruct(X).shape == X.shape
    # flat rows of the right length are accepted; the wrong width is a clear error
    assert np.array_equal(again.encode(X.reshape(25, -1)), again.encode(X))
    with pytest.raises(ShapeError, match="expects"):
        again.encode(np.zeros((3, 10)))


def test_training_is_deterministic_on_cpu(tmp_path):
    a = aekit.train(_cfg(tmp_path, name="a"))
    b = aekit.train(_cfg(tmp_path, name="b"))
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_loss_falls_over_training(tmp_path):
    run = aekit.train(_cfg(tmp_path, name="fall", trainer={"max_epochs": 10, "batch_size": 32}, optim={"lr": 3e-3}))
    hist = run.metrics["history"]
    assert hist[-1]["train/loss"] < 0.7 * hist[0]["train/loss"]
    assert hist[-1]["val/loss"] < hist[0]["val/loss"]


def test_early_stopping_and_schedules(tmp_path):
    run = aekit.train(_cfg(tmp_path, name="es", trainer={"max_epochs": 50, "patience": 1, "min_delta": 10.0},
                           optim={"name": "adamw", "schedule": "cosine"}))
    assert run.metrics["epochs"] == 2  # no improvement of 10.0 is ever possible


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'max_epoch' in config.trainer.*max_epochs"):
        aekit.train(_cfg(tmp_path, trainer={"max_epoch": 3}))
    with pytest.raises(ConfigError, match="unknown model family"):
        aekit.train(_cfg(tmp_path, model={"family": "nope"}))
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot parse YAML"):
        aekit.train(bad)
    with pytest.raises(ConfigError, match="bce"):
        aekit.train(_cfg(tmp_path, model={"loss": "bce"}, data={"scaling": "standard"}))
    assert list(tmp_path.iterdir()) == [bad]  # nothing half-written


def test_yaml_exponent_floats_are_numbers_and_words_are_refused(tmp_path):
    from aekit.pipeline import parse_config

    good = tmp_path / "good.yaml"
    good.write_text("model: {family: mlp, latent_dim: 4}\ndata: {source: digits}\noptim: {lr: 1e-4}\n")
    assert parse_config(good).optim.lr == pytest.approx(1e-4)  # YAML 1.1 reads 1e-4 as a string
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {family: mlp}\ndata: {source: digits}\noptim: {lr: fast}\n")
    with pytest.raises(ConfigError, match="config.optim.lr: expected a number"):
        parse_config(bad)


def test_nan_and_empty_data_leave_nothing_behind(tmp_path):
    data = tmp_path / "d.npy"
    arr = np.random.default_rng(0).random((50, 4)).astype(np.float32)
    arr[3, 1] = np.nan
    np.save(data, arr)
    out = tmp_path / "runs"
    with pytest.raises(DataError, match="NaN"):
        aekit.train({"data": {"source": str(data)}, "out_dir": str(out)})
    np.save(data, np.zeros((0, 4), np.float32))
    with pytest.raises(DataError, match="empty"):
        aekit.train({"data": {"source": str(data)}, "out_dir": str(out)})
    assert not out.exists()


def test_truncated_or_tampered_weights_are_refused(tmp_path):
    run = aekit.train(_cfg(tmp_path, name="w"))
    weights = run.path / "model.safetensors"
    blob = weights.read_bytes()
    weights.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelFileError, match="checksum"):
        aekit.load(run.path)
    tampered = bytearray(blob)
    tampered[-5] ^= 0xFF
    weights.write_bytes(bytes(tampered))
    with pytest.raises(ModelFileError, match="checksum"):
        aekit.load(run.path)
    with pytest.raises(ModelFileError, match="not found"):
        aekit.load(tmp_path / "missing")


def test_resume_after_interruption_finishes_the_run(tmp_path):
    """Kill a training process after its first checkpoint, then resume it to the end."""
    cmd = [*AEKIT, "train", "--data", "digits", "--epochs", "40", "--hidden", "64", "--latent-dim", "8",
           "--batch-size", "16", "--out", str(tmp_path / "r"), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"})
    last = tmp_path / "r" / "checkpoints" / "last.ckpt"
    deadline = time.time() + 120
    while not last.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert last.exists(), proc.stderr.read().decode()[-2000:]
    assert not (tmp_path / "r" / "model.safetensors").exists()  # interrupted before the end
    done = torch.load(last, weights_only=False)["epoch"]
    assert done < 39
    res = run_cli("train", "--resume", str(tmp_path / "r"), "--no-progress")
    assert res.returncode == 0, res.stderr
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["epochs"] == 40 and [int(h["epoch"]) for h in metrics["history"]] == list(range(1, 41))


@pytest.mark.slow
def test_ddp_with_two_cpu_processes_trains_and_saves_one_model(tmp_path):
    res = run_cli("train", "--data", "digits", "--epochs", "2", "--strategy", "ddp", "--devices", "2",
                  "--accelerator", "cpu", "--out", str(tmp_path / "ddp"), "--no-progress", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["ddp"]
    run = aekit.load(tmp_path / "ddp")
    assert run.metrics["epochs"] == 2 and run.encode(aekit.load_dataset("digits").X[:4]).shape[0] == 4


def test_cli_end_to_end(tmp_path):
    res = run_cli("train", "--data", "digits", "--epochs", "2", "--latent-dim", "4", "--hidden", "32",
                  "--set", "data.limit=300", "--set", "model.activation=elu", "--noise", "gaussian:sigma=0.1",
                  "--out", str(tmp_path / "cli"), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "run:" in res.stdout and "test:" in res.stdout
    run_dir = tmp_path / "cli"
    np.save(tmp_path / "x.npy", aekit.load_dataset("digits").X[:7])
    for cmd, out in (("encode", "z.npy"), ("reconstruct", "r.npz"), ("encode", "z.csv")):
        r = run_cli(cmd, str(run_dir), str(tmp_path / "x.npy"), str(tmp_path / out))
        assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "z.npy").shape == (7, 4)
    assert np.load(tmp_path / "r.npz")["X"].shape == (7, 1, 8, 8)
    assert np.loadtxt(tmp_path / "z.csv", delimiter=",", skiprows=1).shape == (7, 4)  # a header row: z0..z3
    r = run_cli("evaluate", str(run_dir))
    assert r.returncode == 0 and "recon" in r.stdout
    r = run_cli("models")
    assert r.returncode == 0 and "mlp" in r.stdout
    r = run_cli("summary", str(run_dir))
    assert r.returncode == 0 and "Total params" in r.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--model", "mlpp"], "unknown model family 'mlpp'"),
        (["train", "--bogus"], "No such option"),
        (["train", "--data", "no/such/file.csv"], "data file not found"),
        (["train", "--set", "trainer.max_epoch=2"], "unknown key 'max_epoch'"),
        (["encode", "no/such/run", "x.npy", "z.npy"], "run folder not found"),
        (["train", "--lr", "-0.1"], "optim.lr must be > 0"),
        (["train", "--accelerator", "tpuu"], "trainer.accelerator must be one of"),
        (["train", "--devices", "two"], "trainer.devices must be a number"),
        (["train", "--precision", "8-bit"], "trainer.precision must be one of"),
        (["train", "--strategy", "warp", "--set", "data.limit=200"], "rejected by Lightning"),
        (["train", "--resume", "nowhere"], "cannot resume"),
    ],
)
def test_cli_bad_input_is_one_line_and_nonzero(args, message, tmp_path):
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_cli_wrong_width_and_unparsable_input(tmp_path):
    run = aekit.train(_cfg(tmp_path, name="w"))
    np.save(tmp_path / "wide.npy", np.zeros((3, 10), np.float32))
    (tmp_path / "junk.csv").write_bytes(b"\x00\x01\x02garbage,\n\"")
    for inp, msg in (("wide.npy", "expects"), ("junk.csv", "cannot parse")):
        r = run_cli("encode", str(run.path), str(tmp_path / inp), str(tmp_path / "out.npy"))
        assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "out.npy").exists()


def test_failed_or_clashing_runs_leave_no_folder_and_never_overwrite(tmp_path):
    with pytest.raises(ConfigError, match="rejected by Lightning"):
        aekit.train(_cfg(tmp_path, name="bad", trainer={"strategy": "warp"}))
    assert not (tmp_path / "bad").exists()
    first = aekit.train(_cfg(tmp_path, name="done"))
    before = (first.path / "model.safetensors").read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        aekit.train(_cfg(tmp_path, name="done", trainer={"seed": 1}))
    assert (first.path / "model.safetensors").read_bytes() == before
    # relative data paths are stored absolute, so the run works from any folder
    np.save(tmp_path / "d.npy", np.random.default_rng(0).random((60, 5)).astype(np.float32))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        run = aekit.train(_cfg(tmp_path, name="rel", data={"source": "d.npy", "limit": None}))
    finally:
        os.chdir(cwd)
    assert Path(run.config["data"]["source"]).is_absolute()


def test_mismatched_model_json_and_unwritable_outputs_are_clear(tmp_path):
    run = aekit.train(_cfg(tmp_path, name="m"))
    meta_path = run.path / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["config"]["latent_dim"] = 5  # no longer fits the stored weights
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="do not fit"):
        aekit.load(run.path)
    r = run_cli("encode", str(run.path), "digits", str(tmp_path / "z.npy"))
    assert r.returncode == 2 and "do not fit" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    meta_path.write_text(json.dumps({**meta, "config": {**meta["config"], "latent_dim": 8}}))
    (tmp_path / "adir").mkdir()
    r = run_cli("encode", str(run.path), "digits", str(tmp_path / "adir"))
    assert r.returncode == 2 and "adir" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_cli("encode", str(run.path), "digits", str(tmp_path / "z.npy"))
    assert r.returncode == 0, r.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "z.npy").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_help_does_not_import_torch():
    code = "import sys; import aekit.cli.main; print('torch' in sys.modules, 'lightning' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
