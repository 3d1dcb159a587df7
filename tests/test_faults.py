"""Faults against run folders: signals, kill -9, full disks, corrupt checkpoints, races, devices.

Every case checks the same three things: the previous good state is intact (the last
checkpoint loads, finished files are unchanged), ``state.json`` tells the truth, and
the command ends with the right exit code and one line. Signals and full disks are
injected in-process at chosen points (a Lightning callback, a patched write, a small
tmpfs where the machine allows mounting one); real ``aekit train`` processes cover the
CLI's Ctrl-C and ``kill -9`` inside a checkpoint write and inside the final writes.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

import aekit
import aekit.io
from aekit.cli.main import main as cli_main
from aekit.errors import AekitWarning, ConfigError, DataError, ModelFileError, RunInterrupted, ShapeError
from aekit.runstate import effective_state, folder_lock, read_state
from aekit.training.checkpoints import checkpoint_problem


EPOCHS = 4


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200 x 8 CSV table: 13 batches of 16 per epoch, a fraction of a second each."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 8)).astype(np.float32)
    X[:, 4] = X[:, 0] + 0.1 * X[:, 1]
    path = tmp_path_factory.mktemp("data") / "t.csv"
    np.savetxt(path, X, delimiter=",", header=",".join(f"f{i}" for i in range(8)), comments="")
    return path


def _cfg(table: Path, out: Path, name: str, epochs: int = EPOCHS) -> dict:
    return {"model": {"family": "mlp", "hidden": [16], "latent_dim": 4}, "data": {"source": str(table)},
            "trainer": {"max_epochs": epochs, "batch_size": 16}, "report": False, "out_dir": str(out), "name": name}


class _SignalAt(L.Callback):
    """Send ``signum`` to this process after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch: int, batch: int, signum: int = signal.SIGINT) -> None:
        self.at, self.signum = (epoch, batch), signum

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if (trainer.current_epoch, batch_idx) == self.at:
            os.kill(os.getpid(), self.signum)


def _epochs_in_csv(run: Path) -> list[int]:
    import csv

    with (run / "logs" / "metrics.csv").open() as fh:
        return [int(float(r["epoch"])) for r in csv.DictReader(fh) if r.get("train/loss")]


def _no_temp_files(run: Path) -> bool:
    return not [p for p in run.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``aekit ARGS`` in this process: (exit code, stdout, stderr)."""
    try:
        cli_main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
    out = capsys.readouterr()
    return code, out.out, out.err


def _assert_resumable(run: Path, state: str = "interrupted") -> None:
    assert read_state(run)["state"] == state and effective_state(run) == state
    assert checkpoint_problem(run / "checkpoints" / "last.ckpt") is None  # the kept checkpoint is whole
    assert _no_temp_files(run)
    with pytest.raises(ModelFileError, match=f"(interrupted|failed) before it finished.*--resume {run}"):
        aekit.load(run)


def _resume_to_the_end(run: Path, epochs: int = EPOCHS) -> None:
    done = aekit.train({}, resume=run)
    state = read_state(run)
    assert state["state"] == "finished" and state["attempts"] == 2
    assert [int(h["epoch"]) for h in done.metrics["history"]] == list(range(1, epochs + 1))  # aekit counts from 1
    assert _epochs_in_csv(run) == list(range(epochs))  # Lightning's log counts from 0; history kept, nothing repeated
    aekit.load(run)


def test_sigint_during_an_epoch_keeps_the_last_checkpoint_and_resume_keeps_history(table, tmp_path):
    before = signal.getsignal(signal.SIGINT)  # Python's handler, or SIG_IGN under a shell's background job
    with pytest.raises(RunInterrupted) as info:
        aekit.train(_cfg(table, tmp_path, "r"), callbacks=[_SignalAt(2, 3)])
    run = tmp_path / "r"
    assert info.value.exit_code == 130 and Path(info.value.run_dir) == run
    _assert_resumable(run)
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["epoch"] == 1
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored
    from aekit.registry import build_model
    from aekit.training.engine import TrainerConfig, fit_model

    model = build_model("mlp", {"input_shape": [8], "hidden": [8], "latent_dim": 2})
    fitted = fit_model(model, np.ones((32, 8), np.float32), trainer=TrainerConfig(max_epochs=1))
    assert len(fitted.history) == 1  # the handled signal is forgotten: later training is not stopped by it
    _resume_to_the_end(run)


def test_sigterm_while_a_checkpoint_is_written_finishes_that_write_first(table, tmp_path, monkeypatch):
    real, calls = aekit.io._fsync_file, []

    def fsync_then_signal(path):
        calls.append(path)
        if ".last.ckpt." in str(path) and len([c for c in calls if ".last.ckpt." in str(c)]) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # between writing epoch 1's checkpoint and renaming it
        real(path)

    monkeypatch.setattr(aekit.io, "_fsync_file", fsync_then_signal)
    with pytest.raises(RunInterrupted) as info:
        aekit.train(_cfg(table, tmp_path, "c"))
    monkeypatch.undo()
    run = tmp_path / "c"
    assert info.value.exit_code == 143
    _assert_resumable(run)
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["epoch"] == 1  # the write completed
    # a kill between that checkpoint and the log write: the resume restores epoch 1's row from the checkpoint
    log = run / "logs" / "metrics.csv"
    log.write_text("".join(line for line in log.read_text().splitlines(True) if not line.startswith("1,")))
    _resume_to_the_end(run)


def test_sigint_during_the_final_writes_never_leaves_a_finished_looking_folder(table, tmp_path, monkeypatch):
    import aekit.reports.training

    def figures_then_signal(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(aekit.reports.training, "draw_run", figures_then_signal)
    with pytest.raises(RunInterrupted):
        aekit.train(_cfg(table, tmp_path, "f"))
    monkeypatch.undo()
    run = tmp_path / "f"
    assert read_state(run)["state"] == "interrupted"
    assert (run / "model.safetensors").exists()  # written before the signal, but the folder says it is not done
    with pytest.raises(ModelFileError, match="interrupted before it finished"):
        aekit.load(run)
    _resume_to_the_end(run)  # all epochs were trained: the resume only writes the final files
    assert (run / "figures" / "loss_curves.png").exists()


def test_ctrl_c_before_training_keeps_nothing_and_says_so(table, tmp_path, monkeypatch, capsys):
    import aekit.pipeline

    def load_then_signal(cfg, data=None):
        os.kill(os.getpid(), signal.SIGINT)  # e.g. while a large data set loads

    monkeypatch.setattr(aekit.pipeline, "prepare_data", load_then_signal)
    code, out, err = _cli(capsys, "train", "--data", str(table), "--out", str(tmp_path / "early"))
    assert code == 130 and err == "interrupted: nothing was kept\n" and out == ""
    assert not (tmp_path / "early").exists()


@pytest.mark.parametrize("nth", [2, 6, 14, 16])
def test_a_full_disk_names_the_run_and_keeps_the_last_good_checkpoint(table, tmp_path, monkeypatch, nth):
    """ENOSPC at the n-th durable write: config.yaml, a checkpoint, metrics.json, the final state."""
    real, count = aekit.io._fsync_file, [0]

    def fsync_enospc(path):
        count[0] += 1
        if count[0] == nth:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path)

    monkeypatch.setattr(aekit.io, "_fsync_file", fsync_enospc)
    with pytest.raises(OSError) as info:
        aekit.train(_cfg(table, tmp_path, "full"))
    monkeypatch.undo()
    run = tmp_path / "full"
    assert info.value.errno == errno.ENOSPC
    named = Path(info.value.filename)
    assert named.parent in (run, run / "checkpoints", run / "logs", run / "figures") and not named.name.startswith(".")
    if not run.exists():  # nothing worth keeping was written
        return
    _assert_resumable(run, "failed")
    assert "No space left" in read_state(run)["message"]
    assert f"aekit train --resume {run}" in str(info.value)
    _resume_to_the_end(run)


def test_a_real_full_tmpfs_then_resume_after_freeing_space(table, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=72k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here: needs root with mount rights (a container without CAP_SYS_ADMIN has none); the simulated disk-full test above covers the same path")
    try:
        with pytest.raises(OSError) as info:
            aekit.train(_cfg(table, mnt, "r", epochs=6))
        run = mnt / "r"
        assert info.value.errno == errno.ENOSPC and str(run) in str(info.value.filename)
        assert ".tmp" not in str(info.value.filename)
        _assert_resumable(run, "failed")
        subprocess.run(["mount", "-o", "remount,size=8m", str(mnt)], check=True)
        _resume_to_the_end(run, epochs=6)
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_corrupt_last_checkpoint_falls_back_to_best_or_refuses_in_one_line(table, tmp_path):
    with pytest.raises(RunInterrupted):
        aekit.train(_cfg(table, tmp_path, "t"), callbacks=[_SignalAt(2, 0)])
    run = tmp_path / "t"
    last, best = run / "checkpoints" / "last.ckpt", run / "checkpoints" / "best.ckpt"
    good_best = best.read_bytes()
    last.write_bytes(last.read_bytes()[:4096])  # what a full disk used to leave
    best.write_bytes(b"not a checkpoint")
    before = _snapshot(run)
    with pytest.raises(ModelFileError, match=r"cannot resume: .*last\.ckpt is unreadable") as info:
        aekit.train({}, resume=run)
    assert "\n" not in str(info.value) and _snapshot(run) == before  # refused without touching anything
    best.write_bytes(good_best)
    config = run / "config.yaml"
    good_config = config.read_text()
    config.write_text(good_config.replace("latent_dim: 4", "latent_dim: 5"))  # no longer the checkpoint's model
    with pytest.warns(AekitWarning), pytest.raises(ModelFileError, match=r"best\.ckpt does not fit the model"):
        aekit.train({}, resume=run)
    config.write_text(good_config)
    with pytest.warns(AekitWarning, match="resuming from best.ckpt"):
        aekit.train({}, resume=run)
    assert read_state(run)["state"] == "finished" and _epochs_in_csv(run) == list(range(EPOCHS))


def test_resuming_a_finished_run_changes_nothing(table, tmp_path, capsys):
    run = aekit.train(_cfg(table, tmp_path, "done")).path
    before = _snapshot(run)
    code, out, err = _cli(capsys, "train", "--resume", str(run))
    assert code == 0 and out.strip() == f"{run} is already finished; nothing to resume" and err == ""
    assert aekit.train({}, resume=run).path == run
    assert _snapshot(run) == before
    (run / "state.json").unlink()  # a run written before state files existed: still finished, still loads
    assert aekit.train({}, resume=run).path == run and aekit.load(run).encode(np.zeros((1, 8))).shape == (1, 4)


def test_two_commands_never_write_one_folder(table, tmp_path, capsys):
    run = aekit.train(_cfg(table, tmp_path, "mine")).path
    before = _snapshot(run)
    with pytest.raises(ConfigError, match="already exists"):
        aekit.train(_cfg(table, tmp_path, "mine"))
    code, _, err = _cli(capsys, "detect", str(table), "-o", str(run), "-e", "1")  # used to overwrite model files
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "already exists" in lines[0] and "--overwrite" in lines[0]
    assert _snapshot(run) == before
    # a run another process is training (it holds the folder's lock) is neither resumed nor overwritten
    with pytest.raises(RunInterrupted):
        aekit.train(_cfg(table, tmp_path, "busy"), callbacks=[_SignalAt(1, 0)])
    busy = tmp_path / "busy"
    with folder_lock(busy):
        kept = _snapshot(busy)
        with pytest.raises(ConfigError, match="in use by another aekit process"):
            aekit.train({}, resume=busy)
        with pytest.raises(ConfigError, match="in use"):
            aekit.train(_cfg(table, tmp_path, "busy"), overwrite=True)
        assert _snapshot(busy) == kept
    # --overwrite: a new run that fails leaves the old one in place; one that finishes replaces it whole
    bad = _cfg(table, tmp_path, "mine")
    bad["trainer"]["strategy"] = "warp"
    with pytest.raises(ConfigError, match="rejected by Lightning"):
        aekit.train(bad, overwrite=True)
    assert _snapshot(run) == before and not [p for p in tmp_path.iterdir() if p.name.startswith(".mine")]
    (tmp_path / "empty").mkdir()  # a folder the user made for the run stays, and stays empty
    with pytest.raises(ConfigError, match="rejected by Lightning"):
        aekit.train({**bad, "name": "empty"})
    assert list((tmp_path / "empty").iterdir()) == []
    (run / "note.txt").write_text("from the old run")
    assert aekit.train(_cfg(table, tmp_path, "mine", epochs=1), overwrite=True).metrics["epochs"] == 1
    assert not (run / "note.txt").exists() and read_state(run)["state"] == "finished"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine")]
    code, _, err = _cli(capsys, "detect", str(table), "-o", str(run), "-e", "1", "--overwrite")
    assert code == 0, err
    # replaced whole: the train run's checkpoints are gone, config.yaml is detect's own
    assert "command: detect" in (run / "config.yaml").read_text() and not (run / "checkpoints").exists()
    assert read_state(run)["state"] == "finished" and (run / "scores.csv").exists()


def _cli_process(table: Path, out: Path, name: str, epochs: int, patch: str = "") -> subprocess.Popen[str]:
    """`aekit train` in a fresh interpreter; ``patch`` is Python run first (a fault to inject)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    args = ["train", "--data", str(table), "--epochs", str(epochs), "--batch-size", "16", "--hidden", "16",
            "--latent-dim", "4", "--out", str(out / name), "--no-progress", "--set", "report=false"]
    code = f"import os, signal, sys\n{patch}\nfrom aekit.cli.main import main\nmain(sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def test_cli_ctrl_c_is_one_line_and_exit_130(table, tmp_path):
    proc = _cli_process(table, tmp_path, "int", 3000)
    run, deadline = tmp_path / "int", time.time() + 120
    while not (run / "checkpoints" / "last.ckpt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    # while it trains, nobody else may write its folder, nor read it as a finished run
    with pytest.raises(ConfigError, match="in use by another aekit process"):
        aekit.train({}, resume=run)
    with pytest.raises(ConfigError, match="already exists"):
        aekit.train(_cfg(table, tmp_path, "int"))
    with pytest.raises(ModelFileError, match="still in progress"):
        aekit.load(run)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == [f"interrupted: {run} can be resumed with aekit train --resume {run}"]
    assert read_state(run)["state"] == "interrupted" and _no_temp_files(run)
    assert checkpoint_problem(run / "checkpoints" / "last.ckpt") is None


KILL_IN_CHECKPOINT = """
import aekit.io
real, seen = aekit.io._fsync_file, []
def fsync(path):
    seen.extend([path] if ".last.ckpt." in str(path) else [])
    if len(seen) == 2:  # epoch 1's checkpoint is complete in its temporary file, not yet renamed
        os.kill(os.getpid(), signal.SIGKILL)
    real(path)
aekit.io._fsync_file = fsync
"""
KILL_IN_FINAL_WRITES = """
import aekit.reports.training
aekit.reports.training.draw_run = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("where,patch", [("checkpoint", KILL_IN_CHECKPOINT), ("final", KILL_IN_FINAL_WRITES)],
                         ids=["checkpoint", "final-writes"])
def test_kill_9_while_writing_leaves_a_run_that_reads_as_interrupted_and_resumes(table, tmp_path, where, patch):
    proc = _cli_process(table, tmp_path, "k", EPOCHS, patch)
    proc.communicate(timeout=120)
    run = tmp_path / "k"
    assert proc.returncode == -signal.SIGKILL
    assert read_state(run)["state"] == "running" and effective_state(run) == "interrupted"  # its lock died with it
    last = run / "checkpoints" / "last.ckpt"
    assert checkpoint_problem(last) is None
    assert torch.load(last, weights_only=False)["epoch"] == (0 if where == "checkpoint" else EPOCHS - 1)
    with pytest.raises(ModelFileError, match="interrupted before it finished"):
        aekit.load(run)
    _resume_to_the_end(run)
    assert _no_temp_files(run)  # what the kill left half-written is gone


def test_a_run_trained_on_a_gpu_evaluates_on_a_cpu_machine(table, tmp_path, capsys):
    run = aekit.train(_cfg(table, tmp_path, "gpu")).path
    cfg = run / "config.yaml"
    cfg.write_text(cfg.read_text().replace("accelerator: cpu", "accelerator: gpu"))
    for args in (["evaluate", str(run)], ["report", str(run)], ["encode", str(run), str(table), str(tmp_path / "z.npy")]):
        code, _, err = _cli(capsys, *args)
        assert code == 0 and "CUDA" not in err, err
    assert np.load(tmp_path / "z.npy").shape == (200, 4)
    trained = aekit.load(run, device="cpu")
    assert trained.encode(np.zeros((2, 8), np.float32)).shape == (2, 4)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            aekit.load(run, device="cuda")
    with pytest.raises(ShapeError, match="code shape is \\(4,\\)"):
        trained.decode(np.zeros((3, 5), np.float32))
    assert trained.decode(np.zeros((3, 4), np.float32)).shape == (3, 8)


def test_the_last_bad_inputs_are_one_line(table, tmp_path, capsys):
    import pandas as pd
    import soundfile as sf

    from aekit.audio.io import load_audio

    def cli(*args: str) -> str:
        code, _, err = _cli(capsys, *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        return lines[0]

    one = tmp_path / "one.csv"
    pd.DataFrame(np.ones((1, 3)), columns=list("abc")).to_csv(one, index=False)
    assert "only 1 row, too few for data.validation_fraction" in cli("train", "--data", str(one), "--out", str(tmp_path))
    with pytest.raises(DataError, match="too few for data.test_fraction"):
        aekit.train({"data": {"source": str(one), "val_fraction": 0}, "out_dir": str(tmp_path)})
    assert "torch_xla is not installed" in cli("train", "--data", str(table), "--accelerator", "tpu", "--out", str(tmp_path))
    labelled = tmp_path / "lab.csv"
    df = pd.DataFrame(np.random.default_rng(0).standard_normal((20, 3)), columns=list("abc"))
    df["label"] = [0, 1] * 10
    df["label"] = df["label"].astype(float)
    df.loc[[2, 7], "label"] = np.nan
    df.to_csv(labelled, index=False)
    msg = cli("detect", str(labelled), "-o", str(tmp_path / "det"), "-e", "1")
    assert "'label' has 2 empty cells (data rows 3, 8)" in msg and "-1" not in msg
    wav = tmp_path / "one.wav"
    sf.write(wav, np.zeros(1, np.float32), 16000)
    with pytest.raises(DataError, match=f"{wav}: only 1 sample"):
        load_audio(wav, sr=8000)
    assert not list(tmp_path.glob("**/state.json"))  # none of them left a run folder behind
    with pytest.warns(AekitWarning, match="latent_dim 12 is larger than the input size 8"):
        aekit.train({**_cfg(table, tmp_path, "wide", epochs=1), "model": {"family": "mlp", "hidden": [16], "latent_dim": 12}})
