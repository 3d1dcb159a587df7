"""Run reports, fitting diagnosis, compare and explore (without a browser; see test_reports_browser.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from aekit.errors import DataError, ModelFileError


def tiny_run(out: Path, name: str, model: dict[str, Any], **extra: Any) -> Path:
    """A real run folder: ``model`` on 400 sklearn digits for a few epochs (a second or two)."""
    import aekit

    cfg = {"model": model, "data": {"source": "digits", "limit": 400}, "trainer": {"max_epochs": 4, "batch_size": 64},
           "optim": {"lr": 3e-3}, "out_dir": str(out), "name": name, "report": False, **extra}
    return aekit.train(cfg).path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runs")
    return {
        "small": tiny_run(out, "small", {"family": "mlp", "hidden": [32], "latent_dim": 2}),
        "large": tiny_run(out, "large", {"family": "mlp", "hidden": [64], "latent_dim": 16}),
    }


def cli(*args: str) -> int:
    """Run ``aekit ARGS`` in-process through main(); returns the exit code."""
    from aekit.cli.main import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# --- fitting diagnosis ---------------------------------------------------------------------

def hist(train: list[float], val: list[float] | None = None) -> list[dict[str, float]]:
    return [{"epoch": i + 1, "train/loss": t, **({"val/loss": val[i]} if val else {})} for i, t in enumerate(train)]


def test_diagnose_flags_overfitting_and_underfitting() -> None:
    from aekit.reports.html import diagnose

    warn, ok = diagnose(hist([1.0, 0.5, 0.3, 0.2, 0.15, 0.12, 0.11], [1.0, 0.6, 0.45, 0.5, 0.6, 0.7, 0.8]))
    assert any(w.startswith("overfitting") and "epoch 3" in w for w in warn) and not ok
    assert any("generalisation gap" in w for w in warn)
    warn, _ = diagnose(hist([1.0, 0.8, 0.6, 0.4], [1.0, 0.8, 0.6, 0.4]))
    assert any(w.startswith("underfitting") for w in warn)
    warn, ok = diagnose(hist([1.0, 0.5, 0.41, 0.405, 0.404], [1.0, 0.52, 0.43, 0.425, 0.424]))
    assert warn == [] and ok
    warn, _ = diagnose(hist([1.0, float("nan"), float("nan")]))
    assert "diverged" in warn[0]
    assert "too few" in diagnose(hist([1.0, 0.5]))[0][0]


# --- run report -----------------------------------------------------------------------------

def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z_]+)"', html)


def test_report_of_a_run_is_self_contained(runs: dict[str, Path]) -> None:
    from aekit.reports.html import write_report

    path = write_report(runs["small"])
    html = path.read_text()
    assert path == runs["small"] / "report.html"
    assert section_ids(html) == ["overview", "config", "model", "curves", "metrics", "reconstructions", "latent"]
    assert not re.search(r'(src|href)="(https?:|//)', html)  # nothing fetched from the network
    n_img = html.count('<img src="data:image/png;base64,')
    assert n_img == 3 and n_img == html.count("<img")
    for name in ("loss_curves", "reconstructions", "latent_scatter"):
        assert (runs["small"] / "figures" / f"{name}.png").stat().st_size > 1000
    assert "Total params" in html and "Linear-1" in html  # the model summary table
    assert "latent_dim: 2" in html  # the config


def test_report_of_a_denoising_run_shows_noisy_and_denoised(runs: dict[str, Path], tmp_path: Path) -> None:
    from aekit.reports.html import write_report

    assert "denoising" not in section_ids(write_report(runs["large"]).read_text())
    run = tiny_run(tmp_path, "dae", {"family": "mlp", "hidden": [64], "latent_dim": 16}, noise=[{"kind": "gaussian", "sigma": 0.2}])
    html = write_report(run).read_text()
    assert "denoising" in section_ids(html)
    assert "median 3x3" in html and "PSNR" in html
    assert (run / "figures" / "denoising.png").is_file()


def test_report_survives_broken_weights_and_rejects_missing_folder(runs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    from aekit.reports.html import write_report

    broken = tmp_path / "broken"
    shutil.copytree(runs["small"], broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    html = write_report(broken).read_text()  # the page is still written, with the reason
    assert "checksum mismatch" in html and "curves" in section_ids(html)
    with pytest.raises(ModelFileError, match="run folder not found"):
        write_report(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="not an aekit run folder"):
        write_report(tmp_path / "empty")


def test_detector_scores_section(runs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    from aekit.reports.html import save_detector_scores, write_report

    run = tmp_path / "det"
    shutil.copytree(runs["small"], run)
    rng = np.random.default_rng(0)
    labels = (rng.random(300) < 0.1).astype(int)
    scores = rng.random(300) + labels  # separable: AUC near 1
    save_detector_scores(run, scores, labels, threshold=1.0, info={"method": "fixed"})
    html = write_report(run).read_text()
    assert "detector" in section_ids(html)
    assert "ROC-AUC" in html and "F1 at threshold" in html and "fixed" in html
    assert (run / "figures" / "roc_pr.png").is_file() and (run / "figures" / "score_histogram.png").is_file()
    with pytest.raises(Exception, match="labels for"):
        save_detector_scores(run, scores, labels[:10])


# --- compare ---------------------------------------------------------------------------------

def test_compare_marks_best_and_lists_every_run(runs: dict[str, Path], tmp_path: Path) -> None:
    from aekit.reports.compare import compare_runs, rich_table

    comp = compare_runs([runs["small"], runs["large"]], tmp_path / "cmp.html")
    assert [r["run"] for r in comp.rows] == ["small", "large"]
    mse = [r["test MSE"] for r in comp.rows]
    assert all(np.isfinite(mse)) and comp.best["test MSE"] == int(np.argmin(mse))
    assert comp.common["family"] == "mlp" and "family" not in comp.columns  # shared settings said once
    html = comp.path.read_text()
    assert section_ids(html) == ["table", "curves", "reconstructions"]
    assert html.count('class="num best"') >= len(comp.best)
    assert rich_table(comp).row_count == 2


def test_compare_cli_and_bad_input(runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.html"
    assert cli("compare", str(runs["small"].parent), "--out", str(out)) == 0  # a folder of runs
    printed = capsys.readouterr().out
    assert "small" in printed and "large" in printed and out.is_file()
    assert cli("compare", str(tmp_path / "missing")) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_report_cli(runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert cli("report", str(runs["small"]), "--out", str(out)) == 0
    assert out.is_file() and str(out) in capsys.readouterr().out
    assert cli("report", str(tmp_path / "missing")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run folder not found" in err


# --- explore ---------------------------------------------------------------------------------

@pytest.fixture
def messy_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.standard_normal((200, 4)), columns=["a", "b", "c", "d"])
    df["holes"] = df["a"]
    df.loc[5:14, "holes"] = np.nan  # injected NaN column
    df["flat"] = 3.0  # injected constant column
    df["label"] = (rng.random(200) < 0.08).astype(int)  # rare positive class
    df = pd.concat([df, df.iloc[20:27]], ignore_index=True)  # 7 injected duplicate rows
    path = tmp_path / "messy.csv"
    df.to_csv(path, index=False)
    return path


def test_explore_flags_nan_constant_duplicates_and_imbalance(messy_csv: Path, tmp_path: Path) -> None:
    from aekit.reports.explore import profile_data, write_explore_report

    prof = profile_data(messy_csv)
    text = "\n".join(prof.problems)
    assert "NaN values in 1 column(s): holes (10)" in text
    assert "1 constant column(s): flat" in text
    assert "7 duplicate row(s)" in text
    assert "label imbalance" in text
    assert prof.shape == (207, 6) and prof.missing == 10
    feats = {f["name"]: f for f in prof.features}
    assert feats["flat"]["min"] == feats["flat"]["max"] == 3.0 and feats["holes"]["missing"] == 10
    html = write_explore_report(prof, tmp_path / "x.html").read_text()
    assert "holes" in html and "duplicate" in html and html.count("data:image/png;base64,") == 2


def test_explore_clean_data_and_arrays(tmp_path: Path) -> None:
    from aekit.reports.explore import profile_data

    prof = profile_data("digits")
    assert prof.kind == "image" and prof.shape == (1797, 1, 8, 8) and prof.problems == []
    assert len(prof.class_counts or {}) == 10
    X = np.random.default_rng(1).random((50, 3, 40)).astype(np.float32)
    X[4] = X[2]
    X[:10, 1, 7] = np.nan
    np.save(tmp_path / "s.npy", X)
    prof = profile_data(tmp_path / "s.npy")
    assert prof.kind == "series" and prof.duplicates == 1
    assert any("NaN values" in p for p in prof.problems)
    with pytest.raises(DataError):
        profile_data(tmp_path / "absent.csv")


def test_explore_audio(tmp_path: Path) -> None:
    import soundfile as sf

    from aekit.reports.explore import profile_data, write_explore_report

    t = np.arange(8000) / 8000
    sf.write(tmp_path / "tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000)
    sf.write(tmp_path / "loud.wav", np.clip(3 * np.sin(2 * np.pi * 100 * t), -1, 1).astype(np.float32), 16000)
    prof = profile_data(tmp_path)
    assert prof.kind == "audio" and prof.shape == (2,)
    assert any("mixed sample rates" in p for p in prof.problems) and any("clipping" in p for p in prof.problems)
    html = write_explore_report(prof, tmp_path / "a.html").read_text()
    assert html.count("data:image/png;base64,") == 2  # one spectrogram per file


def test_explore_cli(messy_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "e.html"
    assert cli("explore", str(messy_csv), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "4 problem(s) found" in printed and "flat" in printed and out.is_file()
    assert cli("explore", str(messy_csv), "--out", str(out), "--strict") == 1
    capsys.readouterr()
    assert cli("explore", str(tmp_path / "absent.csv")) == 2
    assert "not found" in capsys.readouterr().err


def test_metrics_json_history_drives_curves(runs: dict[str, Path]) -> None:
    metrics = json.loads((runs["small"] / "metrics.json").read_text())
    assert len(metrics["history"]) == 4 and "val/loss" in metrics["history"][0]
