"""The Polish deck's k-sparse autoencoder figure: the decoder's learned filters for several k
(``aekit k-sparse``).

One single-layer ``ksparse`` autoencoder (Makhzani & Frey 2013: a linear code, only the k
largest units of each example kept) is trained per k on the same images. Small k forces each
unit to carry a whole digit-like template; large k lets many units share an image, so the
filters become local strokes. Reported per k: the test reconstruction MSE (pixels in [0, 1];
the decoder reconstructs from k units, as it was trained) and how many code units any test
image uses (units never chosen are the paper's "dead" units). Training follows the paper's
remedy for dead units by default: k starts at half the code size and falls linearly to its
target over the first half of the epochs. The figure shows, per k, the filters of the most
used units (dead units, still at their random start, are left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from aekit.errors import ConfigError
from aekit.experiments.common import Result, train_test_split_of


@dataclass
class KSparseResult(Result):
    """:func:`ksparse_filters`' result; ``table`` has one row per k."""

    json_name: str = "k_sparse.json"
    table_key: str = "results"


def decoder_filters(model: Any) -> np.ndarray:
    """Each code unit's filter, ``(latent_dim, *input_shape)``: the decoder's output logits for a
    code with only that unit at 1, minus those for the zero code (for a one-layer decoder exactly
    the unit's column of weights)."""
    import torch

    k = int(model.config.latent_dim)
    with torch.no_grad():
        eye = torch.eye(k)
        return (model.decode_logits(eye) - model.decode_logits(torch.zeros(1, k))).numpy()


def unit_usage(model: Any, X: np.ndarray) -> np.ndarray:
    """Share of the rows of ``X`` (model units) whose k kept code units include each unit, ``(latent_dim,)``."""
    import torch

    from aekit.models.sparse import keep_top_k

    with torch.no_grad():
        h = model.dense_code(torch.as_tensor(X, dtype=torch.float32))
        kept = keep_top_k(h, int(model.config.k)) != 0
    return kept.float().mean(0).numpy()


def check_ks(ks: Sequence[int], latent_dim: int) -> list[int]:
    """Every k must lie in ``1 .. latent_dim``; returns them sorted, without repeats."""
    if latent_dim < 1:
        raise ConfigError(f"latent_dim must be >= 1, got {latent_dim}")
    if not len(ks):
        raise ConfigError("--k: give at least one k, e.g. 5,10,20,40")
    bad = [int(k) for k in ks if not 1 <= int(k) <= latent_dim]
    if bad:
        raise ConfigError(f"--k: {', '.join(map(str, bad))} out of range; k must be in 1..latent_dim={latent_dim}")
    return sorted({int(k) for k in ks})


def _filter_figure(filters: dict[int, np.ndarray], shape: tuple[int, ...], rows: list[dict[str, Any]]) -> Any:
    """One mosaic per k, each filter scaled to its own symmetric grey range (0 is mid-grey)."""
    from aekit.plotting import pyplot, tile_sheet

    plt = pyplot()
    image = len(shape) == 3 or (len(shape) == 1 and int(np.sqrt(shape[0])) ** 2 == shape[0])
    side = int(np.sqrt(np.prod(shape))) if len(shape) == 1 else None
    fig, axes = plt.subplots(1, len(filters), figsize=(3.2 * len(filters), 3.6), squeeze=False)
    for ax, (k, F), row in zip(axes[0], filters.items(), rows):
        scale = np.abs(F.reshape(len(F), -1)).max(1).reshape(-1, *([1] * (F.ndim - 1))) + 1e-12
        shown = 0.5 + 0.5 * F / scale  # each filter in [0, 1], its zero at 0.5
        if image:
            imgs = shown.reshape(len(F), 1, side, side) if side else shown[:, :1]
            ax.imshow(tile_sheet(imgs, int(np.ceil(np.sqrt(len(F))))), cmap="gray", vmin=0, vmax=1)
        else:  # not images: each filter as a row of its weights
            ax.imshow(shown.reshape(len(F), -1), cmap="gray", vmin=0, vmax=1, aspect="auto")
        ax.set_title(f"k = {k}: test MSE {row['test_mse']:.4f}\n{row['units_used']} of {row['latent_dim']} units used",
                     fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("k-sparse autoencoder: decoder filters of the most used code units", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.93))  # room for the title above the panels' two-line titles
    return fig


def ksparse_filters(
    data: str = "mnist", ks: Sequence[int] = (5, 10, 20, 40), latent_dim: int = 200, max_epochs: int = 15,
    batch_size: int = 128, lr: float = 1e-3, limit: int | None = None, test_limit: int | None = None, seed: int = 0,
    device: str = "cpu", n_filters: int = 49, progress: bool = False, schedule: bool = True,
) -> KSparseResult:
    """Train a one-layer ``ksparse`` autoencoder with ``latent_dim`` code units per k in ``ks``
    on ``data``'s training rows (min-max scaled to [0, 1] over all pixels, fitted on them), and
    report each one's test reconstruction MSE, the units any test row uses, and the filters
    of the ``n_filters`` most used units (one figure, ``k_sparse_filters``). ``schedule`` lowers
    k linearly from ``latent_dim // 2`` over the first half of the epochs (Makhzani & Frey's
    remedy for dead units)."""
    import torch

    from aekit.data import Scaler
    from aekit.registry import build_model
    from aekit.training import OptimConfig, TrainerConfig, fit_model

    ks = check_ks(ks, latent_dim)
    if n_filters < 1:
        raise ConfigError(f"n_filters must be >= 1, got {n_filters}")
    split = train_test_split_of(data, limit, test_limit, seed)
    shape = tuple(split.X_train.shape[1:])
    scaler = Scaler("minmax", per_feature=False).fit(split.X_train)
    Xtr = scaler.transform(split.X_train).astype(np.float32)
    Xte = scaler.transform(split.X_test).astype(np.float32)
    flat_te = Xte.reshape(len(Xte), -1)
    rows, filters, mse = [], {}, {}
    for k in ks:
        params = {"input_shape": list(shape), "hidden": [], "latent_dim": latent_dim, "k": k,
                  "output_activation": "sigmoid", "loss": "mse"}
        if schedule and max_epochs > 1 and latent_dim // 2 > k:
            params.update(k_start=latent_dim // 2, k_schedule_epochs=max_epochs // 2)
        model = build_model("ksparse", params, seed=seed)
        fit = fit_model(model, Xtr, None, trainer=TrainerConfig(max_epochs=max_epochs, batch_size=batch_size, seed=seed,
                                                                accelerator=device, progress=progress),
                        optim=OptimConfig(lr=lr))
        m = fit.model.eval()
        with torch.no_grad():
            X_hat = m(torch.as_tensor(Xte)).x_hat.numpy()
        mse[k] = float(np.mean((X_hat.reshape(len(Xte), -1) - flat_te) ** 2))
        usage = unit_usage(m, Xte)
        order = np.argsort(-usage, kind="stable")[: min(n_filters, int((usage > 0).sum()) or 1)]
        filters[k] = decoder_filters(m)[order]
        rows.append({"k": k, "test_mse": mse[k], "units_used": int((usage > 0).sum()), "latent_dim": latent_dim,
                     "epochs": len(fit.history), "seconds": fit.seconds})
    summary = {"data": split.name, "train_rows": len(Xtr), "test_rows": len(Xte),
               "settings": {"ks": ks, "latent_dim": latent_dim, "max_epochs": max_epochs, "batch_size": batch_size,
                            "lr": lr, "seed": seed, "hidden": [], "loss": "mse", "output_activation": "sigmoid",
                            "k_schedule": "k from latent_dim // 2 to k over the first half of the epochs" if schedule
                            else None},
               "results": rows}
    return KSparseResult(summary, {"k_sparse_filters": _filter_figure(filters, shape, rows)})


__all__ = ["KSparseResult", "check_ks", "decoder_filters", "ksparse_filters", "unit_usage"]
