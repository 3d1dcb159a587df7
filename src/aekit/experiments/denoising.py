"""Image denoising: a denoising autoencoder per noise condition against the Polish deck's
classic filters (mean, median, closing-opening), by PSNR and SSIM (``aekit denoise``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from aekit.errors import ConfigError
from aekit.experiments.common import Result, train_test_split_of

DEFAULT_CONDITIONS: tuple[dict[str, Any], ...] = (
    {"kind": "gaussian", "sigma": 0.3, "clip": True},
    {"kind": "salt_pepper", "fraction": 0.2},
)


@dataclass
class DenoisingResult(Result):
    """:func:`denoise_vs_filters`' result: ``table`` (condition, method, PSNR in dB, SSIM), one
    ``grid_<condition>`` figure per condition, and the trained ``denoisers`` (condition -> ImageDenoiser)."""

    json_name: str = "denoise.json"
    denoisers: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def table(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"condition": c["label"], "method": m, **v}
                             for c in self.summary["conditions"] for m, v in c["metrics"].items()])

    def _write(self, folder: Path) -> None:
        """The JSON and grids, plus each condition's denoiser as a run folder (``aekit.load`` reads it)."""
        for name, den in self.denoisers.items():
            den.save(folder / name)
        super()._write(folder)

    def save(self, folder: str | Path, overwrite: bool = False, add_to: bool = False) -> dict[str, Path]:
        folder = Path(folder)
        for cond in self.summary["conditions"]:  # the JSON names each model's folder and grid where they end up
            name = Path(cond["model"]).name
            cond["model"], cond["grid"] = str(folder / name), str(folder / f"grid_{name}.png")
        written = super().save(folder, overwrite, add_to)
        return {**written, **{name: folder / name for name in self.denoisers}}


def slug(label: str) -> str:
    """A condition's label as a file name part: ``gaussian sigma=0.3`` -> ``gaussian_sigma0.3``."""
    return label.replace(" ", "_").replace("=", "")


def denoise_vs_filters(
    data: str = "mnist", conditions: Sequence[dict[str, Any]] = DEFAULT_CONDITIONS, model: str = "conv",
    max_epochs: int = 20, batch_size: int = 128, lr: float = 1e-3, filter_size: int = 3, limit: int | None = None,
    test_limit: int | None = None, seed: int = 0, device: str = "cpu", model_params: dict[str, Any] | None = None,
) -> DenoisingResult:
    """Train one :class:`~aekit.apps.denoise.ImageDenoiser` per noise condition on ``data``'s
    training images; corrupt the test images the same way (seeded) and score the noisy input,
    each classic filter and the autoencoder by PSNR/SSIM in [0, 1] units. ``model_params``
    override the family's parameters (``aekit denoise --set model.NAME=VALUE``)."""
    from aekit.apps.denoise import ImageDenoiser, check_filter_size, noise_label
    from aekit.data.noise import build_corruption

    check_filter_size(filter_size, "filter size")
    specs = [dict(c) for c in conditions]
    build_corruption(specs)  # every condition checked before the first one trains
    split = train_test_split_of(data, limit, test_limit, seed)
    if split.X_train.ndim != 4:
        raise ConfigError(f"{split.name}: denoising needs images (N, C, H, W), got shape {split.X_train.shape}")
    summary: dict[str, Any] = {"data": split.name, "train_images": len(split.X_train), "test_images": len(split.X_test),
                               "conditions": []}
    figures, denoisers = {}, {}
    for spec in specs:
        label = noise_label([spec])
        den = ImageDenoiser(noise=[spec], model=model, model_params=model_params, max_epochs=max_epochs,
                            batch_size=batch_size, lr=lr,
                            random_state=seed, device=device).fit(split.X_train)
        report = den.evaluate(split.X_test, seed=seed + 1, size=filter_size)
        name = slug(label)
        figures[f"grid_{name}"] = report.grid(None)
        denoisers[name] = den
        summary["conditions"].append({"noise": spec, "label": label, "metrics": report.metrics, "model": name})
    return DenoisingResult(summary, figures, denoisers=denoisers)


__all__ = ["DEFAULT_CONDITIONS", "DenoisingResult", "denoise_vs_filters", "slug"]
