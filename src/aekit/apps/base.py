"""One estimator base for every application, with one set of training settings.

Every application (detector, series detector, reducer, image denoiser, speech denoiser,
machine-sound detector) is an :class:`AutoencoderEstimator`: a scikit-learn estimator
that builds an autoencoder, turns its input into arrays, and trains through
:meth:`AutoencoderEstimator._fit_engine`, the one path into the engine. A subclass only
declares

* ``kind``: its name in a saved ``model.json`` (how :func:`aekit.load` knows what to rebuild);
* ``params``: its own parameters and their defaults, in order;
* ``settings``: where a default of :data:`TRAINING_SETTINGS` differs for it, with the reason
  in a comment;

and the base writes its ``__init__`` (explicit keyword parameters, as scikit-learn's
``get_params``/``clone`` and ``help()`` expect). Saving writes the model with aekit's one
run format plus the estimator's parameters and fitted state (:meth:`_state`), so
:func:`load_estimator` rebuilds any application from its folder.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError

# The shared training settings: scikit-learn's names, one default each. An application
# that needs another default says so in its ``settings`` with the reason.
TRAINING_SETTINGS: dict[str, Any] = {
    "max_epochs": 30,  # upper bound on training epochs
    "batch_size": 64,  # examples per optimisation step
    "lr": 1e-3,  # Adam learning rate
    "weight_decay": 0.0,  # L2 penalty on the weights
    "validation_fraction": 0.1,  # share held out for best-epoch selection (none below MIN_ROWS_FOR_VALIDATION rows)
    "patience": None,  # early stopping after this many epochs without improvement (None: off)
    "noise": None,  # corruption specs for denoising training (aekit.data.noise), None: plain reconstruction
    "random_state": 0,  # seeds weights, the validation split, shuffling and corruption
    "device": "cpu",  # where training runs: cpu, gpu or auto (inference always runs on the CPU)
    "verbose": 0,  # 1: show training progress (a bar on a terminal, a line per epoch otherwise)
}
MIN_ROWS_FOR_VALIDATION = 20  # fewer rows than this: all of them train, the best epoch is chosen on training loss

_KINDS: dict[str, type["AutoencoderEstimator"]] = {}


def _make_init(cls: type, defaults: dict[str, Any]) -> None:
    """Give ``cls`` an ``__init__`` whose signature lists every parameter with its default."""
    sig = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v) for k, v in defaults.items()]
    )

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{type(self).__name__}(): {err}") from None
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)  # stored as given (scikit-learn's contract)

    __init__.__signature__ = sig  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__name__}.__init__"
    __init__.__doc__ = f"Store the parameters of {cls.__name__} (see the class docstring)."
    cls.__init__ = __init__  # type: ignore[misc]


class AutoencoderEstimator(BaseEstimator):
    """Base of every application estimator; see the module docstring."""

    kind: ClassVar[str] = ""
    noun: ClassVar[str] = ""  # what a run of this kind is called in messages ("an audio denoiser run")
    params: ClassVar[dict[str, Any]] = {}
    settings: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = set(cls.settings) - set(TRAINING_SETTINGS)
        if unknown:
            raise TypeError(f"{cls.__name__}.settings: {sorted(unknown)} are not training settings")
        clash = set(cls.params) & set(TRAINING_SETTINGS)
        if clash:
            raise TypeError(f"{cls.__name__}.params: {sorted(clash)} are training settings; override them in settings")
        _make_init(cls, {**cls.params, **TRAINING_SETTINGS, **cls.settings})
        if cls.kind:
            _KINDS[cls.kind] = cls

    # --- training -------------------------------------------------------------------------

    def _check_settings(self) -> None:
        """Refuse a bad training setting before any data is touched."""
        for name in ("max_epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        for name, allow_zero in (("lr", False), ("weight_decay", True)):
            value = getattr(self, name)
            ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < 0 or (value == 0 and not allow_zero):
                raise ConfigError(f"{name} must be a number {'>= 0' if allow_zero else '> 0'}, got {value!r}")
        vf = self.validation_fraction
        if isinstance(vf, bool) or not isinstance(vf, (int, float, np.number)) or not 0.0 <= float(vf) < 1.0:
            raise ConfigError(f"validation_fraction must be in [0, 1), got {vf!r}")
        if self.patience is not None and (isinstance(self.patience, bool) or int(self.patience) < 0):
            raise ConfigError(f"patience must be None or >= 0, got {self.patience!r}")
        if self.device not in ("cpu", "gpu", "cuda", "auto"):
            raise ConfigError(f"device must be cpu, gpu or auto, got {self.device!r}")
        if self.noise:
            from aekit.data.noise import build_corruption

            build_corruption([dict(s) for s in self.noise])

    def _validate_table(self, X: Any, reset: bool, gap_note: str = "") -> np.ndarray:
        """scikit-learn's input validation for ``(n_samples, n_features)`` tables, its messages kept
        (its own checks match them) but raised as aekit errors: a width that differs from the
        fitted one is a :class:`ShapeError`, anything else (NaN, empty, text) a :class:`DataError`;
        for a DataFrame, one line naming the column and row (``gap_note`` follows a gap's)."""
        from sklearn.utils.validation import validate_data

        from aekit.data.tables import frame_problem, is_frame

        try:
            return validate_data(self, X, dtype=[np.float64, np.float32], reset=reset)
        except ValueError as err:
            if isinstance(err, (DataError, ShapeError, ConfigError)):
                raise
            if not reset and "features" in str(err) and "expecting" in str(err):
                raise ShapeError(str(err)) from None
            problem = frame_problem(X, gap_note) if is_frame(X) else None  # sklearn's says neither column nor row
            raise DataError(problem or str(err)) from None

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Seeded ``(train, validation)`` row indices with ``validation_fraction`` of ``n`` rows
        held out, or ``None`` when every row trains (too few rows, or a fraction of 0)."""
        n_val = int(round(n * float(self.validation_fraction))) if n >= MIN_ROWS_FOR_VALIDATION else 0
        if n_val == 0:
            return None
        perm = np.random.default_rng(int(self.random_state)).permutation(n)
        return perm[n_val:], perm[:n_val]

    def _fit_engine(self, model: Any, X: np.ndarray, target: np.ndarray | None = None, seed: int | None = None) -> Any:
        """Train ``model`` on ``X`` (model units) to reproduce ``target`` (default ``X``), the one
        way every application trains: seeded validation split, the shared settings, the engine.
        ``seed`` (default ``random_state``) seeds shuffling and corruption; the validation split
        always follows ``random_state``, so the members of an ensemble share their held-out rows.

        Sets ``history_`` and returns the engine's :class:`~aekit.training.FitResult`
        (its ``model`` holds the best epoch's weights, in eval mode, on the CPU).
        """
        from aekit.training import OptimConfig, TrainerConfig, fit_model

        self._check_settings()
        if target is not None and len(target) != len(X):
            raise DataError(f"{len(target)} targets for {len(X)} inputs")
        split = self._split(len(X))
        # without a validation split the arrays train as they are (no copy of a large input)
        Xtr, Xva = (X, None) if split is None else (X[split[0]], X[split[1]])
        Ttr, Tva = (target, None) if split is None or target is None else (target[split[0]], target[split[1]])
        result = fit_model(
            model, Xtr, Xva, target=Ttr, val_target=Tva,
            trainer=TrainerConfig(
                max_epochs=int(self.max_epochs), batch_size=max(1, min(int(self.batch_size), len(Xtr))),
                patience=self.patience, seed=int(self.random_state if seed is None else seed),
                accelerator="gpu" if self.device == "cuda" else self.device, progress=bool(self.verbose),
            ),
            optim=OptimConfig(lr=float(self.lr), weight_decay=float(self.weight_decay)),
            noise=None if not self.noise else [dict(s) for s in self.noise],
        )
        self.history_ = result.history
        return result

    # --- saving ---------------------------------------------------------------------------

    def _saved_model(self) -> Any:
        """The trained :class:`~aekit.models.base.Autoencoder` that :meth:`save` writes."""
        return self.model_

    def _state(self) -> dict[str, Any]:
        """Fitted attributes other than the model's weights, as JSON-safe values."""
        return {}

    def _restore(self, state: dict[str, Any], model: Any, preprocessing: dict[str, Any] | None) -> None:
        """Set the fitted attributes from :meth:`_state`'s output, the loaded model and the saved
        ``preprocessing`` (:meth:`_preprocessing`'s output)."""
        self.model_ = model
        if preprocessing is not None:
            from aekit.data.dataset import Scaler

            self.scaler_ = Scaler.from_dict(preprocessing)

    def _preprocessing(self) -> dict[str, Any] | None:
        """The fitted input scaling, for ``model.json``'s ``preprocessing`` (what export reads)."""
        scaler = getattr(self, "scaler_", None)
        return None if scaler is None else scaler.to_dict()

    def save(self, folder: str | Path) -> Path:
        """Write the fitted estimator as aekit's run format: weights, ``model.json`` with ``kind``,
        parameters, preprocessing and fitted state. :func:`aekit.load` reads it back."""
        from aekit.runs import save_model

        if not hasattr(self, "history_") and not hasattr(self, "model_"):
            raise ConfigError(f"{type(self).__name__} is not fitted; call fit() first")
        folder = Path(folder)
        state = {**self._state(), **self._save_files(folder)}  # files first: model.json records their checksums
        if getattr(self, "table_", None) is not None:  # a mixed-type table's preprocessing (aekit.data.tables)
            state["table"] = self.table_.to_dict()
        estimator = {"class": type(self).__name__, "params": _json_safe(self.get_params(deep=False)),
                     "state": _json_safe(state)}
        path = save_model(folder, self._saved_model(), preprocessing=self._preprocessing(),
                          kind=self.kind, extra={"estimator": estimator})
        history = getattr(self, "history_", None)
        if history and all("epoch" in row for row in history):  # the engine's per-epoch rows: the report draws them
            from aekit.io import atomic_save_json

            atomic_save_json(Path(folder) / "metrics.json", {"epochs": len(history), "history": _json_safe(history)})
        return path

    def _save_files(self, folder: Path) -> dict[str, Any]:
        """Write files beside ``model.safetensors`` (e.g. an ensemble's other members) into ``folder``;
        returns state entries for ``model.json`` (their checksums). Default: none."""
        return {}

    def _load_files(self, folder: Path, state: dict[str, Any]) -> None:
        """Read back what :meth:`_save_files` wrote (``state`` is the saved state). Default: nothing."""

    @classmethod
    def load(cls, folder: str | Path) -> Any:
        """The estimator saved in ``folder`` (:func:`load` does the same for any run); a run of
        another kind is refused with one line."""
        obj = load(folder)
        if not isinstance(obj, cls):
            raise ModelFileError(f"{folder}: not {cls.noun or 'a ' + cls.__name__ + ' run'}")
        return obj

    @classmethod
    def _from_saved(cls, model: Any, meta: dict[str, Any], path: str | Path | None = None) -> "AutoencoderEstimator":
        est = meta.get("estimator") or {}
        try:
            obj = cls(**est.get("params", {}))
            obj._restore(est.get("state", {}), model, meta.get("preprocessing"))
            if (est.get("state") or {}).get("table") is not None:
                from aekit.data.tables import TablePreprocessor

                obj.table_ = TablePreprocessor.from_dict(est["state"]["table"])
            if path is not None:
                obj._load_files(Path(path), est.get("state", {}))
        except (TypeError, KeyError, ValueError, RuntimeError) as err:  # RuntimeError: weights of another shape
            raise ModelFileError(f"model.json: {cls.kind} state does not fit this aekit version ({type(err).__name__}: {(str(err).splitlines() or [''])[0]})") from None
        return obj


def _json_safe(obj: Any) -> Any:
    """Parameters and state as plain JSON values (tuples -> lists, numpy -> lists/numbers)."""
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


# the modules whose estimators register a kind (importing one registers its classes)
APPLICATION_MODULES = ("aekit.apps.detect", "aekit.apps.reduce", "aekit.apps.denoise", "aekit.apps.speech",
                       "aekit.apps.sound", "aekit.apps.fewshot")


def estimator_kinds() -> dict[str, type[AutoencoderEstimator]]:
    """Every application kind, by the name saved in ``model.json``."""
    import importlib

    for name in APPLICATION_MODULES:
        importlib.import_module(name)
    return dict(_KINDS)


def _upgrade_detector(meta: dict[str, Any]) -> dict[str, Any]:
    """A detector's ``model.json`` from aekit 0.1 (format ``aekit-model/1``, a ``detector`` entry)
    in today's schema (``kind`` plus ``estimator`` parameters and state)."""
    old = meta["detector"]
    table = {"family": meta.get("family"), "n_features_in": old["n_features_in"], "input_shape": old["input_shape"],
             "feature_names_in": None, "err_shift": old["err_shift"], "err_scale": old["err_scale"],
             "threshold": old["threshold"]}
    params = dict(old["params"])
    if "accelerator" in params:
        params["device"] = params.pop("accelerator")
    if old["class"] != "SeriesDetector":
        return {**meta, "kind": "detector", "estimator": {"class": "AutoencoderDetector", "params": params, "state": table}}
    n = int(old["n_channels"])
    scaler = {"kind": "standard", "per_feature": True, "shape": [n], "shift": old["mean"], "scale": old["std"]}
    state = {"n_channels": n, "threshold": old["threshold"], "window_detector": table}
    return {**meta, "kind": "series_detector", "preprocessing": scaler,
            "estimator": {"class": "SeriesDetector", "params": params, "state": state}}


def _upgrade(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """``model.json`` of aekit 0.1 (format ``aekit-model/1``) in today's schema, where it can be."""
    if "detector" in meta:
        return _upgrade_detector(meta)
    if "denoiser" in meta:
        params = {"noise": meta["denoiser"].get("noise")}
        return {**meta, "kind": "image_denoiser", "estimator": {"class": "ImageDenoiser", "params": params, "state": {}}}
    if "audio" in meta:
        raise ModelFileError(f"{path}: an audio model written by aekit 0.1 (format aekit-model/1); "
                             "this version reads it no more: train it again")
    return meta


def load(path: str | Path, device: str = "cpu") -> Any:
    """Load any aekit run folder as what it holds: a :class:`~aekit.runs.TrainedAutoencoder` for
    ``aekit train`` runs, the fitted application (detector, reducer, denoiser, ...) otherwise.
    ``model.json``'s ``kind`` decides; the caller never has to ask which command made it.

    Loading never depends on the device a run was trained on; ``device`` is where a
    training run's model runs (applications score on the CPU). A folder whose
    ``state.json`` says it is not finished is refused with one line.
    """
    from aekit.runs import TrainedAutoencoder, _check_device, load_model
    from aekit.runstate import ensure_finished

    path = Path(path)
    target = _check_device(device)
    if path.is_dir():
        ensure_finished(path)
    model, scaler, meta = load_model(path)
    if meta.get("format") == "aekit-model/1":
        meta = _upgrade(path, meta)
    if meta.get("kind", "autoencoder") == "autoencoder":
        return TrainedAutoencoder(model, scaler, meta, path, device=target)
    return load_estimator(path, meta, model)


def load_estimator(path: str | Path, meta: dict[str, Any], model: Any) -> AutoencoderEstimator:
    """Rebuild the application saved in ``path`` (its ``model.json`` is ``meta``)."""
    kinds = estimator_kinds()
    cls = kinds.get(str(meta.get("kind")))
    if cls is None:
        raise ModelFileError(f"{path}: unknown run kind {meta.get('kind')!r}; known: {', '.join(sorted(kinds))}")
    return cls._from_saved(model, meta, path)


__all__ = ["APPLICATION_MODULES", "AutoencoderEstimator", "MIN_ROWS_FOR_VALIDATION", "TRAINING_SETTINGS", "estimator_kinds", "load", "load_estimator"]


MEMBERS_FILE = "members.safetensors"  # an ensemble's members after the first (whose weights are model.safetensors)


def member_seeds(random_state: int, n: int) -> list[int]:
    """Seeds of an ensemble's ``n`` members: the first is ``random_state`` itself (so one member is
    exactly the single-network estimator), the others follow from it deterministically."""
    extra = np.random.SeedSequence(random_state).generate_state(max(n - 1, 0), dtype=np.uint32)
    return [int(random_state)] + [int(s) for s in extra]


def save_members(folder: Path, members: list[Any]) -> dict[str, Any]:
    """An ensemble's networks after the first (which is ``model.safetensors``) in ``folder`` /
    :data:`MEMBERS_FILE`, keys ``"<member>.<parameter>"``, written atomically; returns the
    ``model.json`` state entry holding its SHA-256 (nothing for a single network)."""
    if len(members) <= 1:
        return {}
    import hashlib

    from safetensors.torch import save

    from aekit.io import atomic_write_bytes

    tensors = {f"{m}.{k}": v.detach().cpu().contiguous()
               for m, net in enumerate(members) if m > 0 for k, v in net.state_dict().items()}
    blob = save(tensors)
    atomic_write_bytes(Path(folder) / MEMBERS_FILE, blob)
    return {"members_sha256": hashlib.sha256(blob).hexdigest()}


def save_arrays(folder: Path, name: str, arrays: dict[str, Any]) -> str:
    """Named numpy arrays in ``folder / name`` (safetensors), written atomically; returns the file's
    SHA-256 for ``model.json``."""
    import hashlib

    from safetensors.numpy import save

    from aekit.io import atomic_write_bytes

    blob = save({k: np.ascontiguousarray(v) for k, v in arrays.items()})
    atomic_write_bytes(Path(folder) / name, blob)
    return hashlib.sha256(blob).hexdigest()


def load_arrays(folder: Path, name: str, sha256: str | None, what: str) -> dict[str, Any]:
    """What :func:`save_arrays` wrote, checked against ``sha256``: :class:`ModelFileError` for a
    missing file or a checksum mismatch (``what`` names the model in that message)."""
    import hashlib

    from safetensors.numpy import load

    path = Path(folder) / name
    if not path.is_file():
        raise ModelFileError(f"{folder}: missing {name} ({what} saves its arrays there)")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise ModelFileError(f"{path}: checksum mismatch (file truncated or modified)")
    return load(blob)


def load_members(folder: Path, state: dict[str, Any], first: Any, what: str) -> list[Any]:
    """The ``state["n_members"] - 1`` networks :func:`save_members` wrote, each a copy of ``first``
    (the loaded ``model.safetensors``) with its own weights, in eval mode. :class:`ModelFileError`
    for a missing file or a checksum mismatch; ``what`` names the ensemble in that message."""
    import copy
    import hashlib

    from safetensors.torch import load

    n = int(state.get("n_members", 1))
    if n <= 1:
        return []
    path = Path(folder) / MEMBERS_FILE
    if not path.is_file():
        raise ModelFileError(f"{folder}: missing {MEMBERS_FILE} ({what} of {n} saves its members there)")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != state.get("members_sha256"):
        raise ModelFileError(f"{path}: checksum mismatch (file truncated or modified)")
    tensors = load(blob)
    members = []
    for m in range(1, n):
        net = copy.deepcopy(first)
        prefix = f"{m}."
        net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}, strict=True)
        members.append(net.eval())
    return members
