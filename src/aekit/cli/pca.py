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
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for pca_compare.json and the figure (default RUN/figures)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write over an existing --out folder."),
) -> None:
    """Principal angles between the decoder's span and PCA's top-k subspace, both errors, and a figure."""
    from aekit.experiments.subspace import pca_compare_run

    result = pca_compare_run(run, data)
    cmp = result.comparison
    angles = ", ".join(f"{a:.2f}" for a in cmp.angles_deg)
    console().print(f"{run} on {result.where} ({result.n_examples} examples, k={len(cmp.angles_deg)})")
    console().print(f"principal angles (deg): max {cmp.max_angle_deg:.2f}, mean {cmp.angles_deg.mean():.2f}  [{angles}]")
    console().print(f"MSE: autoencoder {cmp.ae_mse:.6f}, PCA {cmp.pca_mse:.6f} (PCA keeps {cmp.explained_variance_ratio:.1%} of the variance)")
    # the run's own figures folder takes the new figure beside the others; another --out must be new or empty
    written = result.save(out or Path(run) / "figures", overwrite=overwrite, add_to=out is None)
    console().print(f"figure: {written['principal_angles']}")
