"""Few-shot classification with a pretrained encoder (the Greek and Polish decks).

Pretrain an autoencoder on all the *unlabelled* data, put a linear classifier head on
its frozen encoder and train the head with only N labels per class, then optionally
fine-tune the whole network end to end. Baselines: the same network trained from
scratch on the N labels, and PCA (same code size) + logistic regression.

The head is trained by a small batched loop here rather than the autoencoder engine:
the engine trains ``Autoencoder.loss(x)`` on unlabelled batches, and a classifier needs
labels. With at most a few thousand labelled examples every step is one full batch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn
from torch.nn import functional as F

from aekit.apps._infer import batched, seeded_model
from aekit.errors import ConfigError, DataError
from aekit.models.base import Autoencoder

DEFAULT_MLP: dict[str, Any] = {"hidden": [256, 128], "latent_dim": 32, "output_activation": "sigmoid"}


class EncoderClassifier(nn.Module):
    """An autoencoder's encoder followed by a linear head: ``(B, *input_shape) -> (B, n_classes)`` logits."""

    def __init__(self, autoencoder: Autoencoder, n_classes: int) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.head = nn.Linear(autoencoder.latent_dim, n_classes)
        # codes are standardised with statistics of the unlabelled data, so one head
        # learning rate suits every encoder whatever the scale of its code
        self.register_buffer("code_shift", torch.zeros(autoencoder.latent_dim))
        self.register_buffer("code_scale", torch.ones(autoencoder.latent_dim))

    def forward(self, x: Tensor) -> Tensor:
        z = self.autoencoder.encode(x).flatten(1)  # (B, latent)
        return self.head((z - self.code_shift) / self.code_scale)

    @torch.no_grad()
    def fit_code_statistics(self, X: np.ndarray) -> None:
        """Set the code standardisation from (unlabelled) inputs ``X``."""
        self.autoencoder.eval()
        Z = torch.from_numpy(batched(lambda t: self.autoencoder.encode(t).flatten(1), X))
        self.code_shift.copy_(Z.mean(0))
        self.code_scale.copy_(Z.std(0).clamp_min(1e-6))

    def set_encoder_trainable(self, trainable: bool) -> None:
        """Freeze or unfreeze every autoencoder weight (the head always trains)."""
        for p in self.autoencoder.parameters():
            p.requires_grad_(trainable)


def fit_classifier(
    clf: EncoderClassifier, X: Tensor, y: Tensor, *, steps: int, lr: float, freeze_encoder: bool,
    batch_size: int = 1024, weight_decay: float = 0.0, seed: int = 0,
) -> list[float]:
    """Train ``clf`` with cross-entropy for ``steps`` Adam steps; returns the loss per step.

    ``freeze_encoder=True`` trains only the head and keeps the encoder in eval mode, so
    its weights (and any normalisation statistics) stay exactly as pretrained.
    """
    clf.set_encoder_trainable(not freeze_encoder)
    params = [p for p in clf.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    clf.train()
    if freeze_encoder:
        clf.autoencoder.eval()
    losses = []
    for _ in range(steps):
        idx = torch.randperm(len(X), generator=gen)[:batch_size] if len(X) > batch_size else slice(None)
        loss = F.cross_entropy(clf(X[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    clf.set_encoder_trainable(True)
    clf.eval()
    return losses


def pretrain_autoencoder(
    X: np.ndarray, family: str = "mlp", params: dict[str, Any] | None = None, *, epochs: int = 20,
    batch_size: int = 128, lr: float = 1e-3, seed: int = 0, val_fraction: float = 0.1, accelerator: str = "cpu",
) -> Autoencoder:
    """Train an autoencoder of ``family`` on unlabelled ``X`` (already scaled) with the shared engine."""
    from aekit.training import OptimConfig, TrainerConfig, fit_model

    p = dict(DEFAULT_MLP if family == "mlp" else {})
    p.update(params or {})
    p["input_shape"] = list(X.shape[1:])
    model = seeded_model(family, p, seed)
    perm = np.random.default_rng(seed).permutation(len(X))
    n_val = int(round(len(X) * val_fraction)) if len(X) >= 20 else 0
    return fit_model(
        model, X[perm[n_val:]], X[perm[:n_val]] if n_val else None,
        trainer=TrainerConfig(max_epochs=epochs, batch_size=batch_size, seed=seed, accelerator=accelerator),
        optim=OptimConfig(lr=lr),
    ).model


def sample_per_class(y: np.ndarray, n_per_class: int, seed: int) -> np.ndarray:
    """Indices of ``n_per_class`` examples of every class in ``y`` (seeded, sorted by class)."""
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) < n_per_class:
            raise DataError(f"class {c} has only {len(idx)} labelled examples, {n_per_class} asked for")
        out.append(rng.choice(idx, n_per_class, replace=False))
    return np.concatenate(out)


class FewShotClassifier(ClassifierMixin, BaseEstimator):
    """Linear head on a pretrained encoder, trained on few labels (scikit-learn classifier).

    ``fit(X, y, X_unlabelled=None)``: unless ``encoder`` (a trained :class:`Autoencoder`)
    is given, pretrains an autoencoder of ``family`` on ``X_unlabelled`` plus ``X``; then
    trains the head on the frozen encoder for ``head_steps`` and, with ``finetune_steps``
    > 0, fine-tunes end to end. ``pretrained=False`` gives the from-scratch baseline (same
    network, random weights, trained end to end on the labels for ``head_steps``).
    Inputs are scaled with a global min-max scaler fitted on the unlabelled data.
    """

    def __init__(
        self,
        encoder: Autoencoder | None = None,
        family: str = "mlp",
        model: dict[str, Any] | None = None,
        pretrained: bool = True,
        pretrain_epochs: int = 20,
        head_steps: int = 300,
        head_lr: float = 1e-2,
        finetune_steps: int = 0,
        finetune_lr: float = 1e-4,
        scratch_lr: float = 1e-3,
        random_state: int = 0,
        accelerator: str = "cpu",
    ) -> None:
        self.encoder = encoder
        self.family = family
        self.model = model
        self.pretrained = pretrained
        self.pretrain_epochs = pretrain_epochs
        self.head_steps = head_steps
        self.head_lr = head_lr
        self.finetune_steps = finetune_steps
        self.finetune_lr = finetune_lr
        self.scratch_lr = scratch_lr
        self.random_state = random_state
        self.accelerator = accelerator

    def fit(self, X: Any, y: Any, X_unlabelled: Any = None) -> "FewShotClassifier":
        from aekit.data.dataset import Scaler, check_array

        X = check_array(X, "labelled data")
        y = np.asarray(y)
        if len(y) != len(X):
            raise DataError(f"{len(y)} labels for {len(X)} examples")
        pool = X if X_unlabelled is None else np.concatenate([check_array(X_unlabelled, "unlabelled data"), X])
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError("few-shot classification needs at least two classes")
        self.scaler_ = Scaler("minmax", per_feature=False).fit(pool)
        ae = self._autoencoder(self.scaler_.transform(pool))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)  # the head's initial weights
            clf = EncoderClassifier(ae, len(self.classes_))
        if self.pretrained:
            clf.fit_code_statistics(self.scaler_.transform(pool))
        Xt, yt = torch.from_numpy(self.scaler_.transform(X)), torch.from_numpy(y_idx.astype(np.int64))
        if self.pretrained:
            fit_classifier(clf, Xt, yt, steps=self.head_steps, lr=self.head_lr, freeze_encoder=True, seed=self.random_state)
            if self.finetune_steps > 0:
                fit_classifier(clf, Xt, yt, steps=self.finetune_steps, lr=self.finetune_lr, freeze_encoder=False,
                               seed=self.random_state + 1)
        else:
            fit_classifier(clf, Xt, yt, steps=self.head_steps, lr=self.scratch_lr, freeze_encoder=False, seed=self.random_state)
        self.classifier_ = clf
        return self

    def _autoencoder(self, pool: np.ndarray) -> Autoencoder:
        if not self.pretrained:  # from scratch: the same architecture, fresh seeded weights
            if self.encoder is not None:
                from aekit.config import to_dict

                return seeded_model(self.encoder.family, to_dict(self.encoder.config), self.random_state)
            p = dict(DEFAULT_MLP if self.family == "mlp" else {})
            p.update(self.model or {})
            p["input_shape"] = list(pool.shape[1:])
            return seeded_model(self.family, p, self.random_state)
        if self.encoder is not None:
            if tuple(self.encoder.input_shape) != tuple(pool.shape[1:]):
                raise ConfigError(f"encoder expects {self.encoder.input_shape}, data has {pool.shape[1:]}")
            return copy.deepcopy(self.encoder)  # fine-tuning must not change the caller's model
        return pretrain_autoencoder(pool, self.family, self.model, epochs=self.pretrain_epochs,
                                    seed=self.random_state, accelerator=self.accelerator)

    def decision_function(self, X: Any) -> np.ndarray:
        """Class logits, shape ``(n_samples, n_classes)``."""
        from aekit.data.dataset import check_array

        check_is_fitted(self, "classifier_")
        return batched(self.classifier_, self.scaler_.transform(check_array(X, "input")))

    def predict_proba(self, X: Any) -> np.ndarray:
        logits = self.decision_function(X)
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(1)]


@dataclass
class FewShotSettings:
    shots: Sequence[int] = (1, 10, 100)  # labelled examples per class
    seeds: Sequence[int] = (0, 1, 2)  # label draws (and head/scratch initialisations)
    family: str = "mlp"  # autoencoder family
    model: dict[str, Any] = field(default_factory=dict)  # family parameters over the defaults
    pretrain_epochs: int = 20  # autoencoder epochs on the unlabelled data
    head_steps: int = 300  # full-batch Adam steps for the head (and for the scratch network)
    finetune_steps: int = 100  # end-to-end steps after the head; 0 skips fine-tuning
    accelerator: str = "cpu"

    def __post_init__(self) -> None:
        for name, values, low in (("shots", self.shots, 1), ("seeds", self.seeds, 0)):
            if not len(values):
                raise ConfigError(f"{name}: give at least one value")
            bad = [v for v in values if int(v) < low]
            if bad:
                raise ConfigError(f"{name} must be >= {low}, got {', '.join(map(str, bad))}")
            if len(set(values)) != len(values):
                raise ConfigError(f"{name} repeats a value: {', '.join(map(str, values))}")
        for name, low in (("pretrain_epochs", 1), ("head_steps", 1), ("finetune_steps", 0)):
            if int(getattr(self, name)) < low:
                raise ConfigError(f"{name} must be >= {low}, got {getattr(self, name)}")
        latent = self.model.get("latent_dim")
        if latent is not None and int(latent) < 1:
            raise ConfigError(f"latent_dim must be >= 1, got {latent}")


def check_benchmark_data(X_pool: np.ndarray, y_pool: np.ndarray, settings: FewShotSettings) -> None:
    """Refuse what :func:`fewshot_benchmark` would only find out after pretraining: more shots
    than the smallest class holds, fewer than two classes, or a code size PCA cannot fit."""
    classes, counts = np.unique(np.asarray(y_pool), return_counts=True)
    if len(classes) < 2:
        raise DataError("few-shot classification needs at least two classes")
    most = max(int(n) for n in settings.shots)
    if most > counts.min():
        c = classes[counts.argmin()]
        raise DataError(f"shots: {most} labelled examples per class asked for, but class {c} has only "
                        f"{counts.min()} in the training data")
    latent = settings.model.get("latent_dim", DEFAULT_MLP["latent_dim"] if settings.family == "mlp" else None)
    if latent is not None:
        _check_pca_size(int(latent), X_pool)


def _check_pca_size(k: int, X_pool: np.ndarray) -> None:
    n_features = int(np.prod(np.shape(X_pool)[1:]))
    top = min(len(X_pool), n_features)
    if k > top:
        raise ConfigError(f"latent_dim {k} is too large for the PCA baseline: {len(X_pool)} rows with "
                          f"{n_features} features allow at most {top}")


def fewshot_benchmark(
    X_pool: np.ndarray, y_pool: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, settings: FewShotSettings | None = None
) -> list[dict[str, Any]]:
    """Test accuracy of every method for every N and seed; one row per (method, N, seed).

    ``X_pool`` is all the training data: the autoencoder and PCA see it without labels;
    the classifiers see N labelled examples per class drawn from it.
    Methods: ``frozen encoder``, ``fine-tuned`` (if enabled), ``from scratch``, ``PCA + logreg``.
    The data are checked against the settings (:func:`check_benchmark_data`) before pretraining.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    s = settings or FewShotSettings()
    from aekit.data.dataset import Scaler

    check_benchmark_data(X_pool, y_pool, s)
    scaler = Scaler("minmax", per_feature=False).fit(X_pool)  # the same scaler every classifier fits
    # pretrained once, then copied into every classifier
    ae = pretrain_autoencoder(scaler.transform(X_pool), s.family, s.model, epochs=s.pretrain_epochs,
                              accelerator=s.accelerator)
    k = ae.latent_dim
    _check_pca_size(k, X_pool)  # families whose code size only the built model knows
    flat_pool = scaler.transform(X_pool).reshape(len(X_pool), -1)
    pca = PCA(n_components=k, random_state=0).fit(flat_pool)
    Z_pool, Z_test = pca.transform(flat_pool), pca.transform(scaler.transform(X_test).reshape(len(X_test), -1))
    rows: list[dict[str, Any]] = []
    for n in s.shots:
        for seed in s.seeds:
            idx = sample_per_class(y_pool, n, seed)
            Xl, yl = X_pool[idx], y_pool[idx]
            common = {"family": s.family, "model": s.model, "head_steps": s.head_steps, "random_state": seed}
            methods: dict[str, Any] = {
                "frozen encoder": FewShotClassifier(encoder=ae, **common),
                "from scratch": FewShotClassifier(encoder=ae, pretrained=False, **common),
            }
            if s.finetune_steps > 0:
                methods["fine-tuned"] = FewShotClassifier(encoder=ae, finetune_steps=s.finetune_steps, **common)
            for name, est in methods.items():
                # the pool scaler is passed via X_unlabelled so every method scales alike
                est.fit(Xl, yl, X_unlabelled=X_pool)
                rows.append({"method": name, "n": n, "seed": seed, "accuracy": float(np.mean(est.predict(X_test) == y_test))})
            lr = LogisticRegression(max_iter=2000).fit(Z_pool[idx], yl)
            rows.append({"method": "PCA + logreg", "n": n, "seed": seed, "accuracy": float(lr.score(Z_test, y_test))})
    return rows


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation of accuracy per (method, n), in first-seen order."""
    groups: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["n"]), []).append(r["accuracy"])
    return [{"method": m, "n": n, "mean": float(np.mean(v)), "std": float(np.std(v)), "runs": len(v)}
            for (m, n), v in groups.items()]


def accuracy_plot(summary: Sequence[dict[str, Any]], path: Any, title: str = "") -> Any:
    """Accuracy vs labels per class (log axis), one line with error bars per method."""
    from aekit.plotting import line_plot

    shots = sorted({r["n"] for r in summary})
    series = {}
    for m in dict.fromkeys(r["method"] for r in summary):
        by_n = {r["n"]: r for r in summary if r["method"] == m}
        series[m] = ([by_n[n]["mean"] for n in shots], [by_n[n]["std"] for n in shots])
    return line_plot(shots, series, path, "labels per class", "test accuracy", title, logx=True)


__all__ = [
    "EncoderClassifier", "FewShotClassifier", "FewShotSettings", "accuracy_plot", "check_benchmark_data",
    "fewshot_benchmark", "fit_classifier", "pretrain_autoencoder", "sample_per_class", "summarize",
]
