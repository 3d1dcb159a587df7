"""Few-shot classification: frozen encoder stays frozen, runs reproduce under a seed, baselines run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.apps.fewshot import (
    EncoderClassifier, FewShotClassifier, FewShotSettings, fewshot_benchmark, fit_classifier, sample_per_class, summarize,
)
from aekit.errors import DataError
from aekit.registry import build_model


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images[:, None].astype(np.float32), d.target


def _tiny_ae() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("mlp", {"input_shape": [1, 8, 8], "hidden": [32], "latent_dim": 8})


def test_frozen_training_leaves_encoder_weights_unchanged(digits) -> None:
    X, y = digits
    ae = _tiny_ae()
    before = {k: v.clone() for k, v in ae.state_dict().items()}
    clf = EncoderClassifier(ae, 10)
    head_before = clf.head.weight.detach().clone()
    losses = fit_classifier(clf, torch.from_numpy(X[:100] / 16), torch.from_numpy(y[:100]), steps=30, lr=1e-2,
                            freeze_encoder=True)
    after = ae.state_dict()
    for k, v in before.items():
        assert torch.equal(v, after[k]), k
    assert not torch.equal(head_before, clf.head.weight)
    assert losses[-1] < losses[0]
    assert all(p.requires_grad for p in ae.parameters())  # unfrozen again for later fine-tuning


def test_finetuning_changes_a_copy_not_the_callers_encoder(digits) -> None:
    X, y = digits
    ae = _tiny_ae()
    before = {k: v.clone() for k, v in ae.state_dict().items()}
    est = FewShotClassifier(encoder=ae, head_steps=20, finetune_steps=20).fit(X[:100], y[:100], X_unlabelled=X)
    for k, v in before.items():
        assert torch.equal(v, ae.state_dict()[k])
    tuned = est.classifier_.autoencoder.state_dict()
    assert any(not torch.equal(before[k], tuned[k]) for k in before)


def test_fewshot_classifier_is_reproducible(digits) -> None:
    X, y = digits
    kw = {"model": {"hidden": [32], "latent_dim": 8}, "pretrain_epochs": 2, "head_steps": 30, "finetune_steps": 10,
          "random_state": 3}
    a = FewShotClassifier(**kw).fit(X[:50], y[:50], X_unlabelled=X[:600])
    b = FewShotClassifier(**kw).fit(X[:50], y[:50], X_unlabelled=X[:600])
    np.testing.assert_array_equal(a.decision_function(X[600:700]), b.decision_function(X[600:700]))
    assert a.predict_proba(X[:5]).sum(1) == pytest.approx(np.ones(5), abs=1e-5)
    assert set(a.predict(X[:50])) <= set(range(10))


def test_benchmark_rows_reproducible_and_summarised(digits) -> None:
    X, y = digits
    s = FewShotSettings(shots=(1, 5), seeds=(0, 1), model={"hidden": [32], "latent_dim": 8}, pretrain_epochs=2,
                        head_steps=20, finetune_steps=5)
    rows = fewshot_benchmark(X[:800], y[:800], X[800:1000], y[800:1000], s)
    again = fewshot_benchmark(X[:800], y[:800], X[800:1000], y[800:1000], s)
    assert rows == again
    methods = {r["method"] for r in rows}
    assert methods == {"frozen encoder", "fine-tuned", "from scratch", "PCA + logreg"}
    summary = summarize(rows)
    assert len(summary) == 8 and all(r["runs"] == 2 and 0.0 <= r["mean"] <= 1.0 for r in summary)
    pca5 = next(r for r in summary if r["method"] == "PCA + logreg" and r["n"] == 5)
    assert pca5["mean"] > 0.3  # well above chance (0.1) with 5 labels per class


def test_sample_per_class() -> None:
    y = np.repeat(np.arange(3), 5)
    idx = sample_per_class(y, 2, seed=0)
    assert np.bincount(y[idx]).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(idx, sample_per_class(y, 2, seed=0))
    with pytest.raises(DataError, match="only 5"):
        sample_per_class(y, 6, seed=0)


def test_needs_two_classes(digits) -> None:
    X, _ = digits
    with pytest.raises(DataError, match="two classes"):
        FewShotClassifier(pretrained=False, head_steps=1).fit(X[:4], np.zeros(4))
