"""Generation with a trained VAE: prior samples, a 2-D latent grid, interpolation, attribute arithmetic.

Everything works in the trained model's code space and returns arrays in the data's
original units (through the run's scaler): encode gives the posterior mean, decode the
decoder's mean. Sampling from the prior ``N(0, I)`` and the latent grid need a model
with a prior (a VAE); interpolation and attribute arithmetic work for any autoencoder,
though only a VAE's continuous code makes the in-between points look like data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from aekit.errors import ConfigError


def has_prior(trained: Any) -> bool:
    """True for families with a standard-normal prior (a VAE's ``posterior`` or ``sample``)."""
    model = trained.model
    return hasattr(model, "posterior") or hasattr(model, "sample") and "vae" in str(getattr(model, "family", ""))


def _require_prior(trained: Any, what: str) -> None:
    if not has_prior(trained):
        raise ConfigError(f"{what} needs a VAE (a model with a prior); this run's family is {trained.family!r}")


def _latent_size(trained: Any) -> int:
    return int(trained.model.latent_dim)


def sample_prior(trained: Any, n: int, seed: int = 0, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``n`` codes drawn from ``N(0, temperature² I)``; returns ``(samples, codes)``."""
    _require_prior(trained, "sampling from the prior")
    if n < 1:
        raise ConfigError("number of samples must be >= 1")
    z = np.random.default_rng(seed).standard_normal((n, _latent_size(trained))).astype(np.float32) * temperature
    return trained.decode(z), z


def latent_grid(trained: Any, steps: int = 15, dims: tuple[int, int] = (0, 1), quantile: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Decode a ``steps x steps`` grid over two code dimensions (the others at 0).

    The grid spans the prior's ``quantile .. 1 - quantile`` range per axis (Gaussian
    quantiles, as in Kingma & Welling's 2-D manifold figures). Rows go top (high second
    coordinate) to bottom. Returns ``(images (steps², ...), codes (steps², latent))``.
    """
    from scipy.stats import norm

    _require_prior(trained, "a latent grid")
    k = _latent_size(trained)
    if k < 2 or not all(0 <= d < k for d in dims) or dims[0] == dims[1]:
        raise ConfigError(f"latent grid needs two distinct code dimensions below {k}, got {dims}")
    axis = norm.ppf(np.linspace(quantile, 1 - quantile, steps))
    gy, gx = np.meshgrid(axis[::-1], axis, indexing="ij")
    z = np.zeros((steps * steps, k), dtype=np.float32)
    z[:, dims[0]], z[:, dims[1]] = gx.ravel(), gy.ravel()
    return trained.decode(z), z


def interpolate(trained: Any, x1: np.ndarray, x2: np.ndarray, steps: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``steps`` codes on the straight line between the codes of ``x1`` and ``x2``.

    ``x1``/``x2`` are single examples (one example's shape). The first and last outputs
    are the reconstructions of ``x1`` and ``x2``. Returns ``(images, codes)``.
    """
    if steps < 2:
        raise ConfigError("interpolation needs steps >= 2")
    Z = trained.encode(np.stack([np.asarray(x1, np.float32), np.asarray(x2, np.float32)]))
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * (Z.ndim - 1)))
    z = (1 - t) * Z[0:1] + t * Z[1:2]
    return trained.decode(z), z


def attribute_vector(trained: Any, X_with: np.ndarray, X_without: np.ndarray) -> np.ndarray:
    """Mean code of the examples that have an attribute minus the mean code of those that do not."""
    return trained.encode(X_with).mean(0) - trained.encode(X_without).mean(0)


def apply_attribute(trained: Any, X: np.ndarray, vector: np.ndarray, strengths: Sequence[float] = (0.0, 0.5, 1.0, 1.5)) -> np.ndarray:
    """Decode ``code(x) + s · vector`` for every example and strength: ``(len(X), len(strengths), ...)``."""
    Z = trained.encode(X)
    s = np.asarray(strengths, dtype=np.float32)
    z = Z[:, None] + s.reshape(1, -1, *([1] * (Z.ndim - 1))) * vector[None, None]
    out = trained.decode(z.reshape(-1, *Z.shape[1:]))
    return out.reshape(len(X), len(s), *out.shape[1:])


def nearest_neighbour_ratio(trained: Any, generated: np.ndarray, X_train: np.ndarray, X_real: np.ndarray) -> dict[str, Any]:
    """How far generated examples lie from the training data, against fresh real data.

    Every array is in original units; distances are Euclidean in the model's scaled input
    space divided by sqrt(number of features) (an RMS difference per feature, e.g. per
    pixel in [0, 1]). ``generated_nn`` is the mean distance of a generated example to its
    nearest training example, ``real_nn`` the same for held-out real examples ``X_real``,
    and ``ratio = generated_nn / real_nn``: about 1 when the generated examples lie as close
    to the training data as new real data does, above 1 when they lie off it (blur,
    artefacts), well below 1 when they copy training examples. Needs no classifier.
    """
    from sklearn.neighbors import NearestNeighbors

    def scaled(A: np.ndarray) -> np.ndarray:
        A = np.asarray(A, dtype=np.float32)
        A = A if trained.scaler is None else trained.scaler.transform(A)
        return np.asarray(A, dtype=np.float32).reshape(len(A), -1)

    if len(generated) == 0 or len(X_train) == 0 or len(X_real) == 0:
        raise ConfigError("the nearest-neighbour measure needs generated, training and held-out examples")
    train = scaled(X_train)
    index = NearestNeighbors(n_neighbors=1).fit(train)
    scale = float(np.sqrt(train.shape[1]))
    gen = index.kneighbors(scaled(generated))[0][:, 0] / scale
    real = index.kneighbors(scaled(X_real))[0][:, 0] / scale
    return {"generated_nn": float(gen.mean()), "real_nn": float(real.mean()), "ratio": float(gen.mean() / real.mean()),
            "n_generated": int(len(gen)), "n_real": int(len(real)), "n_train": int(len(train))}


def generate_all(
    trained: Any, out_dir: str | Path, X: np.ndarray | None = None, y: np.ndarray | None = None, *,
    n_samples: int = 64, grid_steps: int = 15, interp: tuple[int, int] = (0, 1), interp_steps: int = 10,
    attribute: tuple[Any, Any] | None = None, seed: int = 0, X_train: np.ndarray | None = None,
) -> dict[str, Path]:
    """Write every generation figure that applies to ``trained`` into ``out_dir`` and the arrays
    to ``generated.npz``. ``X``/``y`` (original units) feed interpolation (examples at indices
    ``interp``) and attribute arithmetic (labels ``attribute = (with, without)``).

    With the training examples ``X_train`` and held-out ``X`` as well, ``quality.json`` holds
    :func:`nearest_neighbour_ratio` of the prior samples (of the interpolation's in-between
    points for a model without a prior)."""
    from aekit.io import removed_on_failure

    check_generate_args(trained, X, y, n_samples=n_samples, grid_steps=grid_steps, interp=interp,
                        interp_steps=interp_steps, attribute=attribute)
    with removed_on_failure(out_dir) as folder:
        folder.mkdir(parents=True, exist_ok=True)
        written = _generate_into(trained, folder, X, y, n_samples, grid_steps, interp, interp_steps, attribute, seed)
        if X_train is not None and X is not None and (has_prior(trained) or interp_steps > 2):
            written["quality"] = _write_quality(trained, folder / "quality.json", np.load(written["arrays"]), X_train, X)
        return written


def _write_quality(trained: Any, path: Path, arrays: Any, X_train: np.ndarray, X_real: np.ndarray) -> Path:
    import json

    from aekit.io import atomic_write_text

    if "samples" in arrays:
        what, generated = "samples from the prior", arrays["samples"]
    else:  # the endpoints are reconstructions of real examples; only the points between them are generated
        what, generated = "interpolation in-between points", arrays["interpolation"][1:-1]
    result = {"measure": "nearest_neighbour_ratio", "of": what, **nearest_neighbour_ratio(trained, generated, X_train, X_real)}
    return atomic_write_text(path, json.dumps(result, indent=2) + "\n")


def check_generate_args(
    trained: Any, X: np.ndarray | None = None, y: np.ndarray | None = None, *, n_samples: int = 64,
    grid_steps: int = 15, interp: tuple[int, int] = (0, 1), interp_steps: int = 10,
    attribute: tuple[Any, Any] | None = None,
) -> None:
    """Raise :class:`ConfigError` for settings :func:`generate_all` cannot use, before anything is written.

    Interpolation indices must point into ``X``; attribute labels must occur in ``y``.
    """
    for name, value, low in (("n_samples", n_samples, 1), ("grid_steps", grid_steps, 2), ("interp_steps", interp_steps, 2)):
        if int(value) < low:
            raise ConfigError(f"{name} must be >= {low}, got {value}")
    if not has_prior(trained) and X is None:
        raise ConfigError(f"nothing to generate: family {trained.family!r} has no prior and no data was given")
    if X is not None:
        check_indices(interp, len(X))
    if attribute is not None:
        if X is None or y is None:
            raise ConfigError("attribute arithmetic needs labelled data")
        for label in attribute:
            if not (y == _as_label(label, y)).any():
                raise ConfigError(f"attribute arithmetic: no examples with label {label}")


def check_indices(indices: Sequence[int], n: int, what: str = "interpolation indices") -> None:
    """Every index must pick one of ``n`` examples (``0 .. n-1``; negative indices are refused)."""
    bad = [i for i in indices if not 0 <= int(i) < n]
    if bad:
        valid = f"0..{n - 1}" if n else "none: the data is empty"
        raise ConfigError(f"{what} {', '.join(map(str, bad))} out of range: the data has {n} example(s) (valid {valid})")


def _generate_into(
    trained: Any, out_dir: Path, X: np.ndarray | None, y: np.ndarray | None, n_samples: int, grid_steps: int,
    interp: tuple[int, int], interp_steps: int, attribute: tuple[Any, Any] | None, seed: int,
) -> dict[str, Path]:
    from aekit.plotting import image_rows, image_sheet

    images = len(trained.model.input_shape) == 3
    lo, hi = _display_range(trained)
    arrays: dict[str, np.ndarray] = {}
    written: dict[str, Path] = {}
    if has_prior(trained):
        arrays["samples"], arrays["sample_codes"] = sample_prior(trained, n_samples, seed)
        if images:
            written["samples"] = image_sheet(arrays["samples"], int(np.ceil(np.sqrt(n_samples))), out_dir / "samples.png",
                                             "samples from the prior", lo, hi)
        if _latent_size(trained) >= 2:
            arrays["grid"], arrays["grid_codes"] = latent_grid(trained, grid_steps)
            if images:
                written["grid"] = image_sheet(arrays["grid"], grid_steps, out_dir / "latent_grid.png",
                                              "decoded grid over code dimensions 0 and 1", lo, hi)
    if X is not None:
        arrays["interpolation"], _ = interpolate(trained, X[interp[0]], X[interp[1]], interp_steps)
        if images:
            written["interpolation"] = image_rows({"interpolation": arrays["interpolation"]}, out_dir / "interpolation.png",
                                                  lo, hi)
    if attribute is not None and X is not None and y is not None:
        a, b = attribute
        ya, yb = y == _as_label(a, y), y == _as_label(b, y)
        vec = attribute_vector(trained, X[ya], X[yb])
        base = X[yb][:6]
        strengths = (0.0, 0.5, 1.0, 1.5)
        moved = apply_attribute(trained, base, vec, strengths)
        arrays["attribute_vector"], arrays["attribute"] = vec, moved
        if images:
            rows = {f"+{s:g} × ({a} − {b})": moved[:, i] for i, s in enumerate(strengths)}
            written["attribute"] = image_rows({f"label {b}": base, **rows}, out_dir / "attribute.png", lo, hi)
    written["arrays"] = _save_npz(out_dir / "generated.npz", arrays)
    return written


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    from aekit.io import atomic_write_with

    def write(tmp: Any) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    return atomic_write_with(path, write)


def _as_label(value: Any, y: np.ndarray) -> Any:
    """CLI labels arrive as strings; match the dtype of ``y``."""
    if len(y) == 0 or not np.issubdtype(y.dtype, np.number):
        return value
    try:
        return type(y.flat[0].item())(value)
    except ValueError:
        raise ConfigError(f"attribute label {value!r} does not match the data's {y.dtype} labels") from None


def _display_range(trained: Any) -> tuple[float, float]:
    sc = trained.scaler
    if sc is not None and sc.kind == "minmax" and sc.scale_ is not None:
        return float(np.min(sc.shift_)), float(np.max(sc.shift_ + sc.scale_))
    return 0.0, 1.0


__all__ = ["apply_attribute", "attribute_vector", "check_generate_args", "check_indices", "generate_all", "has_prior", "interpolate", "latent_grid", "sample_prior"]
