"""``aekit pca-compare``: how close a trained linear autoencoder is to PCA."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from aekit.cli.common import console


def register(app: typer.Typer) -> None:
    app.command("pca-compare")(pca_compare)


def pca_compare(
    run: Path = typer.Argument(..., help="Run folder of a trained `linear` autoencoder."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Data to compare on (default: the run's training split)."),
) -> None:
    """Principal angles between the decoder's span and PCA's top-k subspace, and both errors."""
    from aekit.analysis import compare_with_pca
    from aekit.errors import ConfigError, DataError
    from aekit.runs import load

    trained = load(run)
    if not hasattr(trained.model, "decoder_basis"):
        raise ConfigError(f"pca-compare needs a 'linear' autoencoder run, {run} holds a {trained.family!r} model")
    if data is None:
        from aekit.pipeline import parse_config, prepare_data

        _, splits, _ = prepare_data(parse_config(run / "config.yaml"))
        X, where = splits.train.X, "training split"
    else:
        from aekit.data import load_array

        X, where = load_array(data), data
    k = int(trained.model.latent_dim)
    if len(X) < k:  # PCA fits at most min(rows, features) components
        raise DataError(f"{where}: {len(X)} example(s) are too few for a {k}-component PCA; need at least {k}")
    Xs = trained.scaler.transform(X) if trained.scaler is not None else X  # the units the model was trained in
    cmp = compare_with_pca(trained.model, Xs)
    angles = ", ".join(f"{a:.2f}" for a in cmp.angles_deg)
    console().print(f"{run} on {where} ({len(X)} examples, k={len(cmp.angles_deg)})")
    console().print(f"principal angles (deg): max {cmp.max_angle_deg:.2f}, mean {cmp.angles_deg.mean():.2f}  [{angles}]")
    console().print(f"MSE: autoencoder {cmp.ae_mse:.6f}, PCA {cmp.pca_mse:.6f} (PCA keeps {cmp.explained_variance_ratio:.1%} of the variance)")
