"""Few-shot classification: the three named stages run in order, the encoder is frozen in
the head stage and trained in fine-tuning, sampling is stratified and seeded, model
selection sees only labelled training examples, runs reproduce under a seed, baselines run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from aekit.apps.fewshot import (
    EncoderClassifier, FewShotClassifier, FewShotSettings, fewshot_benchmark, finetune_schedule, fit_classifier, fit_head,
    held_out_labels, sample_per_class, shifted_copies, summarize,
)
from aekit.errors import ConfigError, DataError
from aekit.registry import build_model

TINY = {"hidden": [32], "latent_dim": 8}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images[:, None].astype(np.float32), d.target


def _tiny_ae() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("mlp", {"input_shape": [1, 8, 8], **TINY})


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _stages(history: list[dict]) -> list[str]:
    """The stage names in the order they first appear."""
    return list(dict.fromkeys(r["stage"] for r in history))


def test_stages_run_in_order_pretrain_head_finetune(digits) -> None:
    X, y = digits
    idx = sample_per_class(y[:600], 5, seed=0)
    est = FewShotClassifier(model=TINY, max_epochs=2, finetune_steps=20, n_estimators=2, random_state=1)
    est.fit(X[idx], y[idx], X_unlabelled=X[:600])
    stages = [r["stage"] for r in est.history_]
    assert _stages(est.history_) == ["pretrain", "head", "finetune"]
    assert stages == sorted(stages, key=["pretrain", "head", "finetune"].index)  # no stage comes back later
    for m in (0, 1):  # every member runs every stage
        pretrain = [r for r in est.history_ if r["stage"] == "pretrain" and r["member"] == m]
        assert [r["epoch"] for r in pretrain] == [1, 2] and all("train/loss" in r for r in pretrain)  # the engine's rows
        assert len([r for r in est.history_ if r["stage"] == "head" and r["member"] == m]) == 1
        final = [r for r in est.history_ if r["stage"] == "finetune" and r["member"] == m and not r.get("selection")]
        assert len(final) == est.selected_steps_[m] and 0 <= est.selected_steps_[m] <= 20
    assert len(est.classifiers_) == 2 and est.classifier_ is est.classifiers_[0]


def test_head_stage_keeps_encoder_frozen(digits) -> None:
    X, y = digits
    ae = _tiny_ae()
    before = _state(ae)
    clf = EncoderClassifier(ae, 10)
    clf.fit_code_statistics(X[:500] / 16)
    head_before = clf.head.weight.detach().clone()
    row = fit_head(clf, torch.from_numpy(X[:100] / 16), torch.from_numpy(y[:100]), C=1.0)
    for k, v in before.items():
        assert torch.equal(v, ae.state_dict()[k]), k
    assert not torch.equal(head_before, clf.head.weight)
    assert row["stage"] == "head" and row["loss"] < np.log(10)  # better than uniform guessing on its labels


def test_frozen_adam_training_leaves_encoder_weights_unchanged(digits) -> None:
    X, y = digits
    ae = _tiny_ae()
    before = _state(ae)
    clf = EncoderClassifier(ae, 10)
    rows = fit_classifier(clf, torch.from_numpy(X[:100] / 16), torch.from_numpy(y[:100]), steps=30, lr=1e-2,
                          freeze_encoder=True)
    for k, v in before.items():
        assert torch.equal(v, ae.state_dict()[k]), k
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert all(p.requires_grad for p in ae.parameters())  # unfrozen again for later fine-tuning


def test_encoder_frozen_in_head_stage_trainable_in_finetune_stage(digits) -> None:
    X, y = digits
    ae = _tiny_ae()
    before = _state(ae)
    kw = {"encoder": ae, "validation_fraction": 0.0, "random_state": 0}
    probe = FewShotClassifier(finetune_steps=0, **kw).fit(X[:100], y[:100], X_unlabelled=X)
    tuned = FewShotClassifier(finetune_steps=20, **kw).fit(X[:100], y[:100], X_unlabelled=X)
    probe_state, tuned_state = probe.classifier_.autoencoder.state_dict(), tuned.classifier_.autoencoder.state_dict()
    for k, v in before.items():
        assert torch.equal(v, probe_state[k]), k  # stage "head" only: the encoder is exactly as pretrained
        assert torch.equal(v, ae.state_dict()[k]), k  # and the caller's model never changes
    assert any(not torch.equal(before[k], tuned_state[k]) for k in before if k.startswith("encoder"))
    assert _stages(probe.history_) == ["pretrain", "head"] and probe.history_[0]["given"]
    assert [r["step"] for r in tuned.history_ if r["stage"] == "finetune"] == list(range(1, 21))


def test_encoder_learns_slower_than_head_in_finetuning(digits, monkeypatch) -> None:
    X, y = digits
    ae = _tiny_ae()
    Xt, yt = torch.from_numpy(X[:100] / 16), torch.from_numpy(y[:100])
    seen: dict[str, float] = {}
    real_adam = torch.optim.Adam

    def spy(groups, **kw):  # record the learning rate of each parameter group
        for g in groups:
            seen["head" if any(p is clf.head.weight for p in g["params"]) else "encoder"] = g["lr"]
        return real_adam(groups, **kw)

    clf = EncoderClassifier(ae, 10)
    monkeypatch.setattr(torch.optim, "Adam", spy)
    fit_classifier(clf, Xt, yt, steps=2, lr=1e-3, encoder_lr=1e-4, freeze_encoder=False)
    assert seen == {"head": 1e-3, "encoder": 1e-4}


def test_finetune_schedule_grows_with_labels_per_class() -> None:
    assert finetune_schedule(1) == finetune_schedule(10) == (pytest.approx(1e-4), 200)
    assert finetune_schedule(100) == finetune_schedule(5000) == (pytest.approx(1e-3), 400)
    middle = [finetune_schedule(n) for n in (10, 20, 30, 50, 70, 100)]
    assert [lr for lr, _ in middle] == sorted(lr for lr, _ in middle) and len({lr for lr, _ in middle}) == 6
    assert [s for _, s in middle] == sorted(s for _, s in middle) and all(s % 10 == 0 for _, s in middle)
    assert finetune_schedule(30) == (pytest.approx(3e-4), 280)  # geometric: 3x the labels, 3x the rate


@pytest.mark.parametrize("per_class, given, expected", [
    (5, {}, (1e-4, 200)),
    (100, {}, (1e-3, 400)),
    (100, {"encoder_lr": 5e-4, "finetune_steps": 30}, (5e-4, 30)),  # given values win over the schedule
])
def test_finetuning_follows_the_labels_per_class_unless_given(digits, monkeypatch, per_class, given, expected) -> None:
    import aekit.apps.fewshot as fs

    X, y = digits
    idx = sample_per_class(y, per_class, seed=0)
    calls: list[tuple[int, float]] = []
    real = fs.fit_classifier

    def spy(clf, Xa, ya, **kw):  # record the schedule, train two steps only
        calls.append((kw["steps"], kw["encoder_lr"]))
        return real(clf, Xa, ya, **{**kw, "steps": min(kw["steps"], 2)})

    monkeypatch.setattr(fs, "fit_classifier", spy)
    est = FewShotClassifier(encoder=_tiny_ae(), augment_shift=0, validation_fraction=0.0, **given)
    est.fit(X[idx], y[idx], X_unlabelled=X[:300])
    assert (est.encoder_lr_, est.finetune_steps_) == (pytest.approx(expected[0]), expected[1])
    assert calls == [(expected[1], pytest.approx(expected[0]))]  # no held-out part: one fine-tuning of that many steps


def test_finetuning_steps_chosen_on_held_out_labels_only(digits) -> None:
    X, y = digits
    idx = sample_per_class(y, 10, seed=2)
    est = FewShotClassifier(encoder=_tiny_ae(), finetune_steps=30, validation_fraction=0.2, random_state=2)
    est.fit(X[idx], y[idx], X_unlabelled=X[:500])
    sel = [r for r in est.history_ if r.get("selection")]
    scored = [r for r in sel if "val_accuracy" in r]
    assert [r["step"] for r in scored] == [0, 10, 20, 30] and all(r["held_out"] == 20 for r in sel)
    best = max(r["val_accuracy"] for r in scored)
    assert est.selected_steps_ == [max(r["step"] for r in scored if r["val_accuracy"] == best)]  # one member
    # the held-out part is 2 of the 10 labels of every class, drawn from the labelled examples only
    tr, ho = held_out_labels(y[idx], 0.2, seed=2)
    assert np.bincount(y[idx][ho]).tolist() == [2] * 10 and np.bincount(y[idx][tr]).tolist() == [8] * 10
    assert set(tr).isdisjoint(ho) and len(tr) + len(ho) == len(idx)
    assert held_out_labels(np.arange(10) % 5, 0.5, seed=0) is not None
    assert held_out_labels(np.arange(5), 0.5, seed=0) is None  # one label per class: nothing to hold out


def test_benchmark_fits_never_see_test_examples_or_labels(digits, monkeypatch) -> None:
    X, y = digits
    X_pool, y_pool, X_test, y_test = X[:600], y[:600], X[600:800], y[600:800]
    fits: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    real_fit = FewShotClassifier.fit

    def recording_fit(self, X_l, y_l, X_unlabelled=None):
        fits.append((np.asarray(X_l), np.asarray(y_l), np.asarray(X_unlabelled)))
        return real_fit(self, X_l, y_l, X_unlabelled)

    monkeypatch.setattr(FewShotClassifier, "fit", recording_fit)
    s = FewShotSettings(shots=(3,), seeds=(0,), model=TINY, max_epochs=1, n_estimators=2, head_steps=20,
                        finetune_steps=10, validation_fraction=0.34)
    fewshot_benchmark(X_pool, y_pool, X_test, y_test, s)
    assert len(fits) == 3  # fine-tuned, frozen encoder, from scratch
    pool_rows = {r.tobytes() for r in X_pool}
    for X_l, y_l, X_u in fits:
        assert {r.tobytes() for r in X_l} <= pool_rows  # the labelled examples are training rows
        assert np.array_equal(X_u, X_pool)  # unlabelled data: the training pool, not the test set
        assert np.bincount(y_l).tolist() == [3] * 10


def test_fewshot_classifier_is_reproducible_and_clonable(digits) -> None:
    X, y = digits
    kw = {"model": TINY, "max_epochs": 2, "head_steps": 30, "finetune_steps": 10, "n_estimators": 2, "random_state": 3}
    a = FewShotClassifier(**kw).fit(X[:50], y[:50], X_unlabelled=X[:600])
    b = clone(FewShotClassifier(**kw)).fit(X[:50], y[:50], X_unlabelled=X[:600])
    np.testing.assert_array_equal(a.decision_function(X[600:700]), b.decision_function(X[600:700]))
    assert a.predict_proba(X[:5]).sum(1) == pytest.approx(np.ones(5), abs=1e-5)
    assert set(a.predict(X[:50])) <= set(range(10))
    assert a.get_params()["max_epochs"] == 2 and a.score(X[:50], y[:50]) > 0.3


def test_benchmark_rows_reproducible_and_summarised(digits) -> None:
    X, y = digits
    s = FewShotSettings(shots=(1, 5), seeds=(0, 1), model=TINY, max_epochs=2, n_estimators=2, head_steps=20,
                        finetune_steps=5)
    rows = fewshot_benchmark(X[:800], y[:800], X[800:1000], y[800:1000], s)
    again = fewshot_benchmark(X[:800], y[:800], X[800:1000], y[800:1000], s)
    assert rows == again
    methods = {r["method"] for r in rows}
    assert methods == {"frozen encoder", "fine-tuned", "from scratch", "PCA + logreg"}
    summary = summarize(rows)
    assert len(summary) == 8 and all(r["runs"] == 2 and 0.0 <= r["mean"] <= 1.0 for r in summary)
    pca5 = next(r for r in summary if r["method"] == "PCA + logreg" and r["n"] == 5)
    assert pca5["mean"] > 0.3  # well above chance (0.1) with 5 labels per class


def test_sample_per_class_is_stratified_and_seeded() -> None:
    y = np.repeat(np.arange(3), 5)
    idx = sample_per_class(y, 2, seed=0)
    assert np.bincount(y[idx]).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(idx, sample_per_class(y, 2, seed=0))
    draws = {tuple(sample_per_class(y, 2, seed=s)) for s in range(5)}
    assert len(draws) > 1  # the seed changes the draw
    with pytest.raises(DataError, match="only 5"):
        sample_per_class(y, 6, seed=0)


def test_needs_two_classes(digits) -> None:
    X, _ = digits
    with pytest.raises(DataError, match="two classes"):
        FewShotClassifier(pretrained=False, head_steps=1).fit(X[:4], np.zeros(4))


@pytest.mark.parametrize("params, message", [
    ({"max_epochs": 0}, "max_epochs must be an integer >= 1"),
    ({"encoder_lr": 0.0}, "encoder_lr must be > 0"),
    ({"validation_fraction": 1.0}, "validation_fraction must be in"),
    ({"finetune_steps": -1}, "finetune_steps must be >= 0"),
    ({"n_estimators": 0}, "n_estimators must be >= 1"),
    ({"augment_shift": -1}, "augment_shift must be >= 0"),
])
def test_bad_settings_refused_before_training(digits, params, message) -> None:
    X, y = digits
    with pytest.raises(ConfigError, match=message):
        FewShotClassifier(**params).fit(X[:20], y[:20])


def test_shifted_copies_translate_images_only() -> None:
    X = torch.zeros(2, 1, 4, 5)
    X[0, 0, 1, 2] = 1.0  # one bright pixel
    X[1, 0, 3, 4] = 2.0  # in the corner: moving it out of the image loses it
    y = torch.tensor([3, 7])
    Xa, ya = shifted_copies(X, y, 1)
    assert Xa.shape == (18, 1, 4, 5) and ya.tolist() == [3, 7] * 9
    assert torch.equal(Xa[8:10], X)  # the middle block: not moved
    moves = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    for k, (dy, dx) in enumerate(moves):  # copy k shows the image moved by (-dy, -dx): its pixel at (1 - dy, 2 - dx)
        assert Xa[2 * k, 0].nonzero().tolist() == [[1 - dy, 2 - dx]]
        assert Xa[2 * k + 1].sum().item() == (2.0 if (dy, dx) in ((0, 0), (1, 0), (0, 1), (1, 1)) else 0.0)
    flat, series = torch.ones(3, 8), torch.ones(3, 1, 8)
    assert shifted_copies(flat, y[:1].repeat(3), 1)[0] is flat and shifted_copies(series, y[:1].repeat(3), 2)[0] is series
    assert shifted_copies(X, y, 0)[0] is X


def test_heads_see_translations_and_held_out_labels_stay_out(digits, monkeypatch) -> None:
    """Stage "head" fits every labelled image and its 9 one-pixel translations; the fine-tuning
    selection trains on the translations of the kept labels only and scores the held-out images."""
    import aekit.apps.fewshot as fs

    X, y = digits
    idx = sample_per_class(y, 5, seed=0)
    seen: list[torch.Tensor] = []
    real = fs.fit_head

    def spy(clf, Xh, yh, **kw):
        seen.append(Xh.clone())
        return real(clf, Xh, yh, **kw)

    monkeypatch.setattr(fs, "fit_head", spy)
    est = FewShotClassifier(encoder=_tiny_ae(), finetune_steps=10, validation_fraction=0.2, random_state=0)
    est.fit(X[idx], y[idx], X_unlabelled=X[:500])
    Xs = torch.from_numpy(est.scaler_.transform(X[idx]))
    tr, ho = held_out_labels(y[idx], 0.2, seed=0)
    assert [len(a) for a in seen] == [9 * 50, 9 * len(tr)]  # the final head, then the selection's head
    assert torch.equal(seen[0], shifted_copies(Xs, torch.from_numpy(y[idx]), 1)[0])
    assert torch.equal(seen[1], shifted_copies(Xs[tr], torch.from_numpy(y[idx][tr]), 1)[0])
    held = {r.numpy().tobytes() for r in Xs[ho]}
    assert not held & {r.numpy().tobytes() for r in seen[1]}  # no held-out image among the selection's inputs


def test_ensemble_averages_members_and_round_trips(digits, tmp_path) -> None:
    import aekit

    X, y = digits
    idx = sample_per_class(y[:600], 3, seed=1)
    torch.manual_seed(5)
    members = [_tiny_ae(), build_model("mlp", {"input_shape": [1, 8, 8], **TINY}, seed=5)]
    est = FewShotClassifier(encoder=members, finetune_steps=10, random_state=0).fit(X[idx], y[idx], X_unlabelled=X[:600])
    assert len(est.classifiers_) == 2 and len(est.selected_steps_) == 2  # one member per given encoder
    Xs = torch.from_numpy(est.scaler_.transform(X[600:700]))
    with torch.no_grad():
        each = [torch.softmax(c(Xs).double(), 1).numpy() for c in est.classifiers_]
    np.testing.assert_allclose(est.predict_proba(X[600:700]), np.mean(each, 0), atol=1e-6)
    assert not np.allclose(each[0], each[1])  # two different members
    est.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    np.testing.assert_allclose(back.predict_proba(X[600:700]), est.predict_proba(X[600:700]), atol=1e-6)
    assert back.selected_steps_ == est.selected_steps_ and len(back.classifiers_) == 2
    (tmp_path / "run" / "members.safetensors").write_bytes(b"x")
    with pytest.raises(aekit.errors.ModelFileError, match="checksum"):
        aekit.load(tmp_path / "run")
    other = build_model("mlp", {"input_shape": [1, 8, 8], "hidden": [32], "latent_dim": 4})
    with pytest.raises(ConfigError, match="share one architecture"):  # could be saved, never loaded back
        FewShotClassifier(encoder=[_tiny_ae(), other], finetune_steps=2).fit(X[idx], y[idx], X_unlabelled=X[:600])


def test_scratch_members_differ_and_train_on_translations(digits) -> None:
    X, y = digits
    idx = sample_per_class(y, 2, seed=0)
    est = FewShotClassifier(pretrained=False, model=TINY, n_estimators=2, head_steps=5, random_state=0)
    est.fit(X[idx], y[idx], X_unlabelled=X[:300])
    a, b = (c.autoencoder.state_dict() for c in est.classifiers_)
    assert any(not torch.equal(a[k], b[k]) for k in a)  # fresh weights from each member's seed
    assert [r["member"] for r in est.history_ if r["stage"] == "scratch"] == [0] * 5 + [1] * 5
