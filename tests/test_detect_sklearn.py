"""scikit-learn's own estimator checks for AutoencoderDetector (real checks, none skipped)."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit.apps.detect import AutoencoderDetector

# a configured instance keeps ~40 checks (each fitting a few times) fast: 3 epochs of a tiny MLP
FAST = AutoencoderDetector(model_params={"hidden": [8], "latent_dim": 2}, max_epochs=3, batch_size=64)


@parametrize_with_checks([FAST, AutoencoderDetector()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
