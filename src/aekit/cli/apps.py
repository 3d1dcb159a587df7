"""Application commands: reduce, denoise, generate, latent, fewshot.

Each command builds its settings from flags and calls :mod:`aekit.apps`; heavy
libraries are imported inside the commands so ``aekit --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from aekit.cli.common import console


def register(app: typer.Typer) -> None:
    app.command("reduce")(reduce)
    app.command("denoise")(denoise)
    app.command("generate")(generate)
    app.command("latent")(latent)
    app.command("fewshot")(fewshot)


def _ints(text: str, flag: str) -> list[int]:
    from aekit.errors import ConfigError

    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{flag} expects comma-separated integers, got {text!r}") from None


def load_split(source: str, limit: int | None, test_limit: int | None, seed: int) -> tuple[Any, Any, Any, Any, Any]:
    """Dataset plus (train X, train y, test X, test y): the official test split if any, else 20 % held out."""
    from aekit.data import load_dataset, split_dataset
    from aekit.errors import DataError

    ds = load_dataset(source, limit=limit)
    sp = split_dataset(ds, val_fraction=0.0, test_fraction=None if ds.X_test is not None else 0.2, seed=seed)
    if sp.test is None:
        raise DataError(f"{ds.name}: {len(ds.X)} row(s) are too few to hold out a test split; use more rows (--limit)")
    Xte, yte = sp.test.X, sp.test.y
    if test_limit is not None:
        Xte, yte = Xte[:test_limit], None if yte is None else yte[:test_limit]
    return ds, sp.train.X, sp.train.y, Xte, yte


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    t = Table(title=title)
    for c in columns:
        t.add_column(c, justify="right" if c != columns[0] else "left")
    for r in rows:
        t.add_row(*r)
    console().print(t)


def _save_json(path: Path, obj: Any) -> None:
    from aekit.io import atomic_save_json

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_json(path, obj)


def reduce(
    data: str = typer.Option("mnist", "--data", "-d", help="Built-in data set or a file/folder."),
    dims: str = typer.Option("2,8,32", help="Code sizes to compare, e.g. 2,8,32."),
    hidden: str = typer.Option("256,128", help="Autoencoder encoder widths."),
    activation: str = typer.Option("relu", help="Hidden activation of the autoencoder."),
    epochs: int = typer.Option(30, "--epochs", "-e", min=1, help="Autoencoder epochs."),
    batch_size: int = typer.Option(128, min=1, help="Batch size."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N training rows."),
    test_limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N test rows."),
    curves: bool = typer.Option(False, help="Also run the y = mx^p + c experiment (p = 1, 2, 8)."),
    curve_epochs: int = typer.Option(300, min=1, help="Epochs of the curve experiment's autoencoders."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    accelerator: str = typer.Option("cpu", help="cpu, gpu or auto (training)."),
    out: Path = typer.Option(Path("runs/reduce"), help="Folder for the table (reduce.json) and figures."),
) -> None:
    """Autoencoder vs PCA at equal code sizes: test reconstruction MSE and 2-D embeddings."""
    import numpy as np

    from aekit.io import removed_on_failure
    from aekit.apps.reduce import check_code_sizes, compare_with_pca
    from aekit.data import Scaler

    sizes, widths = _ints(dims, "--dims"), _ints(hidden, "--hidden")
    ds, Xtr, _, Xte, yte = load_split(data, limit, test_limit, seed)
    check_code_sizes(sizes, Xtr.reshape(len(Xtr), -1), "--dims")  # all of them, before the first model trains
    scaler = Scaler("minmax").fit(Xtr)  # errors are reported in [0, 1] units
    flat = lambda A: scaler.transform(A).reshape(len(A), -1).astype(np.float64)  # noqa: E731
    Ftr, Fte = flat(Xtr), flat(Xte)
    params = {"hidden": tuple(widths), "activation": activation, "max_epochs": epochs,
              "batch_size": batch_size, "lr": lr, "scaling": "none", "output_activation": "sigmoid",
              "random_state": seed, "accelerator": accelerator}
    results, rows = [], []
    for k in sizes:
        r = compare_with_pca(Ftr, Fte, k, **params)
        results.append(r)
        rows.append({"dims": k, "pca_mse": r["pca_mse"], "ae_mse": r["ae_mse"]})
    with removed_on_failure(out):  # a failure below leaves no half-made new folder
        _table(f"reconstruction MSE on the {ds.name} test split ({len(Fte)} rows, values in [0, 1])",
               ["dims", "PCA", "autoencoder"],
               [[str(r["dims"]), f"{r['pca_mse']:.5f}", f"{r['ae_mse']:.5f}"] for r in rows])
        summary: dict[str, Any] = {"data": ds.name, "train_rows": len(Ftr), "test_rows": len(Fte), "settings": params,
                                   "results": rows}
        figures = []
        two = next((r for r in results if r["dims"] == 2), None)
        if two is not None:
            from aekit.reports.images import scatter_panels

            panels = [("PCA, 2 components", two["pca_codes"]), ("autoencoder, 2-d code", two["ae_codes"])]
            figures.append(scatter_panels(panels, yte, out / "embedding_pca_vs_ae.png", ds.class_names))
        if curves:
            from aekit.apps.reduce import curve_experiment, curve_figure

            crow = curve_experiment(seed=seed, max_epochs=curve_epochs, accelerator=accelerator)
            _table("y = mx^p + c reconstructed from 1 dimension (MSE)", ["function", "PCA", "autoencoder"],
                   [[f"p = {r['power']}", f"{r['pca_mse']:.5f}", f"{r['ae_mse']:.5f}"] for r in crow])
            summary["curves"] = [{k: r[k] for k in ("power", "pca_mse", "ae_mse")} for r in crow]
            figures.append(curve_figure(crow, out / "curves_pca_vs_ae.png"))
        _save_json(out / "reduce.json", summary)
        console().print(f"results: {out / 'reduce.json'}")
        for f in figures:
            console().print(f"figure: {f}")


def denoise(
    data: str = typer.Option("mnist", "--data", "-d", help="Built-in image data set or an image file/folder."),
    noise: Optional[list[str]] = typer.Option(None, help="Noise condition, e.g. gaussian:sigma=0.3 (repeatable; one denoiser each)."),
    family: str = typer.Option("conv", help="Model family of the denoiser."),
    epochs: int = typer.Option(20, "--epochs", "-e", min=1, help="Training epochs."),
    batch_size: int = typer.Option(128, min=1, help="Batch size."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    filter_size: int = typer.Option(3, help="Window of the classic filters (odd number of pixels)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N training images."),
    test_limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N test images."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    accelerator: str = typer.Option("cpu", help="cpu, gpu or auto (training)."),
    out: Path = typer.Option(Path("runs/denoise"), help="Folder for models, grids and denoise.json."),
    run: Optional[Path] = typer.Option(None, help="Apply this trained denoiser (a model folder) instead of training."),
    images: Optional[Path] = typer.Option(None, help="With --run: folder of PNG images to denoise."),
    output: Optional[Path] = typer.Option(None, help="With --run: folder for the denoised PNGs."),
) -> None:
    """Train denoising autoencoders and compare them with mean/median/opening/closing by PSNR and SSIM,
    or (--run --images --output) denoise a folder of PNG images."""
    from aekit.io import removed_on_failure
    from aekit.errors import ConfigError

    if run is not None or images is not None:
        if run is None or images is None or output is None:
            raise ConfigError("applying a denoiser needs --run, --images and --output together")
        from aekit.apps.denoise import denoise_folder

        with removed_on_failure(output):
            written = denoise_folder(run, images, output)
        console().print(f"denoised {len(written)} image(s) into {output}")
        return
    from aekit.apps.denoise import ImageDenoiser, check_filter_size, noise_label
    from aekit.cli.core import parse_noise
    from aekit.data.noise import build_corruption

    check_filter_size(filter_size, "--filter-size")
    specs = [parse_noise(n) for n in (noise or ["gaussian:sigma=0.3,clip=true", "salt_pepper:fraction=0.2"])]
    build_corruption(specs)  # every condition checked before the first one trains
    ds, Xtr, _, Xte, _ = load_split(data, limit, test_limit, seed)
    if Xtr.ndim != 4:
        raise ConfigError(f"{ds.name}: denoising needs images (N, C, H, W), got shape {Xtr.shape}")
    summary: dict[str, Any] = {"data": ds.name, "train_images": len(Xtr), "test_images": len(Xte), "conditions": []}
    with removed_on_failure(out):  # a failed condition leaves no half-made new folder
        for spec in specs:
            label = noise_label([spec])
            slug = label.replace(" ", "_").replace("=", "")
            den = ImageDenoiser([spec], family=family, max_epochs=epochs, batch_size=batch_size, lr=lr,
                                random_state=seed, accelerator=accelerator).fit(Xtr)
            den.save(out / slug)
            report = den.evaluate(Xte, seed=seed + 1, size=filter_size)
            grid = report.grid(out / f"grid_{slug}.png")
            _table(f"{ds.name}, {label}: mean over {len(Xte)} test images", ["method", "PSNR (dB)", "SSIM"],
                   [[k, f"{m['psnr']:.2f}", f"{m['ssim']:.3f}"] for k, m in report.metrics.items()])
            summary["conditions"].append({"noise": spec, "metrics": report.metrics, "model": str(out / slug),
                                          "grid": str(grid)})
            console().print(f"model: {out / slug}  grid: {grid}")
        _save_json(out / "denoise.json", summary)
        console().print(f"results: {out / 'denoise.json'}")


def generate(
    run: Path = typer.Argument(..., help="Run folder of a trained VAE (or any autoencoder for interpolation)."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Data for interpolation/attributes (default: the run's)."),
    samples: int = typer.Option(64, min=1, help="Samples from the prior."),
    grid: int = typer.Option(15, min=2, help="Steps per axis of the 2-D latent grid."),
    interpolate: str = typer.Option("0,1", help="Indices of the two test examples to interpolate between."),
    steps: int = typer.Option(10, min=2, help="Interpolation steps."),
    attribute: Optional[str] = typer.Option(None, help="Labels A,B: add (mean code of A - mean code of B) to B examples."),
    limit: Optional[int] = typer.Option(2000, min=1, help="Examples of the data to encode."),
    seed: int = typer.Option(0, min=0, help="Random seed of the prior samples."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default RUN/generated)."),
) -> None:
    """Samples from the prior, a latent grid, an interpolation and attribute arithmetic, as PNG + generated.npz."""
    import aekit
    from aekit.apps.generate import check_indices, generate_all
    from aekit.errors import ConfigError

    pair = _ints(interpolate, "--interpolate")
    if len(pair) != 2:
        raise ConfigError(f"--interpolate expects two indices, e.g. 0,1; got {interpolate!r}")
    attr = None if attribute is None else tuple(a.strip() for a in attribute.split(","))
    if attr is not None and (len(attr) != 2 or not all(attr)):
        raise ConfigError(f"--attribute expects two labels, e.g. 1,7; got {attribute!r}")
    trained = aekit.load(run)
    X = y = None
    source = data or (trained.meta.get("data") or {}).get("source")
    if source:
        _, _, _, X, y = load_split(source, None, limit, 0)
        check_indices(pair, len(X), "--interpolate index")
    # generate_all checks the rest before it creates the folder, and removes it if it fails
    written = generate_all(trained, out or run / "generated", X, y, n_samples=samples, grid_steps=grid,
                           interp=(pair[0], pair[1]), interp_steps=steps, attribute=attr, seed=seed)  # type: ignore[arg-type]
    for name, path in written.items():
        console().print(f"{name}: {path}")


def latent(
    run: Path = typer.Argument(..., help="Run folder of a trained model."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Data to encode (default: the run's test split)."),
    method: str = typer.Option("auto", help="auto (2-D codes direct, else PCA), pca, tsne or umap."),
    limit: Optional[int] = typer.Option(2000, min=1, help="Examples to encode."),
    seed: int = typer.Option(0, min=0, help="Random seed of the projection."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default RUN/figures)."),
) -> None:
    """Scatter of the codes coloured by label (beside PCA of the inputs) and, for conv codes, the code maps."""
    import aekit
    from aekit.io import removed_on_failure
    from aekit.apps.latent import inspect_latent, write_latent_figures
    from aekit.errors import ConfigError

    trained = aekit.load(run)
    source = data or (trained.meta.get("data") or {}).get("source")
    if not source:
        raise ConfigError(f"{run}: no data source recorded; pass --data")
    ds, _, _, X, y = load_split(source, None, limit, 0)
    # refuses too few rows for the projection before anything is written
    view = inspect_latent(trained, X, y, method, seed)  # type: ignore[arg-type]
    folder = out or run / "figures"
    with removed_on_failure(folder):
        for path in write_latent_figures(view, folder, X, ds.class_names):
            console().print(f"figure: {path}")


def fewshot(
    data: str = typer.Option("mnist", "--data", "-d", help="Built-in labelled data set or a file/folder."),
    shots: str = typer.Option("1,5,10,100", help="Labelled examples per class."),
    seeds: str = typer.Option("0,1,2", help="Seeds (label draws and initialisations)."),
    family: str = typer.Option("mlp", help="Autoencoder family."),
    latent_dim: int = typer.Option(32, min=1, help="Code size (also PCA's number of components)."),
    epochs: int = typer.Option(20, "--epochs", "-e", min=1, help="Pretraining epochs on the unlabelled data (max_epochs)."),
    head_steps: int = typer.Option(300, min=1, help="Solver iterations of the head (Adam steps of the from-scratch network)."),
    finetune_steps: int = typer.Option(200, min=0, help="End-to-end fine-tuning steps at most (0 = frozen-code probe only)."),
    validation_fraction: float = typer.Option(0.1, min=0.0, max=0.99,
                                              help="Part of the labels held out to choose the fine-tuning steps."),
    limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N training rows."),
    test_limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N test rows."),
    device: str = typer.Option("cpu", help="cpu, gpu or auto (pretraining)."),
    out: Path = typer.Option(Path("runs/fewshot"), help="Folder for fewshot.json and the accuracy plot."),
) -> None:
    """Few-shot accuracy vs labels per class: aekit's default (pretrain, head, fine-tune), frozen-code probe,
    from scratch, PCA + logistic regression."""
    from aekit.io import removed_on_failure
    from aekit.apps.fewshot import LABELS, FewShotSettings, accuracy_plot, fewshot_benchmark, summarize
    from aekit.errors import DataError

    model = {"latent_dim": latent_dim}
    # the settings check shots and seeds; fewshot_benchmark checks them against the data before pretraining
    settings = FewShotSettings(shots=_ints(shots, "--shots"), seeds=_ints(seeds, "--seeds"), family=family, model=model,
                               max_epochs=epochs, head_steps=head_steps, finetune_steps=finetune_steps,
                               validation_fraction=validation_fraction, device=device)
    ds, Xtr, ytr, Xte, yte = load_split(data, limit, test_limit, 0)
    if ytr is None or yte is None:
        raise DataError(f"{ds.name}: few-shot classification needs labels")
    rows = fewshot_benchmark(Xtr, ytr, Xte, yte, settings)
    summary = summarize(rows)
    shot_list = sorted({r["n"] for r in summary})
    methods = list(dict.fromkeys(r["method"] for r in summary))
    cell = {(r["method"], r["n"]): f"{r['mean']:.3f} ± {r['std']:.3f}" for r in summary}
    _table(f"{ds.name}: test accuracy ({len(Xte)} rows), mean ± std over {len(settings.seeds)} seeds",
           ["method", *[f"N={n}" for n in shot_list]], [[LABELS.get(m, m), *[cell[(m, n)] for n in shot_list]] for m in methods])
    with removed_on_failure(out):
        plot = accuracy_plot(summary, out / "fewshot_accuracy.png", f"{ds.name}: few-shot accuracy")
        _save_json(out / "fewshot.json", {"data": ds.name, "settings": {**vars(settings), "shots": list(settings.shots),
                                                                        "seeds": list(settings.seeds),
                                                                        "noise": list(settings.noise)},
                                          "summary": summary, "runs": rows})
    console().print(f"results: {out / 'fewshot.json'}\nfigure: {plot}")
