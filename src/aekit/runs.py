"""Run folders and saved models.

A run folder holds ``config.yaml`` (what was asked for), ``model.safetensors`` +
``model.json`` (family, config, preprocessing, checksum), ``metrics.json``,
``logs/``, ``checkpoints/`` and ``figures/``. :func:`load` rebuilds the model from
``model.json`` alone, loads weights strictly, and never touches training code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor

from aekit.config import to_dict
from aekit.data.dataset import Scaler, check_array
from aekit.errors import ConfigError, DataError, ModelFileError, ShapeError
from aekit.io import atomic_save_json, atomic_write_bytes
from aekit.models.base import Autoencoder, per_sample_error

MODEL_FORMAT = "aekit-model/2"
READABLE_FORMATS = ("aekit-model/1", MODEL_FORMAT)  # /1: the same schema without "kind" and "aekit_version"
EXAMPLES_FILE = "examples.npz"
MAX_EXAMPLES = 1000  # held-out examples kept in a run folder for its figures and reports

# model.json, one schema for every kind of run:
#   format, kind ("autoencoder" for `aekit train` runs, else the application: "detector",
#   "series_detector", "reducer", "image_denoiser", "speech_denoiser", "sound_detector"),
#   aekit_version, family + config (the model), preprocessing (the fitted input scaling),
#   weights_sha256, and per kind: data (what a training run saw) or estimator
#   (the application's class, parameters and fitted state).


def save_model(folder: str | Path, model: Autoencoder, scaler: Scaler | None = None, extra: dict[str, Any] | None = None,
               *, kind: str = "autoencoder", preprocessing: dict[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` and ``model.json`` into ``folder`` atomically.

    ``preprocessing`` (a scaler's ``to_dict()``) defaults to ``scaler``'s; ``kind`` says
    what the folder holds, so :func:`aekit.load` rebuilds the right object.
    """
    from safetensors.torch import save

    from aekit import __version__

    folder = Path(folder)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    blob = save(state)
    meta = {
        "format": MODEL_FORMAT,
        "kind": kind,
        "aekit_version": __version__,
        "family": model.family,
        "config": to_dict(model.config),
        "preprocessing": preprocessing if preprocessing is not None else (None if scaler is None else scaler.to_dict()),
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
        **(extra or {}),
    }
    atomic_write_bytes(folder / "model.safetensors", blob)
    atomic_save_json(folder / "model.json", meta)
    return folder


def load_model(folder: str | Path) -> tuple[Autoencoder, Scaler | None, dict[str, Any]]:
    """Rebuild a model from ``model.json`` + ``model.safetensors``; strict, checksummed, eval mode."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    from aekit.registry import build_model

    folder = Path(folder)
    meta_path, weights_path = folder / "model.json", folder / "model.safetensors"
    if not folder.exists():
        raise ModelFileError(f"run folder not found: {folder}")
    for p in (meta_path, weights_path):
        if not p.is_file():
            raise ModelFileError(f"{folder}: missing {p.name} (not a finished aekit run?)")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{meta_path}: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") not in READABLE_FORMATS:
        written = meta.get("format") if isinstance(meta, dict) else None
        raise ModelFileError(f"{meta_path}: not an aekit model description this version reads "
                             f"(format {written!r}; readable: {', '.join(READABLE_FORMATS)})")
    blob = weights_path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("weights_sha256"):
        raise ModelFileError(f"{weights_path}: checksum mismatch (file truncated or modified)")
    try:
        state = load(blob)
    except (SafetensorError, Exception) as err:  # noqa: BLE001 - any decode failure is a bad file
        raise ModelFileError(f"{weights_path}: cannot read weights ({err})") from None
    try:
        model = build_model(meta["family"], meta["config"])
    except ConfigError as err:
        raise ModelFileError(f"{meta_path}: {err}") from None
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{meta_path}: inconsistent model description ({type(err).__name__}: {err})") from None
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # tensor sizes differ from what model.json describes
        first = next((line.strip() for line in str(err).splitlines()[1:] if line.strip()), str(err))
        raise ModelFileError(f"{weights_path}: weights do not fit the model in model.json ({first})") from None
    if result.missing_keys or result.unexpected_keys:
        raise ModelFileError(
            f"{weights_path}: weights do not fit the model (missing: {', '.join(result.missing_keys[:3]) or '-'}; "
            f"unexpected: {', '.join(result.unexpected_keys[:3]) or '-'})"
        )
    model.eval()
    scaler = None if meta.get("preprocessing") is None else Scaler.from_dict(meta["preprocessing"])
    meta.setdefault("kind", "autoencoder")
    return model, scaler, meta


@torch.no_grad()
def batched(fn: Callable[[Tensor], Tensor], X: Any, batch_size: int = 4096, fixed: bool = False,
            transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """aekit's one inference loop: ``fn`` over float32 slices of ``X`` without gradients.

    ``transform`` (numpy -> float32 numpy, e.g. a scaler) is applied chunk by chunk, so a
    large input is never copied whole. With ``fixed`` every pass has exactly ``batch_size``
    rows (the last chunk zero-padded): a float32 matrix product's last bits depend on how
    many rows it multiplies, so a row then gets the same result whatever batch it comes in
    (scikit-learn's subset-invariance check). Returns one float32 array (empty input: shape ``(0,)``).
    """
    if transform is None:
        arr = np.ascontiguousarray(X, dtype=np.float32)
        X = arr if arr.flags.writeable else arr.copy()  # torch refuses read-only memory
    outs = []
    for i in range(0, len(X), batch_size):
        chunk = X[i : i + batch_size]
        part = torch.from_numpy(np.ascontiguousarray(transform(chunk) if transform is not None else chunk, dtype=np.float32))
        n = len(part)
        if fixed and n < batch_size:
            part = torch.cat([part, part.new_zeros((batch_size - n, *part.shape[1:]))])
        outs.append(fn(part)[:n])
    return torch.cat(outs).numpy() if outs else np.zeros((0,), dtype=np.float32)


def save_examples(folder: str | Path, X: np.ndarray, y: np.ndarray | None = None, limit: int = MAX_EXAMPLES) -> Path:
    """Keep the first ``limit`` held-out examples (and labels) in ``examples.npz``, compressed."""
    from aekit.io import atomic_write_with

    arrays = {"X": np.asarray(X[:limit], dtype=np.float32)}
    if y is not None:
        arrays["y"] = np.asarray(y[:limit])

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    return atomic_write_with(Path(folder) / EXAMPLES_FILE, write)


def load_examples(folder: str | Path) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(X, y or None)`` from a run's ``examples.npz``; None when the run has none."""
    path = Path(folder) / EXAMPLES_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz["X"]), (np.asarray(npz["y"]) if "y" in npz.files else None)
    except (OSError, KeyError, ValueError) as err:
        raise ModelFileError(f"{path}: cannot read held-out examples ({err})") from None


class TrainedAutoencoder:
    """A trained model with its preprocessing: numpy in, numpy out, in original units.

    ``encode``/``reconstruct``/``score`` scale inputs with the scaler fitted on the
    training split, check the shape, and batch through the model without gradients.
    """

    def __init__(self, model: Autoencoder, scaler: Scaler | None, meta: dict[str, Any], path: Path | None = None,
                 device: str = "cpu") -> None:
        self.model = model.eval()
        self.scaler = scaler
        self.meta = meta
        self.path = path
        self.device = torch.device(device)
        if next(iter(self.model.parameters()), None) is not None:
            self.model.to(self.device)
        self._latent_shape: tuple[int, ...] | None = None

    @property
    def family(self) -> str:
        return self.model.family

    @property
    def config(self) -> dict[str, Any]:
        """The run's config (``config.yaml``) when loaded from a run folder, else the model config."""
        if self.path is not None and (self.path / "config.yaml").is_file():
            from aekit.config import load_yaml

            return load_yaml(self.path / "config.yaml")
        return {"model": {"family": self.family, **to_dict(self.model.config)}}

    @property
    def metrics(self) -> dict[str, Any]:
        if self.path is not None and (self.path / "metrics.json").is_file():
            path = self.path / "metrics.json"
            try:
                data = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise ModelFileError(f"{path}: not valid JSON ({err})") from None
            if not isinstance(data, dict):
                raise ModelFileError(f"{path}: expected a JSON object")
            return data
        return {}

    def _prepare(self, X: Any) -> np.ndarray:
        X = check_array(X, "input")
        shape = self.model.input_shape
        if tuple(X.shape[1:]) != shape:
            if int(np.prod(X.shape[1:])) == int(np.prod(shape)):
                X = X.reshape(len(X), *shape)  # e.g. flat 784-vectors for a 1x28x28 model
            else:
                raise ShapeError(f"input has shape {tuple(X.shape[1:])} per example, the model expects {shape}")
        return X if self.scaler is None else self.scaler.transform(X)

    def _batched(self, fn: Any, X: np.ndarray) -> np.ndarray:
        """:func:`batched` on this run's device (inputs moved there, results back to numpy)."""
        device = self.device
        return batched(lambda t: fn(t.to(device)).cpu(), X)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one code, e.g. ``(8,)`` (found by encoding one zero input)."""
        if self._latent_shape is None:
            with torch.no_grad():
                probe = torch.zeros((1, *self.model.input_shape), device=self.device)
                self._latent_shape = tuple(self.model.encode(probe).shape[1:])
        return self._latent_shape

    def encode(self, X: Any) -> np.ndarray:
        """Codes of ``X`` (deterministic; a VAE's posterior mean), shape ``(N, latent...)``."""
        return self._batched(self.model.encode, self._prepare(X))

    def decode(self, Z: Any) -> np.ndarray:
        """Decode codes back to inputs in original units."""
        z = np.asarray(Z, dtype=np.float32)
        want = self.latent_shape
        if z.ndim == len(want):  # one code
            z = z[None]
        if tuple(z.shape[1:]) != want:
            if z.ndim >= 2 and int(np.prod(z.shape[1:])) == int(np.prod(want)):
                z = z.reshape(len(z), *want)
            else:
                raise ShapeError(f"codes have shape {tuple(z.shape[1:])} each, the model's code shape is {want}")
        if not np.isfinite(z).all():
            raise DataError("codes hold NaN or inf values")
        out = self._batched(self.model.decode, z)
        return out if self.scaler is None else self.scaler.inverse_transform(out)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstruction of ``X`` in the input's original units."""
        out = self._batched(self.model.reconstruct, self._prepare(X))
        return out if self.scaler is None else self.scaler.inverse_transform(out)

    def score(self, X: Any) -> np.ndarray:
        """Per-example mean reconstruction error in scaled units (higher = more anomalous)."""
        return self._batched(self.model.score, self._prepare(X))

    def error_map(self, X: Any) -> np.ndarray:
        """Element-wise reconstruction error, the input's shape (for plots)."""
        kind = getattr(self.model.config, "loss", "mse")

        def fn(t: Tensor) -> Tensor:
            return per_sample_error(self.model.reconstruct(t), t, kind)

        return self._batched(fn, self._prepare(X))

    @torch.no_grad()
    def evaluate(self, X: Any, batch_size: int = 2048) -> dict[str, float]:
        """Mean of every loss part over ``X`` (as in training, without corruption)."""
        t = torch.from_numpy(self._prepare(X))
        sums: dict[str, float] = {}
        for i in range(0, len(t), batch_size):
            xb = t[i : i + batch_size].to(self.device)
            out = self.model.loss(xb)
            for k, v in {"loss": out.total, **out.parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(xb)
        return {k: v / len(t) for k, v in sums.items()}

    def save(self, folder: str | Path) -> Path:
        own = ("format", "kind", "aekit_version", "family", "config", "preprocessing", "weights_sha256")
        return save_model(folder, self.model, self.scaler, {k: v for k, v in self.meta.items() if k not in own})


def load(path: str | Path, device: str = "cpu", check_state: bool = True) -> TrainedAutoencoder:
    """Load the autoencoder of a run folder (any kind) with its preprocessing, to run on ``device``.

    :func:`aekit.load` returns the application object for application runs; this gives
    the plain model view of any run.

    Weights load the same whichever device trained them; ``device`` ("cpu", "cuda",
    "cuda:1", "mps") is where inference runs. A run folder whose ``state.json`` says it
    is not finished (interrupted, failed, still running) is refused with one line
    (``check_state=False`` skips that, e.g. for the report written while finishing).
    """
    target = _check_device(device)
    if check_state and Path(path).is_dir():
        from aekit.runstate import ensure_finished

        ensure_finished(path)
    model, scaler, meta = load_model(path)
    return TrainedAutoencoder(model, scaler, meta, Path(path), device=target)


def _check_device(device: str) -> str:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ConfigError(f"device must be cpu, cuda[:N] or mps, got {device!r} ({err})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but no CUDA GPU is available here (use cpu)")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(f"device {device!r} asked for, but no Apple GPU is available here (use cpu)")
    return str(dev)
