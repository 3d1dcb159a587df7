"""Few-shot classification with a pretrained encoder (the Greek and Polish decks).

The Polish deck's semi-supervised schedule, run as three named stages whose rows make up
``FewShotClassifier.history_``:

1. ``"pretrain"``: a denoising autoencoder learns from all the *unlabelled* data
   (the shared engine, :func:`aekit.training.fit_model`);
2. ``"head"``: the decoder is replaced by a linear classifier, trained on the N labels
   per class with the encoder frozen (L2-regularised logistic regression on the
   standardised codes, scikit-learn's solver; its weights become the network's head);
3. ``"finetune"``: the whole network is trained end to end with cross-entropy, the
   encoder at a smaller learning rate than the head with few labels, at the head's rate
   (and for longer) with many (:func:`finetune_schedule`). With ``validation_fraction``
   > 0 and at least two labels per class, the number of fine-tuning steps is chosen on a held-out
   part of the *labelled* examples (stages 2-3 rerun on the rest), then stages 2-3 are
   refitted on all the labels with that number.

By default the classifier is an ensemble of three such networks (one autoencoder each,
seeded apart; every row of ``history_`` names its ``"member"``) whose class probabilities
are averaged, and for images stages 2-3 train on the labelled images plus their
translations by one pixel (:func:`shifted_copies`).

Why these defaults (chosen on validation splits of the training sets, never on test
labels; numbers in ``docs/applications.md``, rerun with ``benchmarks/fewshot.py``): the
masking-noise (denoising) code with a regularised probe separated Fashion-MNIST classes
better than PCA's components, a plain autoencoder's code or a VAE's posterior means;
fine-tuning from that head with a 10x smaller encoder learning rate added 1-2 points at
N >= 5 on Fashion-MNIST; three members and one-pixel translations added about another
point (chosen on label draws 0-4 of the validation split, confirmed on draws 5-9;
``benchmarks/fewshot_select.py``). At 100 labels per class that slow encoder fell behind
the same networks trained from scratch on MNIST 5k; an encoder at the head's rate for up
to 400 steps caught up (Fashion-MNIST gained too), hence :func:`finetune_schedule`.
Baselines: the same networks trained from scratch on the N labels (same ensemble and
translations), and PCA (same code size) + logistic regression.

The classifier stages use a small full-batch loop here rather than the autoencoder
engine: the engine trains ``Autoencoder.loss(x)`` on unlabelled batches, and a classifier
needs labels. With at most a few thousand labelled examples every step is one batch.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn
from torch.nn import functional as F

from aekit.apps.base import AutoencoderEstimator, load_members, member_seeds, save_members
from aekit.errors import ConfigError, DataError
from aekit.models.base import Autoencoder
from aekit.registry import build_model
from aekit.runs import batched

DEFAULT_MLP: dict[str, Any] = {"hidden": [256, 128], "latent_dim": 32, "output_activation": "sigmoid"}
# masking noise: the denoising code separated Fashion-MNIST classes better than a plain one
DEFAULT_NOISE: tuple[dict[str, Any], ...] = ({"kind": "masking", "fraction": 0.3},)
STAGES = ("pretrain", "head", "finetune")


class EncoderClassifier(nn.Module):
    """An autoencoder's encoder followed by a linear head: ``(B, *input_shape) -> (B, n_classes)`` logits."""

    def __init__(self, autoencoder: Autoencoder, n_classes: int) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.head = nn.Linear(autoencoder.latent_dim, n_classes)
        # codes are standardised with statistics of the unlabelled data, so one head
        # learning rate (and one L2 strength) suits every encoder whatever its code's scale
        self.register_buffer("code_shift", torch.zeros(autoencoder.latent_dim))
        self.register_buffer("code_scale", torch.ones(autoencoder.latent_dim))

    def codes(self, x: Tensor) -> Tensor:
        """Standardised codes, ``(B, *input_shape) -> (B, latent)``."""
        return (self.autoencoder.encode(x).flatten(1) - self.code_shift) / self.code_scale

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.codes(x))

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


def fit_head(clf: EncoderClassifier, X: Tensor, y: Tensor, *, C: float = 0.1, max_iter: int = 300) -> dict[str, float]:
    """Stage "head": logistic regression on the frozen encoder's standardised codes.

    ``X`` ``(n, *input_shape)``, ``y`` ``(n,)`` class indices ``0..n_classes-1`` (every
    class present). The encoder only runs forward under ``no_grad`` in eval mode, so its
    weights and statistics stay exactly as pretrained. ``C`` is scikit-learn's inverse L2
    strength. Returns the stage's history row (training cross-entropy in nats).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf.eval()
    with torch.no_grad():
        Z = clf.codes(X).numpy()
    yn = y.numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a capped max_iter is the caller's choice
        lr = LogisticRegression(C=C, max_iter=max_iter).fit(Z, yn)
    with torch.no_grad():
        clf.head.weight.copy_(torch.from_numpy(lr.coef_.astype(np.float32)))
        clf.head.bias.copy_(torch.from_numpy(lr.intercept_.astype(np.float32)))
        loss = float(F.cross_entropy(clf.head(torch.from_numpy(Z)), y))
    return {"stage": "head", "step": int(np.max(lr.n_iter_)), "loss": loss}


def fit_classifier(
    clf: EncoderClassifier, X: Tensor, y: Tensor, *, steps: int, lr: float, freeze_encoder: bool,
    encoder_lr: float | None = None, batch_size: int = 1024, weight_decay: float = 0.0, seed: int = 0,
    evaluate: Callable[[], float] | None = None, eval_every: int = 10,
) -> list[dict[str, float]]:
    """Train ``clf`` with cross-entropy for ``steps`` Adam steps; one history row per step.

    ``freeze_encoder=True`` trains only the head and keeps the encoder in eval mode, so
    its weights (and any normalisation statistics) stay exactly as pretrained. Otherwise
    the encoder trains at ``encoder_lr`` (default ``lr``). ``evaluate`` (no arguments,
    returns an accuracy) is called before the first step and every ``eval_every`` steps;
    its value is the row's ``"val_accuracy"``.
    """
    clf.set_encoder_trainable(not freeze_encoder)
    groups = [{"params": list(clf.head.parameters()), "lr": lr}]
    if not freeze_encoder:
        groups.append({"params": list(clf.autoencoder.parameters()), "lr": lr if encoder_lr is None else encoder_lr})
    opt = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    rows: list[dict[str, float]] = []

    def check(step: int) -> None:
        if evaluate is not None and step % eval_every == 0:
            clf.eval()
            rows.append({"step": step, "val_accuracy": float(evaluate())})
            clf.train()
            if freeze_encoder:
                clf.autoencoder.eval()

    clf.train()
    if freeze_encoder:
        clf.autoencoder.eval()
    check(0)
    for t in range(steps):
        idx = torch.randperm(len(X), generator=gen)[:batch_size] if len(X) > batch_size else slice(None)
        loss = F.cross_entropy(clf(X[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        rows.append({"step": t + 1, "loss": float(loss.detach())})
        check(t + 1)
    clf.set_encoder_trainable(True)
    clf.eval()
    return rows


def shifted_copies(X: Tensor, y: Tensor, shift: int) -> tuple[Tensor, Tensor]:
    """The labelled images and every translation of them by up to ``shift`` pixels.

    ``X`` ``(n, C, H, W)`` (scaled inputs), ``y`` ``(n,)``; returns ``((2 shift + 1)² n, C, H, W)``
    images (vertical moves outer, horizontal inner, each from ``-shift`` to ``shift``; the
    unmoved originals are the middle block) and their labels. Pixels moved in from outside
    are 0, the minimum of min-max scaled data. Other shapes (feature vectors, series) and ``shift=0`` come back unchanged: a translation
    only means "the same object" for images.
    """
    if shift <= 0 or X.dim() != 4:
        return X, y
    h, w = X.shape[-2:]
    padded = F.pad(X, (shift, shift, shift, shift))
    moves = range(-shift, shift + 1)
    copies = [padded[..., shift + dy:shift + dy + h, shift + dx:shift + dx + w] for dy in moves for dx in moves]
    return torch.cat(copies), y.repeat(len(copies))


def new_autoencoder(X: np.ndarray, family: str = "mlp", params: dict[str, Any] | None = None, seed: int = 0) -> Autoencoder:
    """The untrained autoencoder of stage "pretrain" for inputs like ``X``: ``family`` with the few-shot
    defaults (:data:`DEFAULT_MLP` for ``mlp``) under ``params``, seeded."""
    p = dict(DEFAULT_MLP if family == "mlp" else {})
    p.update(params or {})
    p["input_shape"] = list(X.shape[1:])
    return build_model(family, p, seed=seed)


def pretrain_autoencoder(
    X: np.ndarray, family: str = "mlp", params: dict[str, Any] | None = None, *, max_epochs: int = 20,
    batch_size: int = 128, lr: float = 1e-3, random_state: int = 0, validation_fraction: float = 0.1,
    noise: Sequence[dict[str, Any]] | None = DEFAULT_NOISE, device: str = "cpu", seed: int | None = None,
) -> Any:
    """Stage "pretrain" on its own (the benchmark pretrains once and shares it): an autoencoder of
    ``family`` trained on unlabelled ``X`` (already scaled) through the classifier's own path into the
    engine. ``random_state`` picks the best-epoch validation rows; ``seed`` (default ``random_state``,
    an ensemble member's seed in the classifier) the weights, shuffling and corruption. Returns the
    engine's :class:`~aekit.training.engine.FitResult`."""
    est = FewShotClassifier(family=family, model=params, max_epochs=max_epochs, batch_size=batch_size, lr=lr,
                            random_state=random_state, validation_fraction=validation_fraction,
                            noise=tuple(noise) if noise else None, device=device)
    seed = random_state if seed is None else seed
    return est._fit_engine(new_autoencoder(X, family, params, seed), X, seed=seed)


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


# The fine-tuning schedule's ends (labels per class -> encoder learning rate, most steps), chosen on
# validation splits of Fashion-MNIST and MNIST 5k (docs/applications.md): with few labels a slow
# encoder keeps the pretrained features; with many, a faster and longer fine-tuning uses them.
FEW_LABELS, MANY_LABELS = (10, 1e-4, 200), (100, 1e-3, 400)


def finetune_schedule(labels_per_class: float) -> tuple[float, int]:
    """The default fine-tuning (encoder learning rate, most steps) for ``labels_per_class`` labels.

    Up to 10 labels per class: ``(1e-4, 200)``; from 100: ``(1e-3, 400)``; in between both
    grow geometrically with the labels per class (30 labels: ``(3e-4, 280)``). The
    steps are a multiple of 10, the held-out selection's grid.
    """
    (n0, lr0, steps0), (n1, lr1, steps1) = FEW_LABELS, MANY_LABELS
    t = float(np.clip(np.log(max(float(labels_per_class), 1e-12) / n0) / np.log(n1 / n0), 0.0, 1.0))
    return float(lr0 * (lr1 / lr0) ** t), int(10 * round(steps0 * (steps1 / steps0) ** t / 10))


def held_out_labels(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Stratified (train, held-out) indices into the labelled examples ``y``, or ``None``.

    Every class gives ``max(1, round(fraction * n_c))`` of its ``n_c`` examples and keeps
    at least one; ``None`` when ``fraction`` is 0 or some class has a single label (N = 1).
    """
    if fraction <= 0:
        return None
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) < 2:
            return None
        k = min(len(idx) - 1, max(1, int(round(fraction * len(idx)))))
        held.append(rng.choice(idx, k, replace=False))
    ho = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(y)), ho), ho


class FewShotClassifier(ClassifierMixin, AutoencoderEstimator):
    """Pretrain, linear head on the frozen encoder, fine-tune: a scikit-learn classifier.

    ``fit(X, y, X_unlabelled=None)`` runs the stages of the module docstring and records
    them in ``history_`` (rows with a ``"stage"`` key, in order, and the ``"member"`` they
    belong to). It fits an ensemble of ``n_estimators`` members whose class probabilities
    are averaged; each member is one autoencoder with its own head and fine-tuning.
    Stage "pretrain" trains a denoising autoencoder of ``family`` per member on
    ``X_unlabelled`` plus ``X`` for ``max_epochs`` (``batch_size``, ``lr``, ``noise``,
    ``validation_fraction`` of it for the best epoch; member seeds from ``random_state``)
    unless ``encoder`` is given: a trained :class:`Autoencoder` or a list of them (one
    member each, whatever ``n_estimators``), copied, never changed.
    Stage "head": logistic regression with inverse L2 strength ``head_C``, at most
    ``head_steps`` solver iterations. Stage "finetune": at most ``finetune_steps`` full-batch
    Adam steps, head at ``finetune_lr``, encoder at ``encoder_lr``; 0 keeps the frozen-code
    probe. Left at ``None``, both follow the labels per class (:func:`finetune_schedule`:
    ``1e-4`` and 200 steps up to 10 labels per class, ``1e-3`` and 400 from 100); the
    values used are ``encoder_lr_`` and ``finetune_steps_``. With ``validation_fraction`` > 0
    and two or more labels per class, the number of steps is chosen per member on that
    fraction of the labelled examples (``selected_steps_``, one per member). Images
    ``(n, C, H, W)``: stages "head" and "finetune" see every labelled image translated by
    up to ``augment_shift`` pixels (:func:`shifted_copies`; held-out labels are never
    translated into the training part).
    ``pretrained=False`` is the from-scratch baseline: the same members, random weights,
    trained end to end on the (translated) labels for ``head_steps`` steps at ``scratch_lr``.
    Inputs are scaled with a global min-max scaler fitted on the unlabelled data.

    Defaults that differ from :data:`~aekit.apps.base.TRAINING_SETTINGS` (the pretraining's
    settings): 20 epochs, batches of 128 and 30 % input masking, chosen on a validation
    split of the training sets (docs/applications.md): a denoising autoencoder's codes made
    the best features for few labels, and longer pretraining did not help. Three members
    and 1-pixel translations were chosen the same way (label draws 0-4 of that split,
    confirmed on draws 5-9): together they added about a point over PCA + logistic
    regression at N <= 10 on Fashion-MNIST, most at one label per class. The fine-tuning
    schedule was chosen the same way on both data sets: at 100 labels per class the slow,
    short fine-tuning fell behind the same networks trained from scratch on MNIST 5k.
    """

    kind = "fewshot"
    params = {
        "encoder": None, "family": "mlp", "model": None, "pretrained": True, "n_estimators": 3, "augment_shift": 1,
        "head_C": 0.1, "head_steps": 300, "finetune_steps": None, "finetune_lr": 1e-3, "encoder_lr": None,
        "scratch_lr": 1e-3,
    }
    settings = {"max_epochs": 20, "batch_size": 128, "noise": DEFAULT_NOISE}

    def _check_params(self) -> None:
        self._check_settings()
        for name, low in (("n_estimators", 1), ("augment_shift", 0), ("head_steps", 1), ("finetune_steps", 0)):
            if getattr(self, name) is not None and int(getattr(self, name)) < low:  # None: finetune_schedule's
                raise ConfigError(f"{name} must be >= {low}, got {getattr(self, name)}")
        for name in ("head_C", "finetune_lr", "encoder_lr", "scratch_lr"):
            if getattr(self, name) is not None and not float(getattr(self, name)) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")

    def fit(self, X: Any, y: Any, X_unlabelled: Any = None) -> "FewShotClassifier":
        from aekit.data.dataset import Scaler, check_array

        self._check_params()
        X = check_array(X, "labelled data")
        y = np.asarray(y)
        if len(y) != len(X):
            raise DataError(f"{len(y)} labels for {len(X)} examples")
        pool = X if X_unlabelled is None else np.concatenate([check_array(X_unlabelled, "unlabelled data"), X])
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError("few-shot classification needs at least two classes")
        self.scaler_ = Scaler("minmax", per_feature=False).fit(pool)
        pool_s = self.scaler_.transform(pool)
        self.history_: list[dict[str, Any]] = []
        members = self._autoencoders(pool_s)
        Xt, yt = torch.from_numpy(self.scaler_.transform(X)), torch.from_numpy(y_idx.astype(np.int64))
        lr, steps = finetune_schedule(len(y) / len(self.classes_))
        self.encoder_lr_ = lr if self.encoder_lr is None else float(self.encoder_lr)
        self.finetune_steps_ = steps if self.finetune_steps is None else int(self.finetune_steps)
        if not self.pretrained:
            self.classifiers_ = []
            Xa, ya = shifted_copies(Xt, yt, int(self.augment_shift))
            for m, (ae, seed) in enumerate(members):
                clf = self._new_classifier(ae, seed)
                rows = fit_classifier(clf, Xa, ya, steps=self.head_steps, lr=self.scratch_lr, freeze_encoder=False,
                                      seed=seed)
                self.history_ += [{"stage": "scratch", "member": m, **r} for r in rows]
                self.classifiers_.append(clf)
            return self
        # every member's head before any fine-tuning: the stages stay in the deck's order in history_
        self.classifiers_ = []
        for m, (ae, _) in enumerate(members):
            clf, head_row = self._stage_head(ae, pool_s, Xt, yt)
            self.history_.append({**head_row, "member": m})
            self.classifiers_.append(clf)
        self.selected_steps_ = []
        for m, ((ae, _), clf) in enumerate(zip(members, self.classifiers_)):
            steps = self._select_finetune_steps(ae, pool_s, Xt, yt, m)
            self.history_ += [{**r, "member": m} for r in self._stage_finetune(clf, Xt, yt, steps)]
            self.selected_steps_.append(steps)
        return self

    @property
    def classifier_(self) -> EncoderClassifier:
        """The first member's network (the only one with ``n_estimators=1``)."""
        check_is_fitted(self, "classifiers_")
        return self.classifiers_[0]

    def _new_classifier(self, ae: Autoencoder, seed: int | None = None) -> EncoderClassifier:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state if seed is None else seed)  # the head's initial weights
            return EncoderClassifier(copy.deepcopy(ae), len(self.classes_))

    def _stage_head(self, ae: Autoencoder, pool_s: np.ndarray, Xt: Tensor, yt: Tensor) -> tuple[EncoderClassifier, dict[str, Any]]:
        """Stage "head": a copy of ``ae`` (frozen) with a logistic-regression head on ``(Xt, yt)``
        and its translated copies."""
        clf = self._new_classifier(ae)
        clf.fit_code_statistics(pool_s)
        Xa, ya = shifted_copies(Xt, yt, int(self.augment_shift))
        return clf, fit_head(clf, Xa, ya, C=self.head_C, max_iter=self.head_steps)

    def _stage_finetune(self, clf: EncoderClassifier, Xt: Tensor, yt: Tensor, steps: int,
                        evaluate: Callable[[], float] | None = None) -> list[dict[str, Any]]:
        """Stage "finetune": ``steps`` end-to-end steps on ``(Xt, yt)`` and its translated copies,
        the encoder at ``encoder_lr_``; its history rows."""
        Xa, ya = shifted_copies(Xt, yt, int(self.augment_shift))
        rows = fit_classifier(clf, Xa, ya, steps=steps, lr=self.finetune_lr, encoder_lr=self.encoder_lr_,
                              freeze_encoder=False, seed=self.random_state + 1, evaluate=evaluate)
        return [{"stage": "finetune", **r} for r in rows]

    def _select_finetune_steps(self, ae: Autoencoder, pool_s: np.ndarray, Xt: Tensor, yt: Tensor, member: int = 0) -> int:
        """Fine-tuning steps, chosen on a held-out part of the labelled examples when there is one.

        A second classifier gets its head and fine-tuning on the other labels only (and their
        translations; the held-out images are scored as they are); the step (a multiple of 10;
        0 = the frozen-code probe) with the best held-out accuracy wins, the latest among ties.
        Its rows join ``history_`` in stage "finetune" with ``"selection": True``. Without a
        held-out part (N = 1, ``validation_fraction`` 0) the answer is ``finetune_steps_``.
        """
        split = held_out_labels(yt.numpy(), float(self.validation_fraction), self.random_state)
        if split is None or self.finetune_steps_ == 0:
            return self.finetune_steps_
        tr, ho = (torch.from_numpy(i) for i in split)
        Xh, yh = Xt[ho], yt[ho]
        sub, _ = self._stage_head(ae, pool_s, Xt[tr], yt[tr])

        def held_out_accuracy() -> float:
            with torch.no_grad():
                return float((sub(Xh).argmax(1) == yh).float().mean())

        rows = self._stage_finetune(sub, Xt[tr], yt[tr], self.finetune_steps_, held_out_accuracy)
        self.history_ += [{**r, "member": member, "selection": True, "held_out": len(ho)} for r in rows]
        scored = [(r["val_accuracy"], r["step"]) for r in rows if "val_accuracy" in r]
        return int(max(scored)[1])

    def _autoencoders(self, pool: np.ndarray) -> list[tuple[Autoencoder, int]]:
        """Every member's autoencoder (pretrained, given, or fresh for ``pretrained=False``) and seed."""
        given = [] if self.encoder is None else (list(self.encoder) if isinstance(self.encoder, (list, tuple)) else [self.encoder])
        for ae in given:
            if not isinstance(ae, Autoencoder):
                raise ConfigError(f"encoder must be a trained aekit Autoencoder or a list of them, got {type(ae).__name__}")
            if tuple(ae.input_shape) != tuple(pool.shape[1:]):
                raise ConfigError(f"encoder expects {ae.input_shape}, data has {pool.shape[1:]}")
        shapes = {(ae.family, tuple((k, tuple(v.shape)) for k, v in ae.state_dict().items())) for ae in given}
        if len(shapes) > 1:  # members are saved as weights of one architecture (aekit.apps.base.save_members)
            raise ConfigError("the encoders of an ensemble must share one architecture (same family and layer sizes)")
        seeds = member_seeds(int(self.random_state), len(given) or int(self.n_estimators))
        if not self.pretrained:  # from scratch: the same architectures, fresh seeded weights
            from aekit.config import to_dict

            if given:
                return [(build_model(ae.family, to_dict(ae.config), seed=s), s) for ae, s in zip(given, seeds)]
            return [(new_autoencoder(pool, self.family, self.model, s), s) for s in seeds]
        if given:
            self.history_ += [{"stage": "pretrain", "member": m, "given": True} for m in range(len(given))]
            return list(zip(given, seeds))  # every classifier stage works on a copy: the caller's models never change
        members = []
        for m, s in enumerate(seeds):
            staged = self.history_
            # the validation split follows random_state, the member's seed its weights, shuffling and corruption
            model = self._fit_engine(new_autoencoder(pool, self.family, self.model, s), pool, seed=s).model
            self.history_ = staged + [{"stage": "pretrain", "member": m, **r} for r in self.history_]  # the engine's rows
            members.append((model, s))
        return members

    def _saved_model(self) -> Any:
        return self.classifier_.autoencoder

    def _state(self) -> dict[str, Any]:
        heads = [{"head_weight": c.head.weight.detach().tolist(), "head_bias": c.head.bias.detach().tolist(),
                  "code_shift": c.code_shift.tolist(), "code_scale": c.code_scale.tolist()} for c in self.classifiers_]
        return {"classes": self.classes_.tolist(), "n_members": len(self.classifiers_), "heads": heads,
                "selected_steps": getattr(self, "selected_steps_", None)}

    def _save_files(self, folder: Any) -> dict[str, Any]:
        """The members' autoencoders after the first in ``members.safetensors`` (:func:`~aekit.apps.base.save_members`);
        their heads are in ``model.json``."""
        return save_members(folder, [c.autoencoder for c in self.classifiers_])

    def _load_files(self, folder: Any, state: dict[str, Any]) -> None:
        nets = load_members(folder, state, self.classifiers_[0].autoencoder, "a few-shot ensemble")
        self.classifiers_ += [_restored_classifier(ae, state["heads"][m]) for m, ae in enumerate(nets, start=1)]

    def _restore(self, state: dict[str, Any], model: Any, preprocessing: dict[str, Any] | None) -> None:
        from aekit.data.dataset import Scaler

        self.scaler_ = Scaler.from_dict(preprocessing)  # type: ignore[arg-type]
        self.classes_ = np.asarray(state["classes"])
        if "heads" not in state:  # saved before ensembles: one member, its head at the top level
            state = {**state, "heads": [state]}
            self.n_estimators, self.augment_shift = 1, 0
        self.classifiers_ = [_restored_classifier(model, state["heads"][0])]  # other members: _load_files
        steps = state.get("selected_steps")
        if steps is not None:
            self.selected_steps_ = [int(s) for s in (steps if isinstance(steps, list) else [steps])]

    def decision_function(self, X: Any) -> np.ndarray:
        """Log of the members' mean class probability (one member: its logits up to a constant
        per row), shape ``(n_samples, n_classes)``."""
        return np.log(np.clip(self.predict_proba(X), 1e-300, None))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The members' mean class probabilities, shape ``(n_samples, n_classes)``."""
        from aekit.data.dataset import check_array

        check_is_fitted(self, "classifiers_")
        Xs = self.scaler_.transform(check_array(X, "input"))
        probs = []
        for clf in self.classifiers_:
            logits = batched(clf, Xs).astype(np.float64)
            e = np.exp(logits - logits.max(1, keepdims=True))
            probs.append(e / e.sum(1, keepdims=True))
        return np.mean(probs, axis=0)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(1)]


def _restored_classifier(model: Autoencoder, head: dict[str, Any]) -> EncoderClassifier:
    """An :class:`EncoderClassifier` around a loaded ``model`` with a saved head (state entries
    ``head_weight``, ``head_bias``, ``code_shift``, ``code_scale``)."""
    clf = EncoderClassifier(model, len(head["head_bias"]))
    with torch.no_grad():
        clf.head.weight.copy_(torch.tensor(head["head_weight"]))
        clf.head.bias.copy_(torch.tensor(head["head_bias"]))
        clf.code_shift.copy_(torch.tensor(head["code_shift"]))
        clf.code_scale.copy_(torch.tensor(head["code_scale"]))
    return clf.eval()


@dataclass
class FewShotSettings:
    shots: Sequence[int] = (1, 5, 10, 100)  # labelled examples per class
    seeds: Sequence[int] = (0, 1, 2)  # label draws (and head/scratch initialisations)
    family: str = "mlp"  # autoencoder family
    model: dict[str, Any] = field(default_factory=dict)  # family parameters over the defaults
    max_epochs: int = FewShotClassifier.settings["max_epochs"]  # pretraining epochs on the unlabelled data
    noise: Sequence[dict[str, Any]] = DEFAULT_NOISE  # pretraining input corruption (denoising AE); () for none
    n_estimators: int = FewShotClassifier.params["n_estimators"]  # ensemble members (one autoencoder each)
    augment_shift: int = FewShotClassifier.params["augment_shift"]  # translations of the labelled images (pixels)
    head_steps: int = FewShotClassifier.params["head_steps"]  # solver iterations of the head (and Adam steps of the scratch network)
    # end-to-end steps after the head (at most); 0 skips fine-tuning; None: finetune_schedule's
    finetune_steps: int | None = FewShotClassifier.params["finetune_steps"]
    validation_fraction: float = 0.1  # held out of the labels to choose the fine-tuning steps
    device: str = "cpu"  # pretraining device: cpu, gpu or auto
    n_jobs: int = 1  # (N, seed) cells fitted in parallel worker processes after pretraining

    def __post_init__(self) -> None:
        for name, values, low in (("shots", self.shots, 1), ("seeds", self.seeds, 0)):
            if not len(values):
                raise ConfigError(f"{name}: give at least one value")
            bad = [v for v in values if int(v) < low]
            if bad:
                raise ConfigError(f"{name} must be >= {low}, got {', '.join(map(str, bad))}")
            if len(set(values)) != len(values):
                raise ConfigError(f"{name} repeats a value: {', '.join(map(str, values))}")
        for name, low in (("max_epochs", 1), ("n_estimators", 1), ("augment_shift", 0), ("head_steps", 1),
                          ("finetune_steps", 0), ("n_jobs", 1)):
            if getattr(self, name) is not None and int(getattr(self, name)) < low:
                raise ConfigError(f"{name} must be >= {low}, got {getattr(self, name)}")
        if not 0.0 <= float(self.validation_fraction) < 1.0:
            raise ConfigError(f"validation_fraction must be in [0, 1), got {self.validation_fraction}")
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


METHODS = ("fine-tuned", "frozen encoder", "from scratch", "PCA + logreg")  # "fine-tuned" is aekit's default
# what the figure's legend calls each method
LABELS = {"fine-tuned": "aekit default (pretrain, head, fine-tune)", "frozen encoder": "frozen-code probe (head only)",
          "from scratch": "same network from scratch", "PCA + logreg": "PCA + logistic regression"}


def fewshot_benchmark(
    X_pool: np.ndarray, y_pool: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, settings: FewShotSettings | None = None
) -> list[dict[str, Any]]:
    """Test accuracy of every method for every N and seed; one row per (method, N, seed).

    ``X_pool`` is all the training data: the autoencoder and PCA see it without labels;
    the classifiers see N labelled examples per class drawn from it (stratified, seeded).
    The test set is used for scoring only, after each model is fitted; model selection
    (the fine-tuning steps) uses a held-out part of the N labels. Methods (:data:`METHODS`):
    ``fine-tuned`` (the :class:`FewShotClassifier` defaults: pretrain, head, fine-tune),
    ``frozen encoder`` (the head-only probe on the frozen codes), ``from scratch`` (same
    networks, random weights; same ensemble size and translations), ``PCA + logreg`` (same
    number of components, scikit-learn's default ``LogisticRegression``). The ensemble's
    autoencoders are pretrained once (member seeds of seed 0) and shared by every N and seed.
    The data are checked against the settings (:func:`check_benchmark_data`) before pretraining.
    """
    from sklearn.decomposition import PCA

    from aekit.data.dataset import Scaler

    s = settings or FewShotSettings()
    check_benchmark_data(X_pool, y_pool, s)
    scaler = Scaler("minmax", per_feature=False).fit(X_pool)  # the same scaler every classifier fits
    pool_s = scaler.transform(X_pool)
    members = [pretrain_autoencoder(pool_s, s.family, s.model, max_epochs=s.max_epochs, seed=seed, noise=s.noise,
                                    device=s.device).model for seed in member_seeds(0, s.n_estimators)]
    k = members[0].latent_dim
    _check_pca_size(k, X_pool)  # families whose code size only the built model knows
    flat_pool = pool_s.reshape(len(X_pool), -1)
    pca = PCA(n_components=k, random_state=0).fit(flat_pool)
    Z_pool, Z_test = pca.transform(flat_pool), pca.transform(scaler.transform(X_test).reshape(len(X_test), -1))
    cells = [(n, seed) for n in s.shots for seed in s.seeds]
    if int(s.n_jobs) == 1:
        parts = [_benchmark_cell(n, seed, X_pool, y_pool, X_test, y_test, members, Z_pool, Z_test, s) for n, seed in cells]
    else:  # worker processes, one torch thread each; every cell seeds itself, so the rows are the same
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=int(s.n_jobs))(delayed(_benchmark_cell)(n, seed, X_pool, y_pool, X_test, y_test, members,
                                                                       Z_pool, Z_test, s, threads=1) for n, seed in cells)
    return [row for part in parts for row in part]


def _benchmark_cell(n: int, seed: int, X_pool: np.ndarray, y_pool: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                    members: list[Autoencoder], Z_pool: np.ndarray, Z_test: np.ndarray, s: FewShotSettings,
                    threads: int | None = None) -> list[dict[str, Any]]:
    """:func:`fewshot_benchmark`'s rows for one N and seed: every method fitted on the same draw of
    labels; ``Z_pool``/``Z_test`` are the PCA baseline's components."""
    from sklearn.linear_model import LogisticRegression

    if threads is not None:
        torch.set_num_threads(threads)
    idx = sample_per_class(y_pool, n, seed)
    Xl, yl = X_pool[idx], y_pool[idx]
    common = {"encoder": members, "augment_shift": s.augment_shift, "head_steps": s.head_steps,
              "validation_fraction": s.validation_fraction, "random_state": seed}
    methods: dict[str, Any] = {
        "fine-tuned": FewShotClassifier(finetune_steps=s.finetune_steps, **common),
        "frozen encoder": FewShotClassifier(finetune_steps=0, **common),
        "from scratch": FewShotClassifier(pretrained=False, **common),
    }
    rows = []
    for name, est in methods.items():
        # the pool is passed as X_unlabelled so every method scales alike
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
        series[LABELS.get(m, m)] = ([by_n[n]["mean"] for n in shots], [by_n[n]["std"] for n in shots])
    return line_plot(shots, series, path, "labels per class", "test accuracy", title, logx=True)


__all__ = [
    "DEFAULT_NOISE", "EncoderClassifier", "FewShotClassifier", "FewShotSettings", "LABELS", "METHODS", "STAGES", "accuracy_plot",
    "check_benchmark_data", "fewshot_benchmark", "finetune_schedule", "fit_classifier", "fit_head", "held_out_labels",
    "pretrain_autoencoder", "sample_per_class", "shifted_copies", "summarize",
]
