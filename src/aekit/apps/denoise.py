"""Image denoising with a denoising autoencoder, measured against the classic filters.

The Polish deck's recipe: corrupt the training inputs (Gaussian noise, salt and pepper,
masking, dropout), train the autoencoder to reproduce the *clean* image, then compare
it with the spatial filters the deck lists (mean, median and the morphological
closing-opening filter) by PSNR and SSIM. Training goes through the shared engine with ``noise=``;
the corruption is the same :mod:`aekit.data.noise` code at evaluation time, seeded.

Images are ``(N, C, H, W)`` (``(N, H, W)`` is taken as one channel). Metrics are
computed after min-max scaling to [0, 1] with the scaler fitted on the training images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from aekit.apps.base import AutoencoderEstimator
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.runs import batched

DEFAULT_NOISE: tuple[dict[str, Any], ...] = ({"kind": "gaussian", "sigma": 0.3, "clip": True},)
# Fully convolutional default: a conv code keeps the spatial layout that denoising needs.
DEFAULT_CONV: dict[str, Any] = {"channels": [32, 32], "stride": [2], "bottleneck": "conv", "loss": "mse"}
FILTERS = ("mean", "median", "closing-opening")


def as_images(X: Any, what: str = "images") -> np.ndarray:
    """Return ``X`` as float32 ``(N, C, H, W)``; ``(N, H, W)`` gains a channel axis."""
    from aekit.data.dataset import check_array

    arr = check_array(X, what)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4:
        raise ShapeError(f"{what}: expected images (N, C, H, W) or (N, H, W), got shape {arr.shape}")
    return arr


def corrupt(X: np.ndarray, noise: Sequence[dict[str, Any]], seed: int = 0) -> np.ndarray:
    """Apply the corruption ``noise`` (specs of :func:`aekit.data.noise.build_corruption`) to ``X``, seeded."""
    import torch

    from aekit.data.noise import build_corruption

    fn = build_corruption([dict(s) for s in noise])
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return fn(torch.from_numpy(np.array(X, dtype=np.float32)), gen).numpy()


def check_filter_size(size: int, what: str = "filter size") -> None:
    """A filter window must be a positive odd number of pixels.

    An even window has no centre pixel, so scipy shifts its output by half a pixel and
    PSNR/SSIM would penalise the filters for the shift rather than for their smoothing.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0:
        raise ConfigError(f"{what} must be a positive odd number of pixels (1, 3, 5, ...), got {size!r}")


def classic_filters(X: np.ndarray, size: int = 3) -> dict[str, np.ndarray]:
    """The deck's spatial filters on ``(N, C, H, W)`` images, each over a ``size``x``size`` window.

    Filtering runs on the whole batch at once with a window of 1 along N and C; ``size``
    is a positive odd number (see :func:`check_filter_size`).
    """
    from scipy import ndimage

    check_filter_size(size)
    win = (1, 1, size, size)
    return {
        "mean": ndimage.uniform_filter(X, size=win, mode="reflect"),
        "median": ndimage.median_filter(X, size=win, mode="reflect"),
        "closing-opening": closing_opening(X, size),
    }


def closing_opening(X: np.ndarray, size: int = 3) -> np.ndarray:
    """The Polish deck's closing-opening filter on ``(N, C, H, W)`` images: a grey-level closing
    (dilation, then erosion) followed by an opening (erosion, then dilation), both with a
    ``size``x``size`` square (``skimage.morphology``, edges reflected).

    The closing fills dark specks smaller than the square (pepper), the opening then removes
    bright ones (salt); either alone removes only one kind.
    """
    from skimage.morphology import closing, opening

    check_filter_size(size)
    square = np.ones((1, 1, size, size), dtype=bool)  # a window of 1 along N and C: each image on its own
    return opening(closing(np.asarray(X), square, mode="reflect"), square, mode="reflect")


def psnr(clean: np.ndarray, other: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Per-image PSNR in dB, shape ``(N,)``: scikit-image's ``peak_signal_noise_ratio`` of each image
    (an evaluation over at most thousands of images, not a training loop). A perfect copy is
    capped at the PSNR of an MSE of 1e-12 instead of infinity, so means stay finite."""
    import warnings

    from skimage.metrics import peak_signal_noise_ratio

    a, b = np.asarray(clean, np.float64), np.asarray(other, np.float64)
    cap = 10.0 * np.log10(data_range**2 / 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # skimage divides by zero for a perfect copy
        values = np.array([peak_signal_noise_ratio(x, y, data_range=data_range) for x, y in zip(a, b)])
    return np.minimum(values, cap)


def ssim(clean: np.ndarray, other: np.ndarray, data_range: float = 1.0) -> float:
    """Mean SSIM over images and channels (scikit-image, Gaussian-free 7x7 window or smaller)."""
    from skimage.metrics import structural_similarity

    a = np.asarray(clean, np.float64).reshape(-1, *clean.shape[-2:])
    b = np.asarray(other, np.float64).reshape(-1, *clean.shape[-2:])
    win = min(7, *(d if d % 2 else d - 1 for d in a.shape[-2:]))
    # every 2-D image as one "channel": skimage averages the per-image SSIMs in one call
    return float(structural_similarity(a, b, data_range=data_range, channel_axis=0, win_size=max(win, 3)))


def quality_table(clean: np.ndarray, candidates: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """``{name: {"psnr": mean dB, "ssim": mean}}`` of each candidate against ``clean``."""
    return {k: {"psnr": float(psnr(clean, v).mean()), "ssim": ssim(clean, v)} for k, v in candidates.items()}


class ImageDenoiser(TransformerMixin, AutoencoderEstimator):
    """A denoising autoencoder for images with the scikit-learn contract.

    ``fit(X)`` trains on clean images ``(N, C, H, W)`` corrupted on the fly by ``noise``;
    ``transform(X)`` returns denoised images in ``X``'s units. ``model`` is any registered
    image family (default a small fully convolutional ``conv``); ``model_params`` override
    its parameters. ``save(folder)`` writes an aekit run folder (``aekit.load`` reads it).

    Defaults that differ from :data:`~aekit.apps.base.TRAINING_SETTINGS`: ``noise`` is
    Gaussian σ = 0.3 (a denoiser without corruption would learn the identity), 20 epochs
    and batches of 128 (images: every epoch already sees thousands of corrupted pixels per
    example, and a conv model runs faster on larger batches).
    """

    kind = "image_denoiser"
    params = {"model": "conv", "model_params": None}
    settings = {"noise": DEFAULT_NOISE, "max_epochs": 20, "batch_size": 128}

    def fit(self, X: Any, y: Any = None) -> "ImageDenoiser":
        """Train on clean images ``X`` (noise is added by the engine, per batch)."""
        from aekit.data.dataset import Scaler
        from aekit.registry import build_model

        if not self.noise:
            raise ConfigError("an image denoiser needs noise (corruption specs) to learn from")
        self._check_settings()
        X = as_images(X)
        self.scaler_ = Scaler("minmax", per_feature=False).fit(X)
        params = dict(DEFAULT_CONV if self.model == "conv" else {})
        params.update(self.model_params or {})
        params["input_shape"] = list(X.shape[1:])
        model = build_model(self.model, params, seed=int(self.random_state))
        self.model_ = self._fit_engine(model, self.scaler_.transform(X)).model
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Denoised images, same shape and units as ``X``."""
        check_is_fitted(self, "model_")
        X = self._check(X)
        out = batched(self.model_.reconstruct, X, 1024, transform=self.scaler_.transform)
        return self.scaler_.inverse_transform(out)

    def _check(self, X: Any) -> np.ndarray:
        X = as_images(X)
        if tuple(X.shape[1:]) != tuple(self.model_.input_shape):
            raise ShapeError(f"images have shape {tuple(X.shape[1:])}, the denoiser was trained on {tuple(self.model_.input_shape)}")
        return X

    def evaluate(self, X: Any, noise: Sequence[dict[str, Any]] | None = None, seed: int = 1, size: int = 3) -> "DenoiseReport":
        """Corrupt clean images ``X`` with ``noise`` (default: the training noise), then score
        the noisy input, each classic filter and the autoencoder by PSNR/SSIM in [0, 1] units."""
        check_is_fitted(self, "model_")
        check_filter_size(size)
        clean = np.clip(self.scaler_.transform(self._check(X)), 0.0, 1.0)
        specs = [dict(s) for s in (noise if noise is not None else self.noise)]
        noisy = corrupt(clean, specs, seed)
        outputs = {"noisy": noisy, **classic_filters(noisy, size)}
        outputs["autoencoder"] = batched(self.model_.reconstruct, noisy, 1024)
        return DenoiseReport(specs, quality_table(clean, outputs), clean, outputs)

@dataclass
class DenoiseReport:
    """What :meth:`ImageDenoiser.evaluate` returns: metrics per method and the images behind them."""

    noise: list[dict[str, Any]]
    metrics: dict[str, dict[str, float]]  # method -> {"psnr": dB, "ssim": 0..1}
    clean: np.ndarray = field(repr=False)
    outputs: dict[str, np.ndarray] = field(repr=False)  # method -> (N, C, H, W) in [0, 1]

    def grid(self, path: str | Path | None, n: int = 8) -> Any:
        """Rows: clean, noisy, each filter, autoencoder; PSNR/SSIM beside each row's name
        (saved to ``path``, or the figure itself when ``path`` is None)."""
        from aekit.plotting import image_rows

        rows = {"clean": self.clean[:n], **{k: v[:n] for k, v in self.outputs.items()}}
        notes = {k: f"{m['psnr']:.1f} dB\nSSIM {m['ssim']:.2f}" for k, m in self.metrics.items()}
        return image_rows(rows, path, notes=notes)


def noise_label(specs: Sequence[dict[str, Any]]) -> str:
    """``[{"kind": "gaussian", "sigma": 0.3}]`` -> ``"gaussian sigma=0.3"``."""
    return " + ".join(
        " ".join([str(s.get("kind")), *(f"{k}={v}" for k, v in s.items() if k != "kind")]) for s in specs
    )


# Folders of PNG files ------------------------------------------------------------------

def read_pngs(folder: str | Path, channels: int = 1) -> tuple[list[Path], np.ndarray]:
    """Every ``*.png`` in ``folder`` (sorted) as float32 ``(N, channels, H, W)`` in [0, 1]."""
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    if not paths:
        raise DataError(f"{folder}: no .png files")
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    for p in paths:  # decoding is per file by nature; the model then runs on one batch
        try:
            with Image.open(p) as im:
                arrays.append(np.asarray(im.convert(mode), dtype=np.float32) / 255.0)
        except OSError as err:
            raise DataError(f"{p}: not a readable PNG ({err})") from None
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DataError(f"{folder}: images differ in size ({', '.join(map(str, sorted(shapes)))}); resize them to one size")
    X = np.stack(arrays)
    X = X[:, None] if channels == 1 else X.transpose(0, 3, 1, 2)
    return paths, X


def write_pngs(images: np.ndarray, names: Sequence[str], folder: str | Path) -> list[Path]:
    """Write ``(N, C, H, W)`` images in [0, 1] as 8-bit PNGs named ``names`` into ``folder``."""
    from PIL import Image

    from aekit.io import atomic_write_with
    from aekit.plotting import to_display

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pixels = (np.clip(to_display(images), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    out = []
    for name, px in zip(names, pixels):
        out.append(atomic_write_with(folder / name, lambda tmp, px=px: Image.fromarray(px).save(tmp, format="PNG")))
    return out


def denoise_folder(run: str | Path, in_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Denoise every PNG in ``in_dir`` with the denoiser saved in ``run``; same file names in ``out_dir``.

    PNG values are read as [0, 1] (8-bit / 255): the denoiser's own min-max range, whatever
    the units of its training images. A plain ``aekit train`` run of an image model works too.
    """
    import aekit

    loaded = aekit.load(run)
    model = loaded.model_ if isinstance(loaded, ImageDenoiser) else getattr(loaded, "model", None)
    shape = () if model is None else tuple(model.input_shape)
    if len(shape) != 3:
        raise ShapeError(f"{run}: model input {shape} is not an image (C, H, W)")
    paths, X = read_pngs(in_dir, channels=shape[0])
    if tuple(X.shape[1:]) != shape:
        raise ShapeError(f"{in_dir}: images are {X.shape[2]}x{X.shape[3]} with {X.shape[1]} channel(s), the model expects {shape[1]}x{shape[2]} with {shape[0]}")
    scaler = loaded.scaler_ if isinstance(loaded, ImageDenoiser) else loaded.scaler
    if scaler is not None and scaler.kind == "minmax" and scaler.scale_ is not None:
        # a min-max model works on [0, 1] internally: 8-bit PNG values / 255 are that scale
        out = batched(model.reconstruct, X, 1024)
    else:
        out = loaded.transform(X) if isinstance(loaded, ImageDenoiser) else loaded.reconstruct(X)
    return write_pngs(out, [p.name for p in paths], out_dir)


__all__ = [
    "DenoiseReport", "ImageDenoiser", "as_images", "check_filter_size", "classic_filters", "corrupt", "denoise_folder",
    "noise_label", "psnr", "quality_table", "read_pngs", "ssim", "write_pngs",
]
