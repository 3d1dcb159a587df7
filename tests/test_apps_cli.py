"""The application commands end to end on tiny data: reduce, denoise, fewshot, generate, latent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aekit.cli.main import app, main
from conftest import run_cli

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_reduce_command(tmp_path: Path) -> None:
    out = _ok("reduce", "--data", "digits", "--dims", "2,4", "--hidden", "16", "--epochs", "2", "--limit", "300",
              "--test-limit", "100", "--out", str(tmp_path))
    assert "PCA" in out
    res = json.loads((tmp_path / "reduce.json").read_text())
    assert [r["dims"] for r in res["results"]] == [2, 4] and res["test_rows"] == 60  # 20 % of 300 held out
    assert all(r["pca_mse"] > 0 and r["ae_mse"] > 0 for r in res["results"])
    assert (tmp_path / "embedding_pca_vs_ae.png").stat().st_size > 1000


def test_fewshot_command_takes_the_classifiers_finetuning_schedule(tmp_path: Path) -> None:
    """Without --finetune-steps the command leaves the fine-tuning to FewShotClassifier's schedule."""
    _ok("fewshot", "--data", "digits", "--shots", "1", "--seeds", "0", "--epochs", "1", "--head-steps", "10",
        "--latent-dim", "4", "--limit", "300", "--test-limit", "50", "--members", "1", "--shift", "0", "--out", str(tmp_path))
    res = json.loads((tmp_path / "fewshot.json").read_text())
    assert res["settings"]["finetune_steps"] is None  # None: finetune_schedule, as in the classifier
    assert {r["method"] for r in res["summary"]} == {"frozen encoder", "from scratch", "fine-tuned", "PCA + logreg"}


def test_fewshot_command(tmp_path: Path) -> None:
    _ok("fewshot", "--data", "digits", "--shots", "1,3", "--seeds", "0", "--epochs", "1", "--head-steps", "10",
        "--finetune-steps", "2", "--latent-dim", "4", "--limit", "400", "--test-limit", "100", "--members", "2",
        "--jobs", "2", "--out", str(tmp_path))
    res = json.loads((tmp_path / "fewshot.json").read_text())
    assert res["settings"]["n_estimators"] == 2 and res["settings"]["augment_shift"] == 1  # --members; the default shift
    assert {(r["method"], r["n"]) for r in res["summary"]} == {
        (m, n) for m in ("frozen encoder", "from scratch", "fine-tuned", "PCA + logreg") for n in (1, 3)
    }
    assert (tmp_path / "fewshot_accuracy.png").is_file()


def test_denoise_train_then_apply_to_pngs(tmp_path: Path) -> None:
    from aekit.apps.denoise import write_pngs

    _ok("denoise", "--data", "digits", "--noise", "salt_pepper:fraction=0.2", "--epochs", "1", "--limit", "300",
        "--test-limit", "40", "--out", str(tmp_path))
    res = json.loads((tmp_path / "denoise.json").read_text())
    cond = res["conditions"][0]
    assert cond["noise"] == {"kind": "salt_pepper", "fraction": 0.2}
    assert set(cond["metrics"]) == {"noisy", "mean", "median", "closing-opening", "autoencoder"}
    assert Path(cond["grid"]).is_file()
    write_pngs(np.random.default_rng(0).random((3, 1, 8, 8)), ["a.png", "b.png", "c.png"], tmp_path / "in")
    _ok("denoise", "--run", cond["model"], "--images", str(tmp_path / "in"), "--output", str(tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png", "c.png"]


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import aekit

    out = tmp_path_factory.mktemp("runs")
    cfg = {"model": {"family": "mlp", "hidden": [16], "latent_dim": 3}, "data": {"source": "digits", "limit": 300},
           "trainer": {"max_epochs": 1}, "out_dir": str(out), "name": "mlp", "report": False}
    return Path(aekit.train(cfg).path)


def test_generate_and_latent_commands(mlp_run: Path, tmp_path: Path) -> None:
    out = _ok("generate", str(mlp_run), "--attribute", "1,7", "--steps", "5", "--limit", "200", "--out", str(tmp_path))
    assert "interpolation" in out
    arrays = np.load(tmp_path / "generated.npz")
    assert arrays["interpolation"].shape == (5, 1, 8, 8) and "samples" not in arrays  # an mlp has no prior
    quality = json.loads((tmp_path / "quality.json").read_text())
    assert quality["of"] == "interpolation in-between points" and quality["n_generated"] == 3
    splits = json.loads((mlp_run / "metrics.json").read_text())["splits"]  # the run's own split, not a new one
    assert (quality["n_train"], quality["n_real"]) == (splits["train"], splits["test"]) and quality["ratio"] > 0
    assert f"ratio {quality['ratio']:.2f}" in " ".join(out.split())
    _ok("latent", str(mlp_run), "--method", "pca", "--limit", "200", "--out", str(tmp_path))
    assert (tmp_path / "latent_pca.png").stat().st_size > 1000


def _fail(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run aekit's main() in-process; return stderr after checking exit code 2 and one line."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.strip().count("\n") == 0, err
    return err


def test_bad_input_gives_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--run, --images and --output" in _fail(capsys, "denoise", "--run", str(tmp_path))
    assert "--shots expects comma-separated integers" in _fail(capsys, "fewshot", "--shots", "1,x", "--out", str(tmp_path))
    assert "not found" in _fail(capsys, "generate", str(tmp_path / "missing"))
    assert "unknown kind" in _fail(capsys, "denoise", "--data", "digits", "--noise", "blur:size=3", "--limit", "50",
                                   "--out", str(tmp_path))


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import aekit

    cfg = {"model": {"family": "linear", "latent_dim": 3}, "data": {"source": "digits", "limit": 200},
           "trainer": {"max_epochs": 1}, "out_dir": str(tmp_path_factory.mktemp("runs")), "name": "linear", "report": False}
    return Path(aekit.train(cfg).path)


DIGITS = ("--data", "digits", "--limit", "200")


# (command line, part of the message); "{run}" is a trained mlp run. Every case must be
# refused before any training and before the --out folder exists.
REFUSED = [
    pytest.param(("reduce", *DIGITS, "--dims", "2,65"),
                 "dims: code size 65 out of range", id="reduce-dims-above-features"),
    pytest.param(("reduce", *DIGITS, "--dims", "2", "--test-limit", "0"),
                 "'--test-limit'", id="reduce-test-limit-0"),
    pytest.param(("reduce", "--data", "digits", "--limit", "2"),
                 "too few to hold out a test split", id="reduce-no-test-split"),
    pytest.param(("denoise", *DIGITS, "--filter-size", "4"),
                 "--filter-size must be a positive odd number of pixels", id="denoise-even-filter"),
    pytest.param(("denoise", *DIGITS, "--noise", "gaussian:sigma=0.3", "--noise", "gaussian:sigma=-1"),
                 "sigma must be >= 0", id="denoise-bad-second-noise"),
    pytest.param(("fewshot", *DIGITS, "--shots", "1,500"),
                 "500 labelled examples per class asked for", id="fewshot-too-many-shots"),
    pytest.param(("fewshot", *DIGITS, "--shots", "0,1"),
                 "shots must be >= 1", id="fewshot-zero-shots"),
    pytest.param(("fewshot", *DIGITS, "--seeds", ""),
                 "seeds: give at least one value", id="fewshot-no-seeds"),
    pytest.param(("fewshot", *DIGITS, "--shots", "1", "--latent-dim", "100"),
                 "too large for the PCA baseline", id="fewshot-latent-above-features"),
    pytest.param(("fewshot", *DIGITS, "--head-steps", "0"),
                 "'--head-steps'", id="fewshot-head-steps-0"),
    pytest.param(("generate", "{run}", "--grid", "1"),
                 "'--grid'", id="generate-grid-1"),
    pytest.param(("generate", "{run}", "--interpolate", "0,999", "--limit", "50"),
                 "--interpolate index 999 out of range", id="generate-index-outside-data"),
    pytest.param(("generate", "{run}", "--attribute", "1,99", "--limit", "50"),
                 "no examples with label 99", id="generate-missing-label"),
    pytest.param(("latent", "{run}", "--method", "tsne", "--limit", "2"),
                 "projection 'tsne' needs at least 3 examples", id="latent-tsne-two-rows"),
]


@pytest.mark.parametrize("args, message", REFUSED)
def test_bad_settings_are_refused_before_any_output(args: tuple[str, ...], message: str, tmp_path: Path,
                                                    request: pytest.FixtureRequest,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    if "{run}" in args:  # train the shared run only for the commands that read one
        args = tuple(a.replace("{run}", str(request.getfixturevalue("mlp_run"))) for a in args)
    out = tmp_path / "out"
    err = _fail(capsys, *args, "--out", str(out))  # exit 2, one line; any other exception fails the test
    assert err.startswith("aekit: error: ") and message in err, err
    assert not out.exists()


def test_refusal_as_a_user_sees_it(tmp_path: Path) -> None:
    """The same in a fresh interpreter: no traceback and no warnings, only the one line."""
    r = run_cli("reduce", *DIGITS, "--dims", "0", "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and r.stderr.startswith("aekit: error: dims: code size 0 out of range"), r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "out").exists()


def test_pca_compare_with_fewer_rows_than_components(linear_run: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "two.npy", np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32))
    err = _fail(capsys, "pca-compare", str(linear_run), "--data", str(tmp_path / "two.npy"))
    assert "too few for a 3-component PCA" in err


def test_removed_on_failure_keeps_existing_folders(tmp_path: Path) -> None:
    from aekit.io import removed_on_failure

    with pytest.raises(RuntimeError), removed_on_failure(tmp_path / "new") as new:
        (new / "sub").mkdir(parents=True)
        raise RuntimeError
    assert not (tmp_path / "new").exists()
    with pytest.raises(RuntimeError), removed_on_failure(tmp_path):
        raise RuntimeError
    assert tmp_path.is_dir()


def test_help_lists_the_commands() -> None:
    r = run_cli("--help")
    assert r.returncode == 0
    assert all(c in r.stdout for c in ("reduce", "denoise", "generate", "latent", "fewshot"))


def test_outputs_keep_identifiers(tmp_path: Path) -> None:
    """encode/reconstruct CSVs have headers and ids (file names of an image folder, a named id
    column of a table); a single image file is accepted; images can come back as a PNG folder."""
    import pandas as pd
    from PIL import Image

    from conftest import run_cli

    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        for k in range(6):
            Image.fromarray((rng.random((8, 8)) * 255).astype(np.uint8)).save(folder / cls / f"img{k}.png")
    run = tmp_path / "runs" / "r"
    res = run_cli("train", "--data", str(folder), "--model", "mlp", "--hidden", "8", "--latent-dim", "3", "-e", "1",
                  "--out", str(tmp_path / "runs" / "r"), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert run_cli("encode", str(run), str(folder), str(tmp_path / "codes.csv")).returncode == 0
    codes = pd.read_csv(tmp_path / "codes.csv")
    assert list(codes.columns) == ["id", "z0", "z1", "z2"] and codes["id"].iloc[0] == "a/img0.png"
    one = run_cli("encode", str(run), str(folder / "b" / "img3.png"), str(tmp_path / "one.csv"))
    assert one.returncode == 0, one.stderr
    assert pd.read_csv(tmp_path / "one.csv")["id"].tolist() == ["img3.png"]
    assert run_cli("reconstruct", str(run), str(folder), str(tmp_path / "rec")).returncode == 0
    assert sorted(p.name for p in (tmp_path / "rec").iterdir())[:2] == ["a__img0.png", "a__img1.png"]
    again = run_cli("reconstruct", str(run), str(folder), str(tmp_path / "rec"))
    assert again.returncode == 2 and "not empty" in again.stderr

    table = tmp_path / "t.csv"
    frame = pd.DataFrame(rng.random((40, 4)), columns=["w", "x", "y2", "z"])
    frame.insert(0, "key", [f"row-{i}" for i in range(40)])
    frame.to_csv(table, index=False)
    res = run_cli("train", "--data", str(table), "--hidden", "4", "--latent-dim", "2",
                  "-e", "1", "--out", str(tmp_path / "runs" / "t"), "--no-progress",
                  "--set", "data.id_column=key")
    assert res.returncode == 0, res.stderr
    out = run_cli("reconstruct", str(tmp_path / "runs" / "t"), str(table), str(tmp_path / "rec.csv"), "--id-column", "key")
    assert out.returncode == 0, out.stderr
    rec = pd.read_csv(tmp_path / "rec.csv")
    assert list(rec.columns) == ["id", "w", "x", "y2", "z"] and rec["id"].iloc[5] == "row-5"


def test_experiment_outputs_never_mix_with_an_existing_folder(tmp_path: Path) -> None:
    """reduce/denoise/fewshot/sine-anomalies refuse a non-empty --out before any training
    (nothing in it changes); --overwrite replaces it whole."""
    from conftest import run_cli

    out = tmp_path / "res"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    for args in (("reduce", "--data", "digits", "--dims", "2"), ("denoise", "--data", "digits"),
                 ("fewshot", "--data", "digits"), ("sine-anomalies",)):
        r = run_cli(*args, "--out", str(out))
        assert r.returncode == 2 and "already exists and is not empty" in r.stderr, (args, r.stderr)
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    r = run_cli("sine-anomalies", "--n-train", "20", "--n-normal", "8", "--n-per-kind", "2", "--length", "32", "-e", "1",
                "--out", str(out), "--overwrite")
    assert r.returncode == 0, r.stderr
    assert not (out / "keep.txt").exists() and (out / "sine_anomalies.json").is_file()


def test_data_kinds_are_read_as_what_they_are(tmp_path: Path) -> None:
    """A 1-D .npy is one series (windows, said out loud), an (N, 1, L) array works with the Conv1D
    preset in detect, and --series on sequences is refused with a line naming what was found."""
    from conftest import run_cli

    t = np.arange(1200, dtype=np.float32)
    np.save(tmp_path / "series.npy", np.sin(t / 9) + 0.05 * np.random.default_rng(0).standard_normal(1200))
    det = run_cli("detect", str(tmp_path / "series.npy"), "--window", "32", "--stride", "8", "-e", "1", "--quiet",
                  "--out", str(tmp_path / "d"))
    assert det.returncode == 0, det.stderr
    assert "read as a series of 1200 time steps" in det.stdout
    assert json.loads((tmp_path / "d" / "metrics.json").read_text())["series"] is True
    tr = run_cli("train", "--data", str(tmp_path / "series.npy"), "--window", "40", "--hidden", "8", "--latent-dim", "4",
                 "-e", "1", "--out", str(tmp_path / "runs" / "s"), "--no-progress")
    assert tr.returncode == 0, tr.stderr
    assert json.loads((tmp_path / "runs" / "s" / "model.json").read_text())["config"]["input_shape"] == [1, 40]
    warn = run_cli("train", "--data", str(tmp_path / "series.npy"), "--hidden", "8", "--latent-dim", "4", "-e", "1",
                   "--out", str(tmp_path / "runs" / "w"), "--no-progress")
    assert warn.returncode == 0 and "windows of 64 steps" in warn.stderr

    seqs = np.sin(np.linspace(0, 20, 64))[None, None, :] * np.random.default_rng(1).uniform(0.5, 1.5, (60, 1, 1))
    np.savez(tmp_path / "seqs.npz", X=seqs.astype(np.float32))
    conv = run_cli("detect", str(tmp_path / "seqs.npz"), "--model", "timeseries_conv1d", "-e", "1", "--quiet",
                   "--out", str(tmp_path / "c"))
    assert conv.returncode == 0, conv.stderr
    assert "60 examples of shape (1, 64)" in conv.stdout
    bad = run_cli("detect", str(tmp_path / "seqs.npz"), "--series", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "60 sequences" in bad.stderr and not (tmp_path / "x").exists()
