"""One flag vocabulary across commands (``--out``/``-o`` is the folder written, ``--model``,
``--set`` with YAML keys) and epochs counted from 1 on the progress bar as in metrics.json."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aekit.cli.main import app
from conftest import AEKIT, run_cli, table_rows

# every command that writes a run folder or a results folder
WRITERS = ["train", "pretrain", "demo", "detect", "reduce", "denoise", "fewshot", "generate", "latent",
           "sine-anomalies", "tune", "pca-compare", "k-sparse", "audio train-denoiser", "audio detect"]
WITH_MODEL = ["train", "pretrain", "detect", "denoise", "fewshot"]
WITH_SET = ["train", "pretrain", "detect", "denoise", "fewshot", "summary"]


def _help(command: str) -> str:
    result = CliRunner().invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", WRITERS)
def test_every_writer_takes_out_and_o(command: str) -> None:
    text = _help(command)
    assert re.search(r"--out\s*,?\s*-o|-o\s*,\s*--out", text), text
    if command in WITH_MODEL:
        assert re.search(r"--model\s*,?\s*-m|-m\s*,\s*--model", text), text
    if command in WITH_SET:
        assert "--set" in text and "model." in text, text


def test_train_out_is_the_run_folder_and_name_is_deprecated(tmp_path: Path) -> None:
    np.save(tmp_path / "t.npy", table_rows(80, 0))
    base = ["train", "--data", str(tmp_path / "t.npy"), "-e", "1", "--latent-dim", "2", "--no-progress",
            "--set", "report=false"]
    new = run_cli(*base, "-o", str(tmp_path / "mine"))
    assert new.returncode == 0, new.stderr
    assert (tmp_path / "mine" / "config.yaml").is_file() and (tmp_path / "mine" / "model.json").is_file()
    assert "deprecated" not in new.stderr
    old = run_cli(*base, "--out", str(tmp_path / "parent"), "--name", "r")
    assert old.returncode == 0, old.stderr
    assert (tmp_path / "parent" / "r" / "model.json").is_file()
    assert f"--name is deprecated: pass the run folder itself, --out {tmp_path / 'parent' / 'r'}" in old.stderr


def test_set_takes_yaml_keys_in_summary_and_detect(tmp_path: Path, table_csv: Path) -> None:
    yaml_key = CliRunner().invoke(app, ["summary", "mlp", "--input-shape", "6", "--set", "model.latent_dim=3"])
    bare = CliRunner().invoke(app, ["summary", "mlp", "--input-shape", "6", "--set", "latent_dim=3"])
    assert yaml_key.exit_code == 0 and yaml_key.output == bare.output, yaml_key.output
    wrong = run_cli("summary", "mlp", "--input-shape", "6", "--set", "trainer.max_epochs=3")
    assert wrong.returncode == 2 and "summary takes model settings (model.NAME)" in wrong.stderr
    det = run_cli("detect", str(table_csv), "-o", str(tmp_path / "d"), "-e", "1", "--quiet", "--set", "model.latent_dim=3")
    assert det.returncode == 0, det.stderr
    meta = json.loads((tmp_path / "d" / "model.json").read_text())
    assert '"latent_dim": 3' in json.dumps(meta)


def _run_on_pty(args: list[str], cwd: Path) -> str:
    """Run ``aekit ARGS`` with stdout and stderr on a pseudo-terminal; everything it drew, ANSI removed."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "OMP_NUM_THREADS": "1"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([*AEKIT, *args], stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=300) == 0, b"".join(chunks).decode(errors="replace")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", b"".join(chunks).decode(errors="replace"))


def test_progress_bar_counts_epochs_from_one_like_metrics(tmp_path: Path) -> None:
    np.save(tmp_path / "t.npy", table_rows(120, 1))
    text = _run_on_pty(["train", "--data", str(tmp_path / "t.npy"), "-e", "3", "--latent-dim", "2",
                        "--set", "report=false", "-o", str(tmp_path / "run")], tmp_path)
    shown = sorted({int(n) for n, total in re.findall(r"Epoch (\d+)/(\d+)", text) if total == "3"})
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [row["epoch"] for row in metrics["history"]] == [1, 2, 3] == shown, text
    assert metrics["epochs"] == 3 and "Epoch 0" not in text
    assert re.search(r"epochs: 3 \(best [123]\)", text), text


def test_denoise_set_reaches_the_model(tmp_path: Path) -> None:
    res = run_cli("denoise", "--data", "digits", "--noise", "salt_pepper:fraction=0.2", "-e", "1", "--limit", "200",
                  "--test-limit", "20", "--set", "model.channels=[8,8]", "-o", str(tmp_path / "den"))
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "den" / "denoise.json").read_text())
    meta = json.loads((Path(summary["conditions"][0]["model"]) / "model.json").read_text())
    assert meta["config"]["channels"] == [8, 8]
    assert set(summary["conditions"][0]["metrics"]) == {"noisy", "mean", "median", "closing-opening", "autoencoder"}
