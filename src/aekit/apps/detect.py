"""Anomaly detection with autoencoders, behind scikit-learn's outlier-detector contract.

"If the output does not look like the input, it is an outlier": an autoencoder trained
on (mostly) normal rows reconstructs them well and anything unusual badly, so the
reconstruction error is an anomaly score.

:class:`AutoencoderDetector` follows :class:`sklearn.ensemble.IsolationForest`'s sign
conventions exactly: ``score_samples`` is lower for more abnormal rows,
``decision_function = score_samples - offset_`` is negative for outliers and
``predict`` returns +1 (inlier) / -1 (outlier). For "higher = worse" thinking it adds
``anomaly_score`` (the reconstruction-error score, ``= -score_samples``) and
``is_anomaly`` (boolean, ``= predict == -1``).

:class:`SeriesDetector` applies it to time series: sliding windows scored by a 1-D conv
or MLP autoencoder, window scores spread back to points (mean or max).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils.validation import check_is_fitted

from aekit.apps.base import (TRAINING_SETTINGS, AutoencoderEstimator, load_arrays, load_members, member_seeds,
                             save_arrays, save_members)
from aekit.apps.thresholds import METHODS as THRESHOLD_METHODS
from aekit.apps.thresholds import Threshold, choose_threshold
from aekit.errors import ConfigError, DataError, ShapeError

REDUCTIONS = ("mean", "max", "sum")
SCORES = ("recon", "elbo", "iwae")
CODE_DISTANCES = ("none", "knn")
CODES_FILE = "codes.safetensors"  # a detector's reference codes (code_distance="knn"), per member
# code_distance="knn": a row's code is compared with the codes of at most KNN_REFERENCE_ROWS training
# rows (a seeded subset beyond that, so memory and scoring cost stay bounded on large data), by its
# mean Euclidean distance to the KNN_NEIGHBOURS nearest of them
KNN_NEIGHBOURS = 5
KNN_REFERENCE_ROWS = 2000


def _family_of(model: Any) -> tuple[str, dict[str, Any], Any]:
    """``model`` (family name, config dataclass or model instance) -> (family, params, template instance)."""
    from aekit.config import to_dict
    from aekit.models.base import Autoencoder
    from aekit.registry import families, get_family

    if isinstance(model, str):
        get_family(model)  # unknown names fail here, with a suggestion
        return model, {}, None
    if isinstance(model, Autoencoder):
        return model.family, to_dict(model.config), model
    if dataclasses.is_dataclass(model) and not isinstance(model, type):
        for name, fam in families().items():
            if type(model) is fam.config_class:
                return name, to_dict(model), None
        raise ConfigError(f"config {type(model).__name__} belongs to no registered model family")
    raise ConfigError(f"model must be a family name, a model config or an Autoencoder, got {type(model).__name__}")


# The table detector's defaults, chosen on a development benchmark of real tables split into a
# "choose" and a "confirm" half, plus a "fresh" third half that each round looks at once, for its
# winners only (benchmarks/anomaly.py --parts dev; docs/anomaly.md, "Tables: how the defaults were
# chosen"): a candidate replaced the defaults only when it beat them in average rank against the
# peers without a lower mean ROC-AUC on every half. AutoencoderDetector() and `aekit detect` (which
# passes only the options given) both read them here.
TABLE_DEFAULTS: dict[str, Any] = {
    # ten seeded members, their robust z-scores averaged: less seed spread (round 3: five; round 4: ten
    # members that each see part of the columns beat five that see all on both halves)
    "n_estimators": 10,
    "standardize_errors": True,  # each column's error in its own spread: no noisy column dominates
    # the share of the columns each member sees (feature bagging) when max_features="auto" and the
    # members are plain MLPs built here; any other model sees every column (round 4: 0.5; round 5:
    # 0.3 beat it on all three halves, with a smaller seed spread on two)
    "max_features": 0.3,
    # the share of the training rows each member trains on (row bagging) when max_samples="auto"
    # and the members are plain MLPs built here: all of them (round 8 measured less)
    "max_samples": 1.0,
    # the code's distance to the nearest training codes added to the score: an option (it also
    # beat round 4's default on all three halves and 0.3 on two, but lost to 0.3 on the fresh
    # half and in seed spread, and costs scoring time; round 9: the two together won on the
    # choose and confirm halves and lost on the fresh one again)
    "code_distance": "none",
    # the rule when neither ``threshold`` nor ``contamination`` is given: of the four label-free
    # rules it landed closest to the true outlier share on both halves (a given ``contamination``
    # means its own rule)
    "threshold": "mean_std",
}
TABLE_SETTINGS: dict[str, Any] = {}  # the shared training settings as they are (30 epochs, batch 64, ...)


def default_params(family: str, n_features: int, scaling: str) -> dict[str, Any]:
    """Sensible sizes for tables: one hidden layer of 64 and a code of half the input (at most 32)."""
    from aekit.registry import get_family

    fields = {f.name for f in dataclasses.fields(get_family(family).config_class)}
    params: dict[str, Any] = {}
    if family == "mlp":
        params.update(hidden=[64], latent_dim=max(1, min(32, n_features // 2)))
    if "output_activation" in fields:
        # standardised data is unbounded; [0, 1] data suits a sigmoid
        params["output_activation"] = "sigmoid" if scaling == "minmax" else "identity"
    return {k: v for k, v in params.items() if k in fields}


class AutoencoderDetector(OutlierMixin, AutoencoderEstimator):
    """Outlier detector scoring rows of ``X`` by an autoencoder's reconstruction error.

    Parameters
    ----------
    model: engine: a registered family name (``"mlp"``, ``"conv"``, ``"timeseries_conv1d"``,
        ``"vae"`` when installed, ...), a family's config dataclass, or an
        :class:`~aekit.models.base.Autoencoder` whose weights are the starting point.
    model_params: config values for a family name (merged over defaults; ``input_shape``
        is filled in from the data).
    input_shape: shape of one example when rows are flattened windows/images, e.g.
        ``(1, 128)`` for a 1-D conv on windows of 128; ``None`` = ``(n_features,)``.
    contamination: expected share of outliers in the training data, in (0, 0.5], for
        ``threshold="contamination"`` (as scikit-learn's IsolationForest); ``None``: not known
        (0.1 if that rule is asked for anyway).
    threshold: rule setting ``offset_``; ``None`` (default): ``"contamination"`` when a
        ``contamination`` is given, else ``TABLE_DEFAULTS["threshold"]`` (``"mean_std"``).
        ``"contamination"`` (share of training rows),
        ``"percentile"`` (of the errors on the held-out validation rows, assumed normal),
        ``"mean_std"`` (mean + k·std of training errors) or ``"median_mad"``
        (median + k·MAD). ``best_f1`` needs labels: call :meth:`set_threshold`.
    threshold_param: the rule's number (percentile q, or k); ``None`` = 99 / 3.
    reduction: how element errors become one score: ``"mean"``, ``"max"`` or ``"sum"``.
    standardize_errors: divide each feature's error by its spread on the training rows
        (after subtracting its mean) before reducing, so no single noisy feature dominates.
    score_type: ``"recon"`` (reconstruction error), or for a VAE ``"elbo"`` (negative ELBO) /
        ``"iwae"`` (negative importance-weighted bound with ``n_samples`` draws).
    scaling: ``"standard"``, ``"minmax"``, ``"robust"`` (median / IQR) or ``"none"`` (a
        per-feature :class:`aekit.data.Scaler` fitted in ``fit``).
    n_estimators: autoencoders trained with different seeds (the first with ``random_state``,
        the others with seeds derived from it; they share the validation rows). With more than
        one, each member's score is turned into a robust z-score of its training scores
        (median, 1.4826·MAD) and the score is their mean: it varies far less with the seed.
        MLP members (the default) train all at once as one batched network, each with its own
        initial weights, row order, noise, best epoch and early stopping, so ten cost a
        few times one (:class:`aekit.models.ensemble.MemberStack`).
    max_features: share of the columns, in (0, 1], each member sees as input (1.0: all): a
        fixed random subset per member, drawn from its seed (``max(1, round(max_features * d))``
        columns; feature bagging). A member still reconstructs every column, so it must predict
        the columns it does not see from those it does, and the members' views differ. The
        subset lives in the member's weights (the unseen columns' first-layer weights are
        zero), so scoring, saving and ONNX export need nothing more. A number below 1 needs the
        ``mlp`` family with untied weights. ``"auto"`` (default): ``TABLE_DEFAULTS["max_features"]``
        (0.3) when the members are plain MLPs built from a family name or config, else 1.0
        (another family, tied weights, or a given model instance, whose weights a mask would cut).
    max_samples: share of the training rows, in (0, 1], each member trains on (1.0: all): a fixed
        random subset per member, drawn from its seed (``max(1, round(max_samples * n))`` rows,
        the validation rows left out first; row bagging, as IsolationForest's trees see part of the
        rows). An epoch is one pass over a member's own rows, so a share below 1 also means fewer
        steps. Every member still scores every row. A number below 1 needs the ``mlp`` family.
        ``"auto"`` (default): ``TABLE_DEFAULTS["max_samples"]`` (1.0) for plain MLPs built here.
    code_distance: ``"knn"``: the score also weighs where a row's
        *code* lies. Each member standardises its training rows' codes (per code unit) and keeps
        them (at most :data:`KNN_REFERENCE_ROWS`, a seeded subset beyond that) as a reference; a
        row's code distance is the mean Euclidean distance of its standardised code to the
        :data:`KNN_NEIGHBOURS` nearest reference codes (fewer for a reference of 5 rows or less),
        leaving out one copy of the row itself: a training row, scored at fit time or again
        later, gets the distance a new normal row like it would, which the scales and the
        threshold are set on. The
        members' distances are put on one scale and averaged as their reconstruction scores
        are, and the score is the mean of the robust z-scores (median, 1.4826·MAD on the training
        rows) of the two: a row that is reconstructed well but whose code lies away from every
        group of normal codes (an outlier "between" clusters, or a contaminating group the
        autoencoder has learnt to reconstruct) still scores high. ``"none"`` (default,
        :data:`TABLE_DEFAULTS`): the reconstruction score alone. Measured on the development
        benchmark (docs/anomaly.md, round 5): better than round 4's default on all three halves;
        not the default, which moves less with the seed and costs nothing at scoring time.
    max_epochs, batch_size, lr, weight_decay, validation_fraction, patience, noise,
        random_state, device: the shared training settings (:data:`aekit.apps.base.TRAINING_SETTINGS`,
        same names in every application); ``noise`` (corruption specs) makes a denoising
        detector; the held-out rows also set the ``percentile`` threshold.

    Defaults (:data:`TABLE_DEFAULTS`, :data:`TABLE_SETTINGS`, shared with ``aekit detect``):
    ten members (30 epochs, batch 64, best epoch on 10 % held-out rows each), each seeing 30 %
    of the columns (``max_features="auto"``), per-feature standardised errors, the reconstruction
    score alone, threshold mean + 3·std of the training scores; chosen and checked on the three
    halves of a development benchmark of real tables (docs/anomaly.md).

    Fitted attributes: ``model_`` (the first member), ``estimators_`` (every member),
    ``member_loc_``/``member_spread_`` (members' score scales; ``None`` for one member),
    ``code_ref_`` (per member: ``(shift (c,), scale (c,), reference codes (R, c))``; ``None`` without a
    code distance), ``code_k_`` (neighbours averaged), ``code_loc_``/``code_spread_`` (members' code-distance scales) and
    ``parts_loc_``/``parts_spread_`` (``(2,)``: the reconstruction and code parts' scales),
    ``family_``, ``scaler_``, ``offset_``, ``threshold_`` (a :class:`~aekit.apps.thresholds.Threshold`),
    ``history_`` (the first member's; ``histories_``: every member's), ``train_scores_``
    (anomaly scores of the training rows), ``n_features_in_``, ``input_shape_``.
    """

    kind = "detector"
    params = {
        "model": "mlp", "model_params": None, "input_shape": None, "contamination": None,
        "threshold": None, "threshold_param": None, "reduction": "mean",
        "standardize_errors": TABLE_DEFAULTS["standardize_errors"], "score_type": "recon", "n_samples": 16,
        "scaling": "standard", "n_estimators": TABLE_DEFAULTS["n_estimators"],
        "max_features": "auto", "max_samples": "auto", "code_distance": TABLE_DEFAULTS["code_distance"],
    }
    settings = TABLE_SETTINGS

    # --- checks --------------------------------------------------------------------

    def _rule(self) -> str:
        """The threshold rule ``fit`` applies (``threshold``, or the default it stands for when ``None``)."""
        if self.threshold is not None:
            return str(self.threshold)
        return "contamination" if self.contamination is not None else str(TABLE_DEFAULTS["threshold"])

    def _check_params(self) -> None:
        c = self.contamination
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 < float(c) <= 0.5):
            raise ConfigError(f"contamination must be None or a number in (0, 0.5], got {c!r}")
        if self.threshold is not None and (self.threshold not in THRESHOLD_METHODS or self.threshold == "best_f1"):
            raise ConfigError(
                f"threshold must be one of contamination, percentile, mean_std, median_mad, got {self.threshold!r}"
                " (best_f1 uses labels: call set_threshold(X, y, 'best_f1'))"
            )
        from aekit.apps.thresholds import check_threshold_param

        check_threshold_param(self._rule(), self.threshold_param)
        if self.reduction not in REDUCTIONS:
            raise ConfigError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {self.reduction!r}")
        if self.score_type not in SCORES:
            raise ConfigError(f"score_type must be one of {', '.join(SCORES)}, got {self.score_type!r}")
        n = self.n_estimators
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"n_estimators must be an integer >= 1, got {n!r}")
        for name in ("max_features", "max_samples"):
            f = getattr(self, name)
            if f != "auto" and (isinstance(f, bool) or not isinstance(f, (int, float, np.integer, np.floating))
                                or not 0.0 < float(f) <= 1.0):
                raise ConfigError(f"{name} must be 'auto' or a number in (0, 1], got {f!r}")
        if self.code_distance not in CODE_DISTANCES:
            raise ConfigError(f"code_distance must be one of {', '.join(CODE_DISTANCES)}, got {self.code_distance!r}")

    def _validate(self, X: Any, reset: bool) -> np.ndarray:
        from aekit.data.tables import table_input  # a DataFrame with text, dates, ids or gaps: encoded (table_)

        X = self._validate_table(table_input(self, X, reset), reset,
                                 gap_note="; the detector was fitted on numbers without gaps and has no value to fill in")
        big = np.float64(np.finfo(np.float32).max)
        if X.size and (X.max() > big or X.min() < -big):  # the model computes in float32: such a value would be inf there
            row, col = (int(i[0]) for i in np.nonzero(np.abs(X) > big))
            names = getattr(self, "feature_names_in_", None)
            name = repr(str(names[col])) if names is not None and col < len(names) else str(col)
            raise DataError(f"column {name}: value {X[row, col]:.3g} at row {row} is beyond float32's range (3.4e38), "
                            "in which the detector computes; rescale the column")
        return X

    def _shape(self, n_features: int) -> tuple[int, ...]:
        shape = (n_features,) if self.input_shape is None else tuple(int(s) for s in self.input_shape)
        if math.prod(shape) != n_features:
            raise ConfigError(f"input_shape {shape} holds {math.prod(shape)} values but X has {n_features} columns")
        return shape

    # --- fitting -------------------------------------------------------------------

    def _build(self, n_features: int, seed: int | None = None) -> Any:
        from aekit.registry import build_model

        family, params, template = _family_of(self.model)
        if template is not None:
            model = copy.deepcopy(template)  # never train the caller's object
            if tuple(model.input_shape) != self.input_shape_:
                raise ConfigError(f"model expects input_shape {tuple(model.input_shape)}, data gives {self.input_shape_}")
            return family, model
        merged = {**default_params(family, n_features, self.scaling), **params, **(self.model_params or {})}
        merged["input_shape"] = list(self.input_shape_)
        return family, build_model(family, merged, seed=int(self.random_state if seed is None else seed))

    def fit(self, X: Any, y: Any = None) -> "AutoencoderDetector":
        """Train on ``X`` (``(n_samples, n_features)``, mostly normal rows) and set the threshold.

        ``y`` is ignored (unsupervised), as in scikit-learn's outlier detectors.
        """
        from aekit.data.dataset import Scaler

        self._check_params()
        self._check_settings()
        X = self._validate(X, reset=True)
        if len(X) < 2:
            raise DataError(f"need at least 2 samples to fit, got {len(X)} sample")
        if np.array_equal(X.min(axis=0), X.max(axis=0)):
            raise DataError("every column of X is constant: there is nothing to learn a normal pattern from")
        self.input_shape_ = self._shape(X.shape[1])
        self.scaler_ = Scaler(self.scaling, per_feature=True).fit(X)  # type: ignore[arg-type]
        Xs = self._scale(X)
        self.estimators_, self.member_errors_ = [], []
        models, histories = self._train_members(X.shape[1], Xs)
        raw = []
        for m, model in enumerate(models):
            err: tuple[np.ndarray, np.ndarray] | None = None
            E = None
            if self.standardize_errors:
                E = self._element_errors(Xs, model)
                sd = E.std(axis=0)
                err = (E.mean(axis=0), np.where(sd > 1e-12, sd, 1.0))
            self.estimators_.append(model)
            self.member_errors_.append(err)
            raw.append(self._member_scores(Xs, m, E))  # its training scores, from the same error map
            del E  # one member's error map at a time (images: N x 784 float64 each)
        self.history_, self.histories_ = histories[0], histories  # the first member's, and every member's
        self.model_ = self.estimators_[0]
        self.err_shift_, self.err_scale_ = self.member_errors_[0] or (None, None)
        self.member_loc_, self.member_spread_ = None, None
        scores = np.stack(raw)  # (M, N)
        self.train_scores_ = scores[0]  # one autoencoder: its score as it is (what _scores_scaled gives)
        if len(self.estimators_) > 1:
            # each member's scores on a common scale (robust z-scores of its training scores), then averaged
            self.member_loc_, self.member_spread_ = _robust_location_spread(scores)
            self.train_scores_ = _mean_z(scores, self.member_loc_, self.member_spread_)
        self.code_ref_ = None
        if self.code_distance == "knn":
            self._fit_code_distance(Xs)  # train_scores_ becomes the reconstruction and code parts combined
        split = self._split(len(Xs))  # the engine's own validation rows (assumed normal)
        held_out = self.train_scores_ if split is None else self.train_scores_[split[1]]
        rule = self._rule()
        basis = held_out if rule == "percentile" else self.train_scores_
        param = self.contamination if rule == "contamination" else self.threshold_param
        self._set(choose_threshold(rule, basis, param))
        return self

    def _train_members(self, n_features: int, Xs: np.ndarray) -> tuple[list[Any], list[list[dict[str, float]]]]:
        """Build and train the ``n_estimators`` members on ``Xs``; returns them (best weights, eval mode)
        and their per-epoch histories.

        Plain MLP members (the table default) train all at once as one batched network
        (:class:`aekit.models.ensemble.MemberStack`) through the same engine: each keeps its own
        seeded initial weights, row order, best epoch and early stopping, at about one network's
        cost, and its own columns (``max_features``: the stacked first layer gathers each member's
        columns). Other families train one after another (and so does a lone member with its own
        columns, as a stack of one, which carries its columns).
        """
        import torch

        from aekit.models.ensemble import MemberStack, can_stack, member_history

        seeds = member_seeds(int(self.random_state), int(self.n_estimators))
        models = []
        for seed in seeds:
            self.family_, model = self._build(n_features, seed)
            if self.score_type != "recon" and not _is_variational(model):
                raise ConfigError(f"score_type={self.score_type!r} needs a variational model (family {self.family_!r} is not)")
            models.append(model)
        masks = self._member_masks(n_features, seeds, self._share("max_features", models))
        rows = self._share("max_samples", models)

        def stacked(group: list[int]) -> tuple[list[Any], list[list[dict[str, float]]]]:
            """Members ``group`` as one batched network (with their rows of ``masks``, and their rows)."""
            own = {i: torch.from_numpy(m[group]) for i, m in masks.items()}
            stack = MemberStack([models[m] for m in group], [seeds[m] for m in group], own, row_share=rows)
            result = self._fit_engine(stack, Xs, seed=seeds[group[0]])
            stopped = result.member_stopped or [None] * len(group)
            return result.model.unstack(), [member_history(result.history, j, stopped[j]) for j in range(len(group))]

        if can_stack(models):
            return stacked(list(range(len(models))))
        trained, histories = [], []
        for m, (seed, model) in enumerate(zip(seeds, models)):
            if masks or rows < 1.0:  # a member with its own columns or rows: a stack of one carries them
                one, history = stacked([m])
                trained.append(one[0])
                histories.append(history[0])
                continue
            trained.append(self._fit_engine(model, Xs, seed=seed).model)
            histories.append(self.history_)
        return trained, histories

    def _share(self, name: str, models: list[Any]) -> float:
        """``max_features`` or ``max_samples`` with ``"auto"`` resolved: :data:`TABLE_DEFAULTS`'s for
        plain MLP members built here (a given model instance's weights are not cut), else 1.0. Fewer
        columns need untied weights (a tied decoder would reuse the cut weights); fewer rows do not."""
        from aekit.models.ensemble import plain_mlps

        plain = plain_mlps(models) and (name == "max_samples" or not models[0].config.tied)
        value = getattr(self, name)
        if value == "auto":
            return float(TABLE_DEFAULTS[name]) if plain and _family_of(self.model)[2] is None else 1.0
        if float(value) < 1.0 and not plain:
            what = "tied weights" if plain_mlps(models) else f"the {self.family_!r} family"
            raise ConfigError(f"{name} < 1 needs the mlp family{' with untied weights' if name == 'max_features' else ''}, "
                              f"not {what}")
        return float(value)

    def _member_masks(self, n_features: int, seeds: list[int], share: float) -> dict[int, np.ndarray]:
        """``{0: (M, n_features) 0/1}``: the columns each member sees (``share`` of them, drawn from the
        member's seed), for :class:`aekit.models.ensemble.MemberStack`; ``{}`` when all are seen."""
        if share >= 1.0:
            return {}
        k = max(1, int(round(share * n_features)))
        masks = np.zeros((len(seeds), n_features), np.float32)
        for m, seed in enumerate(seeds):
            masks[m, np.random.default_rng([seed, 1]).choice(n_features, k, replace=False)] = 1.0
        return {0: masks}

    def _fit_code_distance(self, Xs: np.ndarray) -> None:
        """Each member's reference codes and the scales that combine the two parts (see ``code_distance``)."""
        keep = np.arange(len(Xs))
        if len(Xs) > KNN_REFERENCE_ROWS:  # the same rows for every member, drawn from the detector's seed
            keep = np.sort(np.random.default_rng([int(self.random_state), 2]).choice(len(Xs), KNN_REFERENCE_ROWS, replace=False))
        # k stays below R: a row that is a reference row leaves itself out (knn_mean_distance)
        self.code_k_ = max(1, min(KNN_NEIGHBOURS, len(keep) - 1))
        self.code_ref_ = []
        for model in self.estimators_:
            Z = _scores_fixed(lambda t, model=model: model.encode(t).flatten(1), Xs)  # (N, c) float64
            shift, sd = Z.mean(axis=0), Z.std(axis=0)
            scale = np.where(sd > 1e-12, sd, 1.0)
            self.code_ref_.append((shift, scale, (Z[keep] - shift) / scale))
        # the scoring pass itself: a training row scored again later gets exactly this distance
        D = self._code_distances(Xs)  # (M, N)
        self.code_loc_, self.code_spread_ = _robust_location_spread(D)
        parts = np.stack([self.train_scores_, _mean_z(D, self.code_loc_, self.code_spread_)])
        self.parts_loc_, self.parts_spread_ = _robust_location_spread(parts)
        self.train_scores_ = _mean_z(parts, self.parts_loc_, self.parts_spread_)

    def _code_distances(self, Xs: np.ndarray) -> np.ndarray:
        """``(M, N)``: each member's code distance for the scaled rows ``Xs`` (``code_distance``)."""
        import torch

        out = []
        for model, (shift, scale, ref) in zip(self.estimators_, self.code_ref_):
            shift_t, scale_t, ref_t = (torch.from_numpy(np.asarray(a, np.float64)) for a in (shift, scale, ref))

            def distance(t: Any, model: Any = model, shift_t: Any = shift_t, scale_t: Any = scale_t, ref_t: Any = ref_t) -> Any:
                code = (model.encode(t).flatten(1).double() - shift_t) / scale_t
                return knn_mean_distance(code, ref_t, self.code_k_)

            out.append(_scores_fixed(distance, Xs))
        return np.stack(out)

    def _set(self, threshold: Threshold) -> None:
        self.threshold_ = threshold
        self.offset_ = -float(threshold.value)

    def set_threshold(self, X: Any, y: Any = None, method: str = "percentile", param: float | None = None) -> Threshold:
        """Re-threshold on other data: ``method`` applied to the anomaly scores of ``X``.

        ``"best_f1"`` uses the labels ``y`` (1 = anomaly) and is recorded as such in
        ``threshold_.uses_labels``; the other rules ignore ``y``.
        """
        check_is_fitted(self, "model_")
        t = choose_threshold(method, self.anomaly_score(X), param, y_true=y)
        self._set(t)
        return t

    # --- scoring -------------------------------------------------------------------

    def _element_errors(self, Xs: np.ndarray, model: Any = None) -> np.ndarray:
        """``(N, *input_shape)`` element-wise reconstruction errors of scaled inputs (by ``model``, default ``model_``)."""
        from aekit.models.base import per_sample_error

        model = self.model_ if model is None else model
        kind = getattr(model.config, "loss", "mse")
        return _scores_fixed(lambda t: per_sample_error(model.reconstruct(t), t, kind), Xs).reshape(len(Xs), *self.input_shape_)

    def _reduce(self, E: np.ndarray) -> np.ndarray:
        flat = E.reshape(len(E), -1).astype(np.float64)
        if self.reduction == "max":
            return flat.max(axis=1)
        if self.reduction == "sum":
            return flat.sum(axis=1)
        return flat.mean(axis=1)

    def _member_scores(self, Xs: np.ndarray, m: int, E: np.ndarray | None = None) -> np.ndarray:
        """Scores ``(N,)`` of member ``m`` alone, in its own units (``E``: its element errors on ``Xs``
        when already computed)."""
        model, err = self.estimators_[m], self.member_errors_[m]
        if self.score_type != "recon":
            return _variational_score(model, Xs, self.score_type, int(self.n_samples), int(self.random_state))
        if err is None:
            if self.reduction == "mean":  # the common case: one fused pass, no error map kept
                return _scores_fixed(model.score, Xs)
            return self._reduce(self._element_errors(Xs, model))
        return self._reduce(((self._element_errors(Xs, model) if E is None else E) - err[0]) / err[1])

    def _scores_scaled(self, Xs: np.ndarray) -> np.ndarray:
        recon = self._recon_scores(Xs)
        if getattr(self, "code_ref_", None) is None:  # none fitted (or an inner detector restored without one)
            return recon
        code = _mean_z(self._code_distances(Xs), self.code_loc_, self.code_spread_)
        return _mean_z(np.stack([recon, code]), self.parts_loc_, self.parts_spread_)

    def _recon_scores(self, Xs: np.ndarray) -> np.ndarray:
        """The reconstruction part of the score: one autoencoder's as it is, an ensemble's members'
        robust z-scores averaged."""
        if self.member_loc_ is None:
            return self._member_scores(Xs, 0)
        raw = np.stack([self._member_scores(Xs, m) for m in range(len(self.estimators_))])
        return _mean_z(raw, self.member_loc_, self.member_spread_)

    def _prepare(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self._scale(self._validate(X, reset=False))

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """``scaler_`` applied with one float32 allocation (inputs can be 60,000 × 784), reshaped to ``input_shape_``."""
        out = np.subtract(X, self.scaler_.shift_, dtype=np.float32)
        np.divide(out, self.scaler_.scale_, out=out)
        return out.reshape(len(X), *self.input_shape_)

    def anomaly_score(self, X: Any) -> np.ndarray:
        """Anomaly score per row, ``(n_samples,)`` float64: higher = more anomalous (the reconstruction
        error, with the code distance when ``code_distance="knn"``)."""
        check_is_fitted(self, "model_")
        if (self.score_type == "recon" and self.err_shift_ is None and self.reduction == "mean" and self.member_loc_ is None
                and getattr(self, "code_ref_", None) is None):
            # the common case: scale chunk by chunk inside the scoring pass, so no scaled copy
            # of a large input is ever allocated (fresh pages cost more than the arithmetic)
            return _scores_fixed(self.model_.score, self._validate(X, reset=False), transform=self._scale)
        return self._scores_scaled(self._prepare(X))

    def error_map(self, X: Any) -> np.ndarray:
        """Element-wise errors ``(n_samples, *input_shape_)`` in scaled units (per feature / per time step, for plots);
        an ensemble's is the mean of its members' maps."""
        Xs = self._prepare(X)
        return np.mean([self._element_errors(Xs, m) for m in self.estimators_], axis=0)

    def score_samples(self, X: Any) -> np.ndarray:
        """Opposite of :meth:`anomaly_score`: the lower, the more abnormal (scikit-learn's convention)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, -1 for outliers (``decision_function(X) < 0``)."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def is_anomaly(self, X: Any) -> np.ndarray:
        """Boolean mask of outliers: ``anomaly_score(X) > threshold_.value``."""
        return self.predict(X) == -1


    # --- saving ---------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "family": self.family_, "n_features_in": int(self.n_features_in_), "input_shape": list(self.input_shape_),
            "feature_names_in": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
            "err_shift": None if self.err_shift_ is None else np.asarray(self.err_shift_).tolist(),
            "err_scale": None if self.err_scale_ is None else np.asarray(self.err_scale_).tolist(),
            "threshold": self.threshold_.to_dict(),
            "n_members": len(self.estimators_),
            "member_loc": None if self.member_loc_ is None else np.asarray(self.member_loc_).tolist(),
            "member_spread": None if self.member_spread_ is None else np.asarray(self.member_spread_).tolist(),
            "member_errors": [None if e is None else [np.asarray(e[0]).tolist(), np.asarray(e[1]).tolist()]
                              for e in self.member_errors_[1:]],
            # the code distance's scales (its reference codes are in CODES_FILE); None: not used
            "code_distance": None if getattr(self, "code_ref_", None) is None else {
                "k": int(self.code_k_), "loc": np.asarray(self.code_loc_).tolist(), "spread": np.asarray(self.code_spread_).tolist(),
                "parts_loc": np.asarray(self.parts_loc_).tolist(), "parts_spread": np.asarray(self.parts_spread_).tolist()},
        }

    def _save_files(self, folder: Any) -> dict[str, Any]:
        """An ensemble's members after the first in ``members.safetensors`` (:func:`~aekit.apps.base.save_members`),
        the members' reference codes in ``codes.safetensors``."""
        state = save_members(folder, self.estimators_)
        if getattr(self, "code_ref_", None) is not None:
            arrays = {f"{m}.{name}": np.asarray(a, np.float64) for m, parts in enumerate(self.code_ref_)
                      for name, a in zip(("shift", "scale", "ref"), parts)}
            state["codes_sha256"] = save_arrays(folder, CODES_FILE, arrays)
        return state

    def _load_files(self, folder: Any, state: dict[str, Any]) -> None:
        self.estimators_ += load_members(folder, state, self.model_, "an ensemble of autoencoders")
        self.code_ref_ = None
        if state.get("code_distance") is not None:
            arrays = load_arrays(folder, CODES_FILE, state.get("codes_sha256"), "a detector with a code distance")
            self.code_ref_ = [tuple(arrays[f"{m}.{name}"] for name in ("shift", "scale", "ref"))
                              for m in range(len(self.estimators_))]
            self.code_k_ = max(1, min(self.code_k_, len(self.code_ref_[0][2]) - 1))

    def _restore(self, state: dict[str, Any], model: Any, preprocessing: dict[str, Any] | None) -> None:
        from aekit.data.dataset import Scaler

        self.model_, self.family_ = model, state.get("family", model.family)
        self.estimators_ = [model]  # an ensemble's other members come from _load_files
        if "n_members" not in state:  # saved before ensembles existed: one autoencoder, whatever today's default
            self.n_estimators = 1
        self.scaler_ = Scaler.from_dict(preprocessing) if preprocessing is not None else Scaler("none").fit(
            np.zeros((1, int(state["n_features_in"])), np.float32))
        self.n_features_in_ = int(state["n_features_in"])
        if state.get("feature_names_in"):
            self.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        self.input_shape_ = tuple(state["input_shape"])
        self.err_shift_ = None if state["err_shift"] is None else np.asarray(state["err_shift"])
        self.err_scale_ = None if state["err_scale"] is None else np.asarray(state["err_scale"])
        self.member_errors_ = [None if self.err_shift_ is None else (self.err_shift_, self.err_scale_)]
        self.member_errors_ += [None if e is None else (np.asarray(e[0]), np.asarray(e[1]))
                                for e in state.get("member_errors", [])]
        loc, spread = state.get("member_loc"), state.get("member_spread")
        self.member_loc_ = None if loc is None else np.asarray(loc, dtype=np.float64)
        self.member_spread_ = None if spread is None else np.asarray(spread, dtype=np.float64)
        code = state.get("code_distance")
        if code is None:  # saved without one (or before it existed): the reconstruction score alone
            self.code_distance = "none"
        else:
            self.code_k_ = int(code["k"])  # kept below the reference's rows by _load_files
            self.code_loc_, self.code_spread_ = np.asarray(code["loc"], np.float64), np.asarray(code["spread"], np.float64)
            self.parts_loc_ = np.asarray(code["parts_loc"], np.float64)
            self.parts_spread_ = np.asarray(code["parts_spread"], np.float64)
        self._set(Threshold(**state["threshold"]))


def _robust_location_spread(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per member (rows of ``raw`` ``(M, N)``): median and MAD (as a standard deviation; the standard
    deviation where the MAD is 0) of its training scores, used to put members on one scale."""
    from aekit.apps.thresholds import MAD_TO_STD

    loc = np.median(raw, axis=1)
    mad = MAD_TO_STD * np.median(np.abs(raw - loc[:, None]), axis=1)
    spread = np.where(mad > 1e-12, mad, raw.std(axis=1))
    return loc, np.where(spread > 1e-12, spread, 1.0)


def _mean_z(raw: np.ndarray, loc: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``raw`` ``(M, N)``, each row put on one scale by its ``loc``/``spread`` ``(M,)`` (a robust
    z-score), then averaged: ``(N,)``. How members' scores, members' code distances and the
    reconstruction and code parts are combined."""
    return np.mean((raw - loc[:, None]) / spread[:, None], axis=0)


SCORE_CHUNK = 1024  # rows per forward pass when scoring


def knn_mean_distance(q: Any, ref: Any, k: int) -> Any:
    """Mean Euclidean distance from each row of ``q`` ``(B, c)`` to its ``k`` nearest rows of ``ref``
    ``(R, c)``, ``k < R``: ``(B,)``, in ``q``'s dtype. A row with a copy in ``ref`` (distance 0: a
    training row scored again, or a new row equal to one) leaves that one copy out, so a training
    row gets the distance a new row like it would (its score on the threshold's scale), whether it
    is scored at fit time or later.

    Written as ``|q|² - 2 q·r + |r|²`` (one matrix product; the ONNX export computes it with the
    same operations, so both give the same numbers)."""
    import torch

    qq, rr = (q * q).sum(1, keepdim=True), (ref * ref).sum(1)
    d2 = qq - 2.0 * (q @ ref.T) + rr
    # a copy of a reference row is at distance 0, not at the square root of the rounding left over
    d2 = torch.where(d2 <= 1e-12 * (qq + rr), torch.zeros_like(d2), d2)
    near = d2.sqrt().topk(int(k) + 1, dim=1, largest=False, sorted=True).values  # (B, k + 1), ascending
    return torch.where(near[:, 0] == 0.0, near[:, 1:].mean(1), near[:, :-1].mean(1))


def _scores_fixed(fn: Any, X: np.ndarray, transform: Any = None) -> np.ndarray:
    """:func:`aekit.runs.batched` with fixed-size passes (a row scores the same in any batch), as float64."""
    from aekit.runs import batched

    return batched(fn, X, SCORE_CHUNK, fixed=True, transform=transform).astype(np.float64)


# --- variational scores -----------------------------------------------------------------

def _is_variational(model: Any) -> bool:
    import torch

    x = torch.zeros(1, *model.input_shape)
    with torch.no_grad():
        extras = model.eval()(x).extras
    return "mu" in extras and "logvar" in extras


def _log_likelihood(model: Any, x_hat: Any, x: Any) -> Any:
    """``log p(x | z)`` per example: Bernoulli for a BCE model, unit-variance Gaussian otherwise."""
    from aekit.models.base import per_sample_error

    kind = getattr(model.config, "loss", "mse")
    if kind == "bce":
        return -per_sample_error(x_hat, x, "bce").flatten(1).sum(1)
    return -0.5 * (x_hat - x).pow(2).flatten(1).sum(1) - 0.5 * x[0].numel() * math.log(2 * math.pi)


def _variational_score(model: Any, Xs: np.ndarray, kind: str, n_samples: int, seed: int) -> np.ndarray:
    """Negative single-sample ELBO (``kind="elbo"``) or negative IWAE bound with
    ``n_samples`` draws (``kind="iwae"``) per example, in nats; higher = more anomalous.

    Every row uses the same standard-normal draws ε_1..ε_k (seeded by ``seed``), so a row's
    score does not depend on which other rows it is scored with (the threshold is set on
    training scores; test rows must get comparable ones). With aekit's ``vae`` the family's
    own posterior and likelihood are used; any other family whose ``forward`` puts the
    Gaussian posterior's ``mu`` and ``logvar`` in ``extras`` works too (prior N(0, I),
    unit-variance Gaussian or Bernoulli decoder by the model's loss).
    """
    import torch

    k = 1 if kind == "elbo" else int(n_samples)
    eps: Any = None
    out: list[np.ndarray] = []
    with torch.no_grad():
        for i in range(0, len(Xs), 1024):
            x = torch.from_numpy(np.array(Xs[i : i + 1024], dtype=np.float32))
            if hasattr(model, "posterior") and hasattr(model, "log_likelihood"):  # aekit's vae family
                q = model.posterior(x)
                mu, logvar = q.mean, q.logvar

                def loglik(z: Any, x: Any = x) -> Any:
                    return model.log_likelihood(x, model.decode_logits(z))
            else:
                ex = model(x).extras
                shape = ex["mu"].shape
                mu, logvar = ex["mu"].flatten(1), ex["logvar"].flatten(1)

                def loglik(z: Any, x: Any = x, shape: Any = shape) -> Any:
                    return _log_likelihood(model, model.decode(z.view(shape)), x)
            if eps is None:
                eps = torch.randn((k, mu.shape[1]), generator=torch.Generator().manual_seed(seed))
            std = (0.5 * logvar).exp()
            log_w = []
            for e in eps:  # k decoder passes over the whole chunk, the same draw for every row
                z = mu + std * e
                if kind == "elbo":
                    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
                    log_w.append(loglik(z) - kl)
                    continue
                log_q = (-0.5 * e.pow(2) - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(1)
                log_p = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(1)
                log_w.append(loglik(z) + log_p - log_q)
            bound = torch.logsumexp(torch.stack(log_w), 0) - math.log(k)
            out.append((-bound).double().numpy())
    return np.concatenate(out) if out else np.zeros((0,), dtype=np.float64)


# --- time series ---------------------------------------------------------------------

class SeriesDetector(AutoencoderEstimator):
    """Anomalies in a time series ``(T,)`` or ``(T, C)``: windows in, point scores out.

    The series is scaled per channel (``scaling``, standardisation by default), cut into
    windows of ``window`` steps every ``stride`` steps, and an :class:`AutoencoderDetector`
    (a 1-D conv by default, or any family) is trained on the windows with the same
    options (``noise``, ``standardize_errors``, ``reduction``, ``score_type``) and the
    shared training settings. Two scores are public:

    * :meth:`window_scores`: one score per window (the window detector's score, reduced
      over the window's channels and steps by ``reduction``);
    * :meth:`anomaly_score`: one score per point, aggregating (``"mean"`` or ``"max"``) the
      per-time-step errors of every window covering it, so a short spike is located, not
      smeared over whole windows. The threshold rule works on the training points' scores.

    ``model="conv"`` gets a small 1-D conv (channels 16-32, pools of 2) unless
    ``model_params`` say otherwise; ``model="mlp"`` sees flattened windows.

    Defaults that differ from :data:`~aekit.apps.base.TRAINING_SETTINGS`: 20 epochs,
    because a stride-1 series yields about one window per point, so an epoch sees each
    point ``window`` times; and ``contamination`` 0.01, because anomalous *points* are far
    rarer than anomalous rows of a table.

    Fitted attributes: ``detector_`` (the window detector), ``n_channels_``, ``scaler_``
    (per-channel scaling), ``offset_``, ``threshold_``, ``train_scores_`` (point scores
    of the training series).
    """

    kind = "series_detector"
    params = {
        "window": 64, "stride": 1, "aggregation": "mean", "model": "conv", "model_params": None,
        "contamination": 0.01, "threshold": "contamination", "threshold_param": None, "reduction": "mean",
        "standardize_errors": False, "score_type": "recon", "n_samples": 16, "scaling": "standard",
    }
    settings = {"max_epochs": 20}

    def _windows(self, series: Any, fit: bool) -> tuple[np.ndarray, np.ndarray, int]:
        from aekit.data.dataset import Scaler
        from aekit.data.series import as_series, sliding_windows

        x = as_series(series)
        if fit:
            self.n_channels_ = x.shape[1]
            if np.all(x.std(axis=0) == 0):
                raise DataError("every channel of the series is constant: there is nothing to learn")
            self.scaler_ = Scaler(self.scaling, per_feature=True).fit(x)  # type: ignore[arg-type]
        elif x.shape[1] != self.n_channels_:
            raise ShapeError(f"series has {x.shape[1]} channels, the detector was fitted on {self.n_channels_}")
        W, starts = sliding_windows(self.scaler_.transform(x), int(self.window), int(self.stride))
        return W.reshape(len(W), -1), starts, len(x)

    def _model_params(self) -> dict[str, Any] | None:
        if self.model == "conv" and self.model_params is None:
            # two stride-1 convs with max-pools of 2, nearest upsampling back: a compact 1-D conv AE
            return {"channels": [16, 32], "kernel_size": [7, 5], "stride": [1], "pool": [2, 2],
                    "bottleneck": "conv", "decoder": "upsample", "decoder_channels": [16, self.n_channels_],
                    "decoder_kernel_size": [5, 7], "decoder_stride": [2, 2], "output_activation": "identity"}
        return self.model_params

    def _window_detector(self) -> AutoencoderDetector:
        """The table detector the windows train, with this detector's options and settings."""
        shared = {k: getattr(self, k) for k in TRAINING_SETTINGS}
        return AutoencoderDetector(
            model=self.model, model_params=self._model_params(), input_shape=(self.n_channels_, int(self.window)),
            scaling="none", reduction=self.reduction, standardize_errors=self.standardize_errors,
            score_type=self.score_type, n_samples=self.n_samples, n_estimators=1, max_features=1.0,
            code_distance="none", **shared,
        )

    def fit(self, series: Any, y: Any = None) -> "SeriesDetector":
        """Train on a (mostly normal) series; ``y`` is ignored."""
        if self.aggregation not in ("mean", "max"):
            raise ConfigError(f"aggregation must be mean or max, got {self.aggregation!r}")
        self._check_settings()
        W, starts, T = self._windows(series, fit=True)
        if self.model == "conv" and int(self.window) % 4:
            raise ConfigError(f"the default conv model needs a window divisible by 4, got {self.window}")
        self.detector_ = self._window_detector().fit(W)
        self.history_ = self.detector_.history_
        self.train_scores_ = self._points(W, starts, T)
        param = self.contamination if self.threshold == "contamination" else self.threshold_param
        self._set(choose_threshold(self.threshold, self.train_scores_, param))
        return self

    def _set(self, threshold: Threshold) -> None:
        self.threshold_ = threshold
        self.offset_ = -float(threshold.value)

    def _points(self, W: np.ndarray, starts: np.ndarray, T: int) -> np.ndarray:
        from aekit.data.series import windows_to_points

        det = self.detector_
        E = det._element_errors(W.reshape(len(W), *det.input_shape_))  # (N, C, L)
        if det.err_shift_ is not None:
            E = (E - det.err_shift_) / det.err_scale_
        return windows_to_points(E.mean(axis=1), starts, int(self.window), T, self.aggregation)  # type: ignore[arg-type]

    def anomaly_score(self, series: Any) -> np.ndarray:
        """Point scores ``(T,)``: higher = more anomalous."""
        check_is_fitted(self, "detector_")
        return self._points(*self._windows(series, fit=False))

    def window_scores(self, series: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(scores per window (N,), window starts (N,))``."""
        check_is_fitted(self, "detector_")
        W, starts, _ = self._windows(series, fit=False)
        return self.detector_.anomaly_score(W), starts

    def score_samples(self, series: Any) -> np.ndarray:
        """``-anomaly_score``: lower = more abnormal, per point."""
        return -self.anomaly_score(series)

    def decision_function(self, series: Any) -> np.ndarray:
        """Negative at anomalous points."""
        return self.score_samples(series) - self.offset_

    def predict(self, series: Any) -> np.ndarray:
        """+1 normal / -1 anomalous, per point."""
        return np.where(self.decision_function(series) < 0, -1, 1)

    def is_anomaly(self, series: Any) -> np.ndarray:
        """Boolean per point."""
        return self.predict(series) == -1

    def set_threshold(self, series: Any, y: Any = None, method: str = "percentile", param: float | None = None) -> Threshold:
        """Re-threshold on the point scores of ``series`` (``"best_f1"`` uses the point labels ``y``)."""
        t = choose_threshold(method, self.anomaly_score(series), param, y_true=y)
        self._set(t)
        return t

    # --- saving ---------------------------------------------------------------------------

    def _saved_model(self) -> Any:
        return self.detector_.model_

    def _preprocessing(self) -> dict[str, Any] | None:
        return self.scaler_.to_dict()

    def _state(self) -> dict[str, Any]:
        return {"n_channels": int(self.n_channels_), "threshold": self.threshold_.to_dict(),
                "window_detector": self.detector_._state()}

    def _restore(self, state: dict[str, Any], model: Any, preprocessing: dict[str, Any] | None) -> None:
        from aekit.data.dataset import Scaler

        self.n_channels_ = int(state["n_channels"])
        self.detector_ = self._window_detector()
        self.detector_._restore(state["window_detector"], model, None)
        self.scaler_ = Scaler.from_dict(preprocessing)  # type: ignore[arg-type]
        self._set(Threshold(**state["threshold"]))


def score_run(run: Any, X: Any, contamination: float | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Anomaly scores (higher = worse), 0/1 flags and a note on the rule, for whatever :func:`aekit.load`
    returned: a detector uses its own score and threshold; a plain autoencoder run scores by
    reconstruction error and flags the ``contamination`` share of ``X`` (none without it)."""
    from aekit.apps.thresholds import by_contamination

    if isinstance(run, (AutoencoderDetector, SeriesDetector)):
        scores = run.anomaly_score(np.asarray(X).reshape(len(X), -1))
        return scores, scores > run.threshold_.value, f"threshold {run.threshold_.value:.6g} ({run.threshold_.method})"
    if not hasattr(run, "score"):
        raise ConfigError(f"a {type(run).__name__} run gives no anomaly scores; use a detector or a training run")
    scores = np.asarray(run.score(X), dtype=np.float64)
    if contamination is None:
        return scores, np.zeros(len(scores), dtype=bool), "no threshold (pass --contamination to flag rows)"
    return scores, scores > by_contamination(scores, contamination), f"contamination {contamination:g} of the input"


# --- saving and loading ------------------------------------------------------------------


def save_detector(det: AutoencoderDetector | SeriesDetector, folder: Any) -> Any:
    """Write a fitted detector in aekit's run format (``det.save(folder)``)."""
    return det.save(folder)


def load_detector(folder: Any) -> AutoencoderDetector | SeriesDetector:
    """Load a detector saved by :func:`save_detector` (or by aekit 0.1, upgraded on load)."""
    import aekit

    det = aekit.load(folder)
    if not isinstance(det, (AutoencoderDetector, SeriesDetector)):
        from aekit.errors import ModelFileError

        raise ModelFileError(f"{folder}: an aekit run of kind {getattr(det, 'kind', 'autoencoder')!r}, not a detector")
    return det
