"""The table detector's defaults: an ensemble deterministic under a seed, one set of defaults shared
by ``aekit detect`` and ``AutoencoderDetector()``, and the default detector's save/load round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit.apps.detect import AutoencoderDetector, member_seeds
from aekit.errors import ConfigError, ModelFileError
from conftest import run_cli, table_rows

FAST = dict(max_epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    X = table_rows(120, 0)
    X[:4] += 6.0  # a few rows off the pattern
    return X


def test_ensemble_is_deterministic_under_a_seed(rows: np.ndarray) -> None:
    a = AutoencoderDetector(n_estimators=3, random_state=7, **FAST).fit(rows).anomaly_score(rows)
    b = AutoencoderDetector(n_estimators=3, random_state=7, **FAST).fit(rows).anomaly_score(rows)
    c = AutoencoderDetector(n_estimators=3, random_state=8, **FAST).fit(rows).anomaly_score(rows)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_ensemble_members_differ_and_the_first_is_the_single_detector(rows: np.ndarray) -> None:
    # the reconstruction scores alone: a lone member's score is then its reconstruction error as it is
    ens = AutoencoderDetector(n_estimators=3, random_state=3, code_distance="none", **FAST).fit(rows)
    one = AutoencoderDetector(n_estimators=1, random_state=3, code_distance="none", **FAST).fit(rows)
    assert len(ens.estimators_) == 3 and len(set(member_seeds(3, 3))) == 3
    w = [next(iter(m.state_dict().values())).numpy() for m in ens.estimators_]
    assert not np.allclose(w[0], w[1]) and not np.allclose(w[1], w[2])
    # the members train as one batched network: the first is the single detector up to float rounding
    np.testing.assert_allclose(ens._member_scores(ens._prepare(rows), 0), one.anomaly_score(rows), rtol=1e-4, atol=1e-6)
    # the ensemble's training scores are averaged robust z-scores: centred near 0
    assert abs(float(np.median(ens.train_scores_))) < 1.0


def test_bad_n_estimators_is_refused(rows: np.ndarray) -> None:
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="n_estimators"):
            AutoencoderDetector(n_estimators=bad, **FAST).fit(rows)


def test_default_detector_save_load_round_trip(rows: np.ndarray, tmp_path: Path) -> None:
    det = AutoencoderDetector(max_epochs=2).fit(rows)  # every other setting at its default
    det.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    assert isinstance(back, AutoencoderDetector) and back.get_params() == det.get_params()
    assert len(back.estimators_) == len(det.estimators_) == det.n_estimators
    np.testing.assert_array_equal(back.anomaly_score(rows), det.anomaly_score(rows))
    np.testing.assert_array_equal(back.predict(rows), det.predict(rows))


def test_ensemble_with_standardised_errors_round_trips(rows: np.ndarray, tmp_path: Path) -> None:
    det = AutoencoderDetector(n_estimators=2, standardize_errors=True, reduction="max", scaling="robust", **FAST).fit(rows)
    det.save(tmp_path / "run")
    np.testing.assert_array_equal(aekit.load(tmp_path / "run").anomaly_score(rows), det.anomaly_score(rows))


def test_a_damaged_member_file_is_refused(rows: np.ndarray, tmp_path: Path) -> None:
    AutoencoderDetector(n_estimators=2, **FAST).fit(rows).save(tmp_path / "run")
    members = tmp_path / "run" / "members.safetensors"
    members.write_bytes(members.read_bytes()[:-8])
    with pytest.raises(ModelFileError, match="checksum"):
        aekit.load(tmp_path / "run")
    members.unlink()
    with pytest.raises(ModelFileError, match="members.safetensors"):
        aekit.load(tmp_path / "run")


def test_cli_detect_trains_the_library_defaults(rows: np.ndarray, tmp_path: Path) -> None:
    """`aekit detect` with no options fits exactly AutoencoderDetector()'s parameters."""
    np.savetxt(tmp_path / "t.csv", rows[:60], delimiter=",", header=",".join(f"f{i}" for i in range(6)), comments="")
    r = run_cli("detect", str(tmp_path / "t.csv"), "--quiet", "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    saved = json.loads((tmp_path / "run" / "model.json").read_text())["estimator"]["params"]
    expected = json.loads(json.dumps(AutoencoderDetector().get_params(deep=False)))
    saved.pop("verbose"), expected.pop("verbose")  # --quiet: progress display only
    assert saved == expected
    # and what was trained is the same: the API's default detector on the same rows scores them identically
    cli = aekit.load(tmp_path / "run")
    api = AutoencoderDetector().fit(rows[:60])
    assert len(cli.estimators_) == len(api.estimators_) == api.n_estimators
    assert cli.threshold_.method == api.threshold_.method
    # (not bit-equal: the CLI's process trains on one thread, float sums round differently)
    np.testing.assert_allclose(cli.anomaly_score(rows), api.anomaly_score(rows), rtol=1e-3, atol=1e-3)
    assert cli.threshold_.value == pytest.approx(api.threshold_.value, rel=1e-3)


def test_cli_detect_options_reach_the_detector(rows: np.ndarray, tmp_path: Path) -> None:
    np.savetxt(tmp_path / "t.csv", rows[:60], delimiter=",")
    r = run_cli("detect", str(tmp_path / "t.csv"), "--quiet", "-e", "1", "--n-estimators", "2", "--scaling", "robust",
                "--threshold", "median_mad", "--max-features", "1", "--max-samples", "0.8", "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    det = aekit.load(tmp_path / "run")
    assert (det.n_estimators, det.scaling, det.max_epochs, det.threshold, det.max_features, det.max_samples) == \
        (2, "robust", 1, "median_mad", 1.0, 0.8)
    assert len(det.estimators_) == 2
    assert all((m.encoder[0].weight.detach().numpy() != 0).all() for m in det.estimators_)  # every column seen
    for flag, value, name in (("--n-estimators", "0", "n_estimators"), ("--max-features", "1.5", "max_features"),
                              ("--max-samples", "0", "max_samples")):
        bad = run_cli("detect", str(tmp_path / "t.csv"), "--quiet", flag, value, "--out", str(tmp_path / "bad"))
        assert bad.returncode == 2 and name in bad.stderr and "Traceback" not in bad.stderr
        assert not (tmp_path / "bad").exists()


def test_ensemble_exports_every_member_in_one_graph(rows: np.ndarray, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from aekit.export import export
    from aekit.runtime import load_exported

    det = AutoencoderDetector(n_estimators=3, **FAST).fit(rows)
    det.save(tmp_path / "run")
    m = load_exported(export(tmp_path / "run", tmp_path / "m.onnx"))
    np.testing.assert_allclose(m.score(rows), det.anomaly_score(rows), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(m.is_anomaly(rows), det.is_anomaly(rows))
    np.testing.assert_allclose(m.run_prepared(rows, ["error_map"])["error_map"], det.error_map(rows), rtol=1e-4, atol=1e-5)


def test_a_run_saved_before_ensembles_loads_as_one_autoencoder(rows: np.ndarray, tmp_path: Path) -> None:
    det = AutoencoderDetector(n_estimators=1, **FAST).fit(rows)
    det.save(tmp_path / "run")
    meta_path = tmp_path / "run" / "model.json"
    meta = json.loads(meta_path.read_text())
    est = meta["estimator"]
    del est["params"]["n_estimators"]  # what a detector saved before this setting existed holds
    for key in ("n_members", "member_loc", "member_spread", "member_errors"):
        del est["state"][key]
    meta_path.write_text(json.dumps(meta))
    back = aekit.load(tmp_path / "run")
    assert back.n_estimators == 1 and len(back.estimators_) == 1
    np.testing.assert_array_equal(back.anomaly_score(rows), det.anomaly_score(rows))


@pytest.mark.parametrize("settings", [
    dict(max_epochs=12, patience=1, lr=0.01),  # members stop at their own epochs (each with its own columns)
    dict(max_epochs=12, patience=1, lr=0.01, max_features=1.0),  # every member sees every column
    dict(max_epochs=3, noise=[{"kind": "dropout", "p": 0.3}], model_params={"tied": True}),  # own noise streams
])
def test_stacked_ensemble_trains_each_member_as_it_would_alone(rows: np.ndarray, settings: dict,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The MLP ensemble trains as one batched network; each member ends where training it alone ends
    (same seed, rows, noise, best epoch and early stopping), up to float rounding."""
    from aekit.models import ensemble

    stacked = AutoencoderDetector(n_estimators=3, random_state=5, batch_size=16, **settings).fit(rows)
    monkeypatch.setattr(ensemble, "can_stack", lambda models: False)  # the members one after another
    alone = AutoencoderDetector(n_estimators=3, random_state=5, batch_size=16, **settings).fit(rows)
    for a, b, ha, hb in zip(stacked.estimators_, alone.estimators_, stacked.histories_, alone.histories_):
        assert [r["epoch"] for r in ha] == [r["epoch"] for r in hb]  # early stopping ended it at the same epoch
        assert ha[-1].keys() == hb[-1].keys()
        assert ha[-1]["val/loss"] == pytest.approx(hb[-1]["val/loss"], rel=1e-4)
        for k, v in a.state_dict().items():
            np.testing.assert_allclose(v.numpy(), b.state_dict()[k].numpy(), atol=1e-5)
    if settings.get("patience") is not None:
        assert len({len(h) for h in stacked.histories_}) > 1, "the members should stop at different epochs here"
    np.testing.assert_allclose(stacked.anomaly_score(rows), alone.anomaly_score(rows), rtol=1e-4, atol=1e-4)


def test_feature_bagging_members_see_their_own_columns(rows: np.ndarray) -> None:
    """max_features: each member sees a fixed, seeded subset of the columns (zero first-layer weights
    elsewhere), reconstructs every column, and the detector is deterministic under a seed."""
    det = AutoencoderDetector(n_estimators=3, max_features=0.5, random_state=4, **FAST).fit(rows)
    seen = [np.abs(m.encoder[0].weight.detach().numpy()).sum(axis=0) > 0 for m in det.estimators_]
    assert [int(s.sum()) for s in seen] == [3, 3, 3]  # round(0.5 * 6) columns each
    assert len({tuple(s) for s in seen}) > 1  # the members' subsets differ
    m0, Xs = det.estimators_[0], det._prepare(rows)
    moved = Xs.copy()
    moved[:, ~seen[0]] += 5.0  # the columns member 0 does not see: its reconstruction ignores them
    import torch

    with torch.no_grad():
        a, b = m0.reconstruct(torch.from_numpy(Xs)), m0.reconstruct(torch.from_numpy(moved))
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    again = AutoencoderDetector(n_estimators=3, max_features=0.5, random_state=4, **FAST).fit(rows)
    other = AutoencoderDetector(n_estimators=3, max_features=0.5, random_state=5, **FAST).fit(rows)
    np.testing.assert_array_equal(again.anomaly_score(rows), det.anomaly_score(rows))
    assert not np.allclose(other.anomaly_score(rows), det.anomaly_score(rows))
    one = AutoencoderDetector(n_estimators=1, max_features=0.5, random_state=4, **FAST).fit(rows)  # one member too
    assert int((np.abs(one.model_.encoder[0].weight.detach().numpy()).sum(axis=0) > 0).sum()) == 3


def test_gathered_columns_train_as_the_masked_weight_does() -> None:
    """A member whose first layer keeps only its seen columns' weights (every member sees as many:
    the detector's masks) trains as the same member under a mask on the full weight (members that
    see different numbers of columns), and unstacks to a plain MLP with zeros on the unseen columns."""
    import torch

    from aekit.models.ensemble import MemberStack
    from aekit.models.mlp import MLPAutoencoder, MLPConfig

    cfg = MLPConfig(input_shape=(6,), hidden=[8], latent_dim=3, output_activation="identity")
    x = torch.from_numpy(table_rows(32, 1)).float()

    def train(stack: MemberStack) -> list[MLPAutoencoder]:
        opt = torch.optim.Adam(stack.parameters(), lr=0.01)
        for _ in range(4):
            opt.zero_grad()
            stack.loss(x).total.backward()
            opt.step()
        return stack.unstack()

    def member(seed: int) -> MLPAutoencoder:
        torch.manual_seed(seed)
        return MLPAutoencoder(cfg)

    seen = torch.tensor([[1, 0, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1]], dtype=torch.float32)
    gathered = MemberStack([member(0), member(1)], [0, 1], {0: seen[:1].expand(2, 6).clone()})
    assert gathered.weight0.shape == (2, 3, 8)  # only the seen columns' weights
    masked = MemberStack([member(0), member(1)], [0, 1], {0: seen})  # 3 and 5 columns: the mask path
    assert masked.weight0.shape == (2, 6, 8)
    a, b = train(gathered)[0], train(masked)[0]
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, b.state_dict()[k], rtol=1e-5, atol=1e-6)
    assert (a.encoder[0].weight[:, seen[0] == 0] == 0).all() and (a.encoder[0].weight[:, seen[0] == 1] != 0).all()
    with torch.no_grad():
        torch.testing.assert_close(gathered(x).x_hat[0], a.reconstruct(x), rtol=1e-5, atol=1e-6)


def test_feature_bagging_round_trips_and_exports(rows: np.ndarray, tmp_path: Path) -> None:
    det = AutoencoderDetector(n_estimators=2, max_features=0.4, **FAST).fit(rows)
    det.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    assert back.max_features == 0.4
    np.testing.assert_array_equal(back.anomaly_score(rows), det.anomaly_score(rows))
    pytest.importorskip("onnxruntime")
    from aekit.export import export
    from aekit.runtime import load_exported

    m = load_exported(export(tmp_path / "run", tmp_path / "m.onnx"))
    np.testing.assert_allclose(m.score(rows), det.anomaly_score(rows), rtol=1e-4, atol=1e-4)


def test_bad_max_features_is_refused(rows: np.ndarray) -> None:
    for bad in (0, 0.0, 1.5, -0.2, True, "half", None):
        with pytest.raises(ConfigError, match="max_features"):
            AutoencoderDetector(max_features=bad, **FAST).fit(rows)
    with pytest.raises(ConfigError, match="max_features < 1 needs the mlp family with untied weights, not tied weights"):
        AutoencoderDetector(max_features=0.5, model_params={"tied": True}, **FAST).fit(rows)
    with pytest.raises(ConfigError, match="max_features < 1 needs the mlp family with untied weights, not the 'vae'"):
        AutoencoderDetector(model="vae", max_features=0.5, **FAST).fit(rows)
    assert AutoencoderDetector(max_features=np.float32(0.5), n_estimators=2, **FAST).fit(rows).max_features == 0.5


def test_row_bagging_is_seeded_round_trips_and_is_refused_where_it_cannot_apply(rows: np.ndarray, tmp_path: Path) -> None:
    """max_samples: each member trains on its own seeded share of the rows; every member scores
    every row; deterministic under a seed, saved with the run, refused outside the mlp family."""
    det = AutoencoderDetector(n_estimators=3, max_samples=0.5, random_state=4, **FAST).fit(rows)
    again = AutoencoderDetector(n_estimators=3, max_samples=0.5, random_state=4, **FAST).fit(rows)
    every = AutoencoderDetector(n_estimators=3, max_samples=1.0, random_state=4, **FAST).fit(rows)
    np.testing.assert_array_equal(again.anomaly_score(rows), det.anomaly_score(rows))
    assert not np.allclose(every.anomaly_score(rows), det.anomaly_score(rows))
    assert AutoencoderDetector().max_samples == "auto"
    det.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    assert back.max_samples == 0.5
    np.testing.assert_array_equal(back.anomaly_score(rows), det.anomaly_score(rows))
    one = AutoencoderDetector(n_estimators=1, max_samples=0.5, random_state=4, **FAST).fit(rows)  # a stack of one
    assert np.isfinite(one.anomaly_score(rows)).all()
    AutoencoderDetector(max_samples=0.5, n_estimators=2, model_params={"tied": True}, **FAST).fit(rows)  # rows: tied is fine
    for bad in (0, 1.5, True, "half", None):
        with pytest.raises(ConfigError, match="max_samples"):
            AutoencoderDetector(max_samples=bad, **FAST).fit(rows)
    with pytest.raises(ConfigError, match="max_samples < 1 needs the mlp family, not the 'vae'"):
        AutoencoderDetector(model="vae", max_samples=0.5, **FAST).fit(rows)


def test_auto_max_features_bags_plain_mlp_members_only(rows: np.ndarray) -> None:
    """The default ("auto") gives plain MLP members 30 % of the columns each; a tied MLP or a given
    model instance keeps every column (no error), and the default detector is the bagged one."""
    from aekit.models.mlp import MLPAutoencoder, MLPConfig

    def seen(det: AutoencoderDetector) -> list[int]:
        return [int((np.abs(m.encoder[0].weight.detach().numpy()).sum(axis=0) > 0).sum()) for m in det.estimators_]

    assert AutoencoderDetector().max_features == "auto"
    assert seen(AutoencoderDetector(n_estimators=2, **FAST).fit(rows)) == [2, 2]  # round(0.3 * 6)
    assert seen(AutoencoderDetector(n_estimators=2, model_params={"tied": True}, **FAST).fit(rows)) == [6, 6]
    given = MLPAutoencoder(MLPConfig(input_shape=(6,), hidden=[8], latent_dim=3, output_activation="identity"))
    assert seen(AutoencoderDetector(model=given, n_estimators=2, **FAST).fit(rows)) == [6, 6]


@pytest.fixture(scope="module")
def two_groups() -> tuple[np.ndarray, np.ndarray]:
    """Normal rows in two separate groups, and rows lying between them (outliers no reconstruction misses)."""
    rng = np.random.default_rng(0)
    normal = np.r_[rng.normal(0.0, 1.0, (150, 6)), rng.normal(5.0, 1.0, (150, 6))]
    return normal, rng.normal(2.5, 0.3, (10, 6))


def test_code_distance_catches_rows_between_the_normal_groups(two_groups: tuple[np.ndarray, np.ndarray]) -> None:
    """The rows between two normal groups lie on the line the autoencoder reconstructs, so their
    reconstruction error is small; their codes lie away from every group of normal codes."""
    from aekit.apps.metrics import roc_auc

    normal, between = two_groups
    X, y = np.r_[normal, between], np.r_[np.zeros(len(normal)), np.ones(len(between))]
    knn = AutoencoderDetector(max_epochs=5, random_state=0, code_distance="knn").fit(normal)
    recon = AutoencoderDetector(max_epochs=5, random_state=0).fit(normal)  # the default: reconstruction alone
    assert recon.code_distance == "none" and recon.code_ref_ is None
    assert roc_auc(y, knn.anomaly_score(X)) > 0.95 > roc_auc(y, recon.anomaly_score(X))
    assert knn.is_anomaly(between).all()
    # the code part is bounded: one member's reference holds every training row (fewer than 2,000), standardised
    shift, scale, ref = knn.code_ref_[0]
    assert ref.shape == (len(normal), knn.estimators_[0].latent_dim)
    np.testing.assert_allclose(ref.mean(axis=0), 0.0, atol=1e-9)
    # a row scores the same alone as in a batch (scikit-learn's subset invariance)
    np.testing.assert_allclose(knn.anomaly_score(X[:1]), knn.anomaly_score(X)[:1], rtol=1e-12)


def test_code_distance_round_trips_exports_and_refuses_a_damaged_file(two_groups, tmp_path: Path) -> None:
    normal, between = two_groups
    det = AutoencoderDetector(n_estimators=3, random_state=1, code_distance="knn", **FAST).fit(normal)
    X = np.r_[normal[::10], between]
    det.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    assert back.code_distance == "knn" and len(back.code_ref_) == 3
    np.testing.assert_array_equal(back.anomaly_score(X), det.anomaly_score(X))
    pytest.importorskip("onnxruntime")
    from aekit.export import export
    from aekit.runtime import load_exported

    m = load_exported(export(tmp_path / "run", tmp_path / "m.onnx"))
    np.testing.assert_allclose(m.score(X), det.anomaly_score(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(m.is_anomaly(X), det.is_anomaly(X))
    codes = tmp_path / "run" / "codes.safetensors"
    codes.write_bytes(codes.read_bytes()[:-8])
    with pytest.raises(ModelFileError, match="checksum"):
        aekit.load(tmp_path / "run")
    codes.unlink()
    with pytest.raises(ModelFileError, match="codes.safetensors"):
        aekit.load(tmp_path / "run")


def test_a_run_saved_before_code_distances_scores_by_reconstruction(two_groups, tmp_path: Path) -> None:
    normal, between = two_groups
    det = AutoencoderDetector(n_estimators=2, random_state=0, code_distance="none", **FAST).fit(normal)
    det.save(tmp_path / "run")
    meta_path = tmp_path / "run" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["estimator"]["params"].pop("code_distance")  # as an older aekit wrote it
    meta["estimator"]["state"].pop("code_distance")
    meta_path.write_text(json.dumps(meta))
    back = aekit.load(tmp_path / "run")
    assert back.code_distance == "none"
    np.testing.assert_array_equal(back.anomaly_score(between), det.anomaly_score(between))


def test_bad_code_distance_is_refused(rows: np.ndarray, tmp_path: Path) -> None:
    for bad in ("mean", None, True, "KNN"):
        with pytest.raises(ConfigError, match="code_distance"):
            AutoencoderDetector(code_distance=bad, **FAST).fit(rows)
    np.savetxt(tmp_path / "t.csv", rows[:60], delimiter=",")
    bad = run_cli("detect", str(tmp_path / "t.csv"), "--quiet", "--code-distance", "far", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "code_distance" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()
    for flag, value in (("--code-distance", "knn"), ("--n-estimators", "2"), ("--max-features", "0.5")):
        series = run_cli("detect", str(tmp_path / "t.csv"), "--series", "--quiet", flag, value, "--out", str(tmp_path / "bad"))
        assert series.returncode == 2 and "are for tables" in series.stderr and "Traceback" not in series.stderr
    ok = run_cli("detect", str(tmp_path / "t.csv"), "--quiet", "-e", "1", "--code-distance", "none", "--out", str(tmp_path / "run"))
    assert ok.returncode == 0, ok.stderr
    assert aekit.load(tmp_path / "run").code_ref_ is None


def test_code_distance_threshold_holds_on_new_normal_rows() -> None:
    """A row leaves its own copy out of its neighbours, so a threshold set on the training rows flags
    about the asked share of *new* normal rows (counting itself made every training row look closer
    than a new one: twice the share was flagged) and of the training rows scored again."""
    rng = np.random.default_rng(1)

    def groups(n: int) -> np.ndarray:
        return rng.normal(size=(n, 10)) * 0.5 + rng.integers(0, 3, n)[:, None] * 2.0

    X = groups(800)
    det = AutoencoderDetector(max_epochs=3, n_estimators=3, code_distance="knn", contamination=0.05, random_state=0).fit(X)
    assert 0.025 <= det.is_anomaly(groups(2000)).mean() <= 0.08
    # the training rows scored again get their training scores (each leaves its own copy out), so
    # fit_predict, `aekit detect` and the threshold agree: the asked share of them is flagged
    np.testing.assert_array_equal(det.anomaly_score(X), det.train_scores_)
    assert det.is_anomaly(X).mean() == pytest.approx(0.05, abs=0.002)
    assert (det.fit_predict(X) == -1).mean() == pytest.approx(0.05, abs=0.002)
