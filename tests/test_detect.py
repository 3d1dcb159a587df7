"""Anomaly detection: detector conventions, thresholds, metrics, windows, generators, loaders, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from aekit.apps import metrics as M
from aekit.apps import thresholds as T
from aekit.apps.detect import AutoencoderDetector, SeriesDetector, load_detector, save_detector
from aekit.data.series import sliding_windows, window_labels, window_starts, windows_to_points
from aekit.data.synthetic import ANOMALY_KINDS, sine_benchmark, sine_mixtures
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.base import AEOutput, Autoencoder, LossOutput, reconstruction_loss

FAST = dict(max_epochs=3, batch_size=32)


@pytest.fixture(scope="module")
def correlated() -> tuple[np.ndarray, np.ndarray]:
    """200 normal rows on a 2-d subspace of 8 features, plus 10 rows off it."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 2))
    W = rng.standard_normal((2, 8))
    normal = Z @ W + 0.05 * rng.standard_normal((200, 8))
    outliers = rng.standard_normal((10, 8)) * 3
    return normal.astype(np.float32), outliers.astype(np.float32)


@pytest.fixture(scope="module")
def fitted(correlated: tuple[np.ndarray, np.ndarray]) -> AutoencoderDetector:
    normal, _ = correlated
    return AutoencoderDetector(model_params={"hidden": [16], "latent_dim": 2}, max_epochs=40, batch_size=32,
                               lr=3e-3).fit(normal)


# --- detector ---------------------------------------------------------------------------

def test_contamination_flags_that_share_of_training_rows(correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, _ = correlated
    det = AutoencoderDetector(contamination=0.1, **FAST).fit(normal)
    assert (det.predict(normal) == -1).sum() == 20
    assert det.threshold_.method == "contamination" and not det.threshold_.uses_labels


def test_sign_conventions_agree(fitted: AutoencoderDetector, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    X = np.vstack(correlated)
    anomaly, samples, decision = fitted.anomaly_score(X), fitted.score_samples(X), fitted.decision_function(X)
    np.testing.assert_allclose(samples, -anomaly)
    np.testing.assert_allclose(decision, samples - fitted.offset_)
    pred = fitted.predict(X)
    assert set(np.unique(pred)) <= {-1, 1}
    np.testing.assert_array_equal(pred == -1, decision < 0)
    np.testing.assert_array_equal(fitted.is_anomaly(X), anomaly > fitted.threshold_.value)
    np.testing.assert_array_equal(fitted.fit_predict(correlated[0]) == -1, fitted.is_anomaly(correlated[0]))


def test_outliers_off_the_subspace_score_higher(fitted: AutoencoderDetector, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, outliers = correlated
    s = fitted.anomaly_score(np.vstack([normal, outliers]))
    y = np.r_[np.zeros(len(normal)), np.ones(len(outliers))]
    assert M.roc_auc(y, s) > 0.95
    assert fitted.is_anomaly(outliers).mean() >= 0.9


@pytest.mark.parametrize("rule", ["percentile", "mean_std", "median_mad"])
def test_threshold_rules_in_fit(rule: str, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, _ = correlated
    det = AutoencoderDetector(threshold=rule, **FAST).fit(normal)
    assert det.threshold_.method == rule and det.threshold_.param == T.DEFAULTS[rule]
    assert det.offset_ == -det.threshold_.value
    assert 0 <= det.is_anomaly(normal).mean() < 0.2


def test_best_f1_only_on_request_and_reported(fitted: AutoencoderDetector, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    import copy

    det = copy.deepcopy(fitted)
    X = np.vstack(correlated)
    y = np.r_[np.zeros(len(correlated[0])), np.ones(len(correlated[1]))]
    with pytest.raises(ConfigError, match="best_f1"):
        AutoencoderDetector(threshold="best_f1").fit(correlated[0])
    t = det.set_threshold(X, y, "best_f1")
    assert t.uses_labels and t.method == "best_f1"
    assert M.metrics_at(y, det.anomaly_score(X), t.value).f1 == pytest.approx(t.info["f1"])


def test_reductions_and_error_maps(correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, outliers = correlated
    det = AutoencoderDetector(reduction="max", standardize_errors=True, n_estimators=1, code_distance="none", **FAST).fit(normal)
    E = det.error_map(outliers)
    assert E.shape == outliers.shape
    s = det.anomaly_score(outliers)
    np.testing.assert_allclose(s, ((E - det.err_shift_) / det.err_scale_).max(axis=1), rtol=1e-6)


def test_any_family_as_engine_conv_on_windows() -> None:
    X = sine_mixtures(40, length=32, seed=1).reshape(40, -1)
    det = AutoencoderDetector(model="conv", input_shape=(1, 32), model_params={"channels": [4, 8], "latent_dim": 4},
                              scaling="none", **FAST).fit(X)
    assert det.family_ == "conv" and det.error_map(X[:3]).shape == (3, 1, 32)
    with pytest.raises(ConfigError, match="input_shape"):
        AutoencoderDetector(input_shape=(1, 31)).fit(X)


def test_save_load_round_trip(fitted: AutoencoderDetector, correlated: tuple[np.ndarray, np.ndarray], tmp_path) -> None:
    X = np.vstack(correlated)
    save_detector(fitted, tmp_path / "det")
    back = load_detector(tmp_path / "det")
    np.testing.assert_allclose(back.anomaly_score(X), fitted.anomaly_score(X))
    np.testing.assert_array_equal(back.predict(X), fitted.predict(X))


def test_bad_input_is_rejected_clearly(fitted: AutoencoderDetector, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, _ = correlated
    bad = normal.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AutoencoderDetector(**FAST).fit(bad)
    with pytest.raises(ShapeError, match="features"):
        fitted.anomaly_score(normal[:, :5])
    with pytest.raises(ConfigError, match="k must be"):
        AutoencoderDetector(threshold="mean_std", threshold_param=-1.0).fit(normal)
    with pytest.raises(DataError, match="constant"):
        AutoencoderDetector(**FAST).fit(np.ones((30, 4)))
    with pytest.raises(ConfigError, match="contamination"):
        AutoencoderDetector(contamination=0.7).fit(normal)
    with pytest.raises(ConfigError, match="unknown model family"):
        AutoencoderDetector(model="mpl").fit(normal)
    with pytest.raises(ConfigError, match="variational"):
        AutoencoderDetector(score_type="elbo", **FAST).fit(normal)


class TinyVAE(Autoencoder):
    """A minimal Gaussian VAE following the contract (mu/logvar in extras), to test ELBO/IWAE scores."""

    def __init__(self, n: int) -> None:
        from dataclasses import make_dataclass

        cfg = make_dataclass("C", [("input_shape", tuple, (n,)), ("latent_dim", int, 2), ("loss", str, "mse")])()
        super().__init__(cfg)
        self.enc = nn.Linear(n, 4)
        self.decoder = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, n))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)[:, :2]

    def forward(self, x: torch.Tensor) -> AEOutput:
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu) if self.training else mu
        return AEOutput(self.decoder(z), z, {"mu": mu, "logvar": logvar})

    def loss(self, x: torch.Tensor, target: torch.Tensor | None = None) -> LossOutput:
        out = self(x)
        recon = reconstruction_loss(out, x, "mse")
        mu, lv = out.extras["mu"], out.extras["logvar"]
        kl = 1e-3 * 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).sum(1).mean()
        return LossOutput(recon + kl, {"recon": recon, "kl": kl}, out)


@pytest.mark.parametrize("kind", ["elbo", "iwae"])
def test_variational_scores(kind: str, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, outliers = correlated
    torch.manual_seed(0)
    det = AutoencoderDetector(model=TinyVAE(8), score_type=kind, n_samples=8, max_epochs=30, lr=3e-3).fit(normal)
    s = det.anomaly_score(np.vstack([normal, outliers]))
    assert np.isfinite(s).all()
    assert M.roc_auc(np.r_[np.zeros(200), np.ones(10)], s) > 0.9


@pytest.mark.parametrize("kind", ["recon", "elbo", "iwae"])
def test_vae_family_as_engine(kind: str, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, outliers = correlated
    det = AutoencoderDetector(model="vae", model_params={"likelihood": "gaussian", "hidden": [32], "latent_dim": 2},
                              score_type=kind, n_samples=8, max_epochs=20, batch_size=32).fit(normal)
    s = det.anomaly_score(np.vstack([normal, outliers]))
    assert np.isfinite(s).all() and M.roc_auc(np.r_[np.zeros(200), np.ones(10)], s) > 0.9


@pytest.mark.parametrize("kind", ["elbo", "iwae"])
def test_vae_scores_do_not_depend_on_the_batch(kind: str, correlated: tuple[np.ndarray, np.ndarray]) -> None:
    normal, _ = correlated
    det = AutoencoderDetector(model="vae", model_params={"likelihood": "gaussian", "hidden": [16], "latent_dim": 2},
                              score_type=kind, n_samples=4, max_epochs=2, batch_size=32).fit(normal)
    full = det.anomaly_score(normal)
    np.testing.assert_allclose(det.anomaly_score(normal[5:]), full[5:], rtol=1e-5)
    np.testing.assert_allclose(det.anomaly_score(normal[7:8]), full[7:8], rtol=1e-5)


def test_trained_on_clean_sines_spikes_score_far_above_normals() -> None:
    train = sine_mixtures(200, length=64, seed=0).reshape(200, -1)
    test = sine_mixtures(40, length=64, seed=1).reshape(40, -1)
    spiky = test.copy()
    spiky[:, [10, 30, 50]] += 3 * test.std()
    # max over time steps: a spike is a point anomaly, a mean over 64 steps would dilute it
    det = AutoencoderDetector(model_params={"hidden": [64], "latent_dim": 8}, reduction="max",
                              max_epochs=100, batch_size=32, lr=3e-3).fit(train)
    normal_s, spike_s = det.anomaly_score(test), det.anomaly_score(spiky)
    assert spike_s.min() > normal_s.max() and spike_s.min() > 3 * np.median(normal_s)
    assert M.roc_auc(np.r_[np.zeros(40), np.ones(40)], np.r_[normal_s, spike_s]) > 0.99


@pytest.mark.slow
def test_series_detector_locates_spikes() -> None:
    s = sine_mixtures(1, length=2000, seed=3)[0, 0]
    det = SeriesDetector(window=32, stride=4, max_epochs=8).fit(s)
    bad = s.copy()
    bad[[400, 1200, 1700]] += 4 * s.std()
    scores = det.anomaly_score(bad)
    assert scores.shape == (2000,)
    assert set(np.argsort(scores)[-9:]) & {400, 1200, 1700} == {400, 1200, 1700}
    assert det.is_anomaly(bad)[[400, 1200, 1700]].all()
    with pytest.raises(DataError, match="shorter than one window"):
        det.anomaly_score(s[:20])
    with pytest.raises(ShapeError, match="channels"):
        det.anomaly_score(np.stack([s, s], axis=1))


# --- thresholds --------------------------------------------------------------------------

def test_threshold_rules_by_hand() -> None:
    s = np.arange(1, 101, dtype=float)  # 1..100
    assert (s > T.by_contamination(s, 0.1)).sum() == 10
    assert T.by_percentile(s, 50) == pytest.approx(50.5)
    assert T.by_mean_std(s, 2) == pytest.approx(s.mean() + 2 * s.std())
    assert T.by_median_mad(s, 1) == pytest.approx(50.5 + 1.4826 * 25)
    y = (s > 90).astype(int)
    value, f1 = T.best_f1(s, y)
    assert f1 == 1.0 and ((s > value) == (y == 1)).all()
    with pytest.raises(ConfigError):
        T.choose_threshold("magic", s)
    with pytest.raises(ConfigError, match="labels"):
        T.choose_threshold("best_f1", s)
    with pytest.raises(DataError):
        T.by_mean_std([np.nan, 1.0])


# --- metrics -----------------------------------------------------------------------------

def test_metrics_match_sklearn_and_hand_counts() -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = y + rng.standard_normal(200)
    assert M.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert M.average_precision(y, s) == pytest.approx(average_precision_score(y, s))
    m = M.metrics_at([0, 0, 1, 1, 1], [0.1, 0.9, 0.8, 0.2, 0.95], 0.5)
    assert (m.tp, m.fp, m.tn, m.fn) == (2, 1, 1, 1)
    assert m.precision == pytest.approx(2 / 3) and m.recall == pytest.approx(2 / 3)
    np.testing.assert_array_equal(m.confusion_matrix, [[1, 1], [1, 2]])
    assert np.isnan(M.roc_auc([0, 0, 0], [1, 2, 3]))


def test_event_metrics_by_hand() -> None:
    y = np.array([0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0])  # 3 true events
    p = np.array([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1])  # 3 predicted events, 2 overlap truth
    np.testing.assert_array_equal(M.events(y), [[1, 3], [6, 9], [10, 11]])
    ev = M.event_metrics(y, p)
    assert (ev.n_true_events, ev.detected_events, ev.n_pred_events, ev.correct_pred_events) == (3, 2, 3, 2)
    assert ev.recall == pytest.approx(2 / 3) and ev.precision == pytest.approx(2 / 3)
    out = M.evaluate(y, p.astype(float), threshold=0.5, series=True)
    assert out["event_recall"] == pytest.approx(2 / 3)


# --- windows -----------------------------------------------------------------------------

def test_windows_to_points_hand_example() -> None:
    starts = window_starts(6, 3, 2)
    np.testing.assert_array_equal(starts, [0, 2, 3])  # a last window ends exactly at T
    w = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(windows_to_points(w, starts, 3, 6, "mean"), [1, 1, 1.5, 3, 3, 4])
    np.testing.assert_allclose(windows_to_points(w, starts, 3, 6, "max"), [1, 1, 2, 4, 4, 4])
    per_step = np.array([[1, 2, 3], [10, 20, 30], [100, 200, 300]], dtype=float)
    np.testing.assert_allclose(windows_to_points(per_step, starts, 3, 6, "mean"), [1, 2, 6.5, 60, 115, 300])
    np.testing.assert_array_equal(window_labels([0, 0, 0, 0, 1, 0], starts, 3), [0, 1, 1])


def test_sliding_windows_multivariate() -> None:
    x = np.stack([np.arange(10), 100 + np.arange(10)], axis=1)
    W, starts = sliding_windows(x, 4, 3)
    assert W.shape == (3, 2, 4)
    np.testing.assert_array_equal(starts, [0, 3, 6])
    np.testing.assert_array_equal(W[1], [[3, 4, 5, 6], [103, 104, 105, 106]])
    with pytest.raises(DataError, match="shorter than one window"):
        sliding_windows(np.arange(3), 4)
    with pytest.raises(DataError, match="NaN"):
        sliding_windows(np.array([1.0, np.nan, 2.0, 3.0]), 2)
    with pytest.raises(ConfigError):
        window_starts(10, 0, 1)


# --- generator and loaders ---------------------------------------------------------------

def test_sine_benchmark_generator() -> None:
    ds = sine_benchmark(20, 3, length=200, seed=0)
    assert ds.X.shape == (38, 1, 200) and ds.mask.shape == (38, 200)
    assert set(ds.kind) == {"normal", *ANOMALY_KINDS}
    assert (ds.y == (ds.kind != "normal")).all()
    assert (ds.mask[ds.y == 1].sum(axis=1) > 0).all() and ds.mask[ds.y == 0].sum() == 0
    again = sine_benchmark(20, 3, length=200, seed=0)
    np.testing.assert_array_equal(ds.X, again.X)
    flat = ds.X[ds.kind == "flat"][:, 0]
    assert (np.diff(flat, axis=1) == 0).sum(axis=1).min() >= 9  # a frozen run of >= 5 % of 200 points
    assert np.abs(sine_mixtures(5, 1000)).max() < 3 * 1.5 + 0.5  # |A1+A2+A3| <= 4.5 plus noise


@pytest.mark.parametrize("name,shape,n_out", [
    ("cardio", (1831, 21), 176), ("arrhythmia", (452, 274), 66), ("lympho", (148, 18), 6),
    ("mitdb", (7500, 1), 352), ("yahoo", (1000, 1), 7),
])
def test_odds_and_series_loaders(name: str, shape: tuple[int, int], n_out: int) -> None:
    from aekit.data import load_dataset

    ds = load_dataset(name)
    assert ds.X.shape == shape and int(ds.y.sum()) == n_out and set(np.unique(ds.y)) == {0, 1}


# --- CLI ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_detect_and_score(table_csv, tmp_path) -> None:
    import json

    from tests.conftest import run_cli

    run = tmp_path / "run"
    res = run_cli("detect", str(table_csv), "--out", str(run), "-e", "3", "--contamination", "0.05")
    assert res.returncode == 0, res.stderr
    assert "roc_auc" in res.stdout
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["flagged"] == 6 and 0 <= metrics["roc_auc"] <= 1
    scored = (run / "scores.csv").read_text().splitlines()
    assert scored[0] == "row,score,is_anomaly,label" and scored[1].startswith("0,")  # each score says its row
    out = tmp_path / "scores.csv"
    res = run_cli("score", str(run), str(table_csv), "--out", str(out))
    assert res.returncode == 0, res.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "row,score,is_anomaly" and len(lines) == 121 and lines[-1].startswith("119,")
    bad = run_cli("detect", str(table_csv), "--threshold", "magic")
    assert bad.returncode == 2 and bad.stderr.startswith("aekit: error:") and len(bad.stderr.splitlines()) == 1
    narrow = tmp_path / "narrow.npy"
    np.save(narrow, np.zeros((4, 3), np.float32))
    for args, message in ((("score", str(run), str(narrow), "--out", str(tmp_path / "n.csv")), "features"),
                          (("score", str(run), str(table_csv), "--out", str(tmp_path / "n.txt")), ".csv")):
        bad = run_cli(*args)
        assert bad.returncode == 2 and message in bad.stderr and len(bad.stderr.splitlines()) == 1, bad.stderr
    assert not (tmp_path / "n.csv").exists() and not (tmp_path / "n.txt").exists()


def test_cli_denoising_detector_with_standardised_errors_round_trips(table_csv, tmp_path) -> None:
    import json

    from tests.conftest import run_cli

    run = tmp_path / "run"
    res = run_cli("detect", str(table_csv), "--out", str(run), "-e", "3",
                  "--noise", "dropout:p=0.5", "--standardize-errors")
    assert res.returncode == 0, res.stderr
    meta = json.loads((run / "model.json").read_text())
    assert meta["kind"] == "detector"
    est = meta["estimator"]
    assert est["params"]["standardize_errors"] is True and est["state"]["err_scale"] is not None
    assert est["params"]["noise"] == [{"kind": "dropout", "p": 0.5}]
    detected = np.loadtxt(run / "scores.csv", delimiter=",", skiprows=1)[:, 1]
    out = tmp_path / "again.csv"
    assert run_cli("score", str(run), str(table_csv), "--out", str(out)).returncode == 0
    np.testing.assert_allclose(np.loadtxt(out, delimiter=",", skiprows=1)[:, 1], detected, rtol=1e-6)


def test_series_detector_takes_the_table_detectors_options(tmp_path) -> None:
    import aekit

    s = sine_mixtures(1, length=600, seed=3)[0, 0]
    det = SeriesDetector(window=32, stride=4, max_epochs=2, noise=[{"kind": "gaussian", "sigma": 0.05}],
                         standardize_errors=True, reduction="max", scaling="minmax").fit(s)
    assert det.detector_.noise == [{"kind": "gaussian", "sigma": 0.05}] and det.detector_.err_scale_ is not None
    scores, starts = det.window_scores(s)
    assert scores.shape == starts.shape and det.anomaly_score(s).shape == (600,)
    back = aekit.load(det.save(tmp_path / "series"))
    assert isinstance(back, SeriesDetector)
    np.testing.assert_array_equal(back.anomaly_score(s), det.anomaly_score(s))
    np.testing.assert_array_equal(back.window_scores(s)[0], scores)


def test_sine_anomaly_experiment_command(tmp_path) -> None:
    """The English deck's Conv1D experiment as one command: per-kind ROC-AUC, a threshold chosen
    on held-out normal signals, precision/recall/F1, confusion matrix and two figures."""
    import json

    from tests.conftest import run_cli

    res = run_cli("sine-anomalies", "--n-train", "40", "--n-normal", "20", "--n-per-kind", "3", "--length", "64",
                  "-e", "2", "-o", str(tmp_path / "sine"))
    assert res.returncode == 0, res.stderr
    out = json.loads((tmp_path / "sine" / "sine_anomalies.json").read_text())
    (tn, fp), (fn, tp) = out["confusion_matrix"]
    assert tn + fp == 20 and fn + tp == 18 and 0 <= out["roc_auc"] <= 1
    assert {r["kind"] for r in out["per_kind"]} == {"spikes", "frequency_shift", "amplitude_change", "noise_burst",
                                                    "flat", "level_shift"}
    assert (tmp_path / "sine" / "sine_scores.png").is_file() and (tmp_path / "sine" / "sine_examples.png").is_file()
    assert "ROC-AUC" in res.stdout and "F1" in res.stdout
    bad = run_cli("sine-anomalies", "--length", "66", "-o", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "multiple of 4" in bad.stderr and not (tmp_path / "bad").exists()


def test_detect_shows_progress_unless_quiet(table_csv, tmp_path) -> None:
    from tests.conftest import run_cli

    loud = run_cli("detect", str(table_csv), "--out", str(tmp_path / "a"), "-e", "2")
    quiet = run_cli("detect", str(table_csv), "--out", str(tmp_path / "b"), "-e", "2", "--quiet")
    assert loud.returncode == 0 and quiet.returncode == 0, loud.stderr + quiet.stderr
    assert "epoch 1/2:" in loud.stdout and "epoch 2/2:" in loud.stdout  # not a terminal: one plain line per epoch
    assert "epoch 1/2" not in quiet.stdout


def test_detect_writes_a_whole_run_folder_with_a_filled_report(table_csv, tmp_path) -> None:
    """config.yaml, model, metrics, scores and report.html, like every training command; the report's
    overview has no placeholder, its metrics appear once, and a table gets per-feature errors by name."""
    from tests.conftest import run_cli

    run = tmp_path / "det"
    res = run_cli("detect", str(table_csv), "--out", str(run), "-e", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    for name in ("config.yaml", "model.json", "metrics.json", "scores.csv", "report.html", "figures/reconstructions.png"):
        assert (run / name).is_file(), name
    html = (run / "report.html").read_text()
    assert "data - (-)" not in html and "input shape ()" not in html and ".tmp" not in html
    assert html.count(">ROC-AUC<") == 1 and ">roc_auc<" not in html


def test_detect_set_takes_the_yaml_keys_train_takes(table_csv, tmp_path) -> None:
    import json

    from tests.conftest import run_cli

    res = run_cli("detect", str(table_csv), "--set", "model.latent_dim=2", "--set", "model.hidden=[8]", "-e", "1",
                  "--quiet", "--out", str(tmp_path / "d"))
    assert res.returncode == 0, res.stderr
    config = json.loads((tmp_path / "d" / "model.json").read_text())["config"]
    assert config["latent_dim"] == 2 and config["hidden"] == [8]
    bad = run_cli("detect", str(table_csv), "--set", "trainer.max_epochs=2", "--out", str(tmp_path / "e"))
    assert bad.returncode == 2 and "model.NAME" in bad.stderr
