"""AutoencoderReducer: scikit-learn transformer contract, Pipeline use, PCA equivalence, curve experiment."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit.apps.reduce import AutoencoderReducer
from aekit.experiments.reduction import ae_and_pca_at, curve_experiment, curve_figure, curve_points


@parametrize_with_checks([AutoencoderReducer(max_epochs=2, hidden=(8,))])
def test_sklearn_transformer_checks(estimator, check) -> None:
    check(estimator)


def _low_rank(n: int = 300, d: int = 10, rank: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d)) * 2.0
    return X + 0.3 * rng.standard_normal((n, d))


def test_linear_reducer_matches_pca_error() -> None:
    X = _low_rank()
    pca = PCA(n_components=3).fit(X)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2))
    ae = AutoencoderReducer(n_components=3, hidden=(), activation="identity", scaling="none", max_epochs=40,
                            batch_size=16, lr=1e-2, validation_fraction=0.0).fit(X)
    ae_mse = -ae.score(X)
    # PCA is the optimum of a linear code on the training data: the AE reaches it, not below
    assert pca_mse * (1 - 1e-4) <= ae_mse <= pca_mse * 1.05


def test_transform_shapes_dtypes_and_inverse() -> None:
    X = _low_rank(n=80, d=6)
    ae = AutoencoderReducer(n_components=2, hidden=(16,), max_epochs=3).fit(X)
    Z = ae.transform(X)
    assert Z.shape == (80, 2) and Z.dtype == np.float64
    assert ae.transform(X.astype(np.float32)).dtype == np.float32
    assert ae.inverse_transform(Z).shape == X.shape
    assert list(ae.get_feature_names_out()) == ["autoencoderreducer0", "autoencoderreducer1"]
    with pytest.raises(ValueError, match="n_components=2"):
        ae.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="features"):
        ae.transform(np.zeros((3, 5)))


def test_same_seed_same_codes_and_clone() -> None:
    X = _low_rank(n=60, d=5)
    a = AutoencoderReducer(max_epochs=3, random_state=4).fit(X).transform(X)
    b = clone(AutoencoderReducer(max_epochs=3, random_state=4)).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)


def test_pipeline_with_classifier() -> None:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(AutoencoderReducer(n_components=16, hidden=(64,), max_epochs=15), LogisticRegression(max_iter=500))
    pipe.fit(X[:1000], y[:1000])
    assert pipe.score(X[1000:1400], y[1000:1400]) > 0.7  # chance is 0.1


def test_ae_and_pca_at_one_code_size_report_both_errors() -> None:
    X = _low_rank(n=120, d=8)
    r = ae_and_pca_at(X[:100], X[100:], 2, hidden=(16,), max_epochs=3)
    assert r["pca_codes"].shape == r["ae_codes"].shape == (20, 2)
    assert r["pca_mse"] > 0 and r["ae_mse"] > 0


def test_curve_points_follow_the_function() -> None:
    P = curve_points(8, n=50, m=2.0, c=0.5)
    np.testing.assert_allclose(P[:, 1], 2.0 * P[:, 0] ** 8 + 0.5)


@pytest.mark.slow
def test_autoencoder_beats_pca_on_a_parabola(tmp_path) -> None:
    rows = curve_experiment(powers=(2,), n=200, max_epochs=120)
    r = rows[0]
    assert r["ae_mse"] < r["pca_mse"] / 5  # one non-linear dimension explains a curve; PCA's line cannot
    from aekit.plotting import save_figure

    assert save_figure(curve_figure(rows), tmp_path / "curves.png").stat().st_size > 0
