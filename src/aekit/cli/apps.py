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
    app.command("k-sparse")(k_sparse)


def _ints(text: str, flag: str) -> list[int]:
    from aekit.errors import ConfigError

    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{flag} expects comma-separated integers, got {text!r}") from None


def load_split(source: str, limit: int | None, test_limit: int | None, seed: int) -> tuple[Any, Any, Any, Any, Any]:
    """``(held-out split, train X, train y, test X, test y)`` (:func:`aekit.experiments.common.train_test_split_of`)."""
    from aekit.experiments.common import train_test_split_of

    sp = train_test_split_of(source, limit, test_limit, seed)
    return sp, sp.X_train, sp.y_train, sp.X_test, sp.y_test


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
    limit: Optional[int] = typer.Option(None, min=1, help="Use a seeded, stratified sample of N training rows."),
    test_limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N test rows."),
    curves: bool = typer.Option(False, help="Also run the y = mx^p + c experiment (p = 1, 2, 8)."),
    curve_epochs: int = typer.Option(300, min=1, help="Epochs of the curve experiment's autoencoders."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    accelerator: str = typer.Option("cpu", "--device", "--accelerator", help="Where training runs: cpu, gpu or auto."),
    out: Path = typer.Option(Path("runs/reduce"), "--out", "-o", help="Folder to write: the table (reduce.json) and figures."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write over an existing --out folder."),
) -> None:
    """Autoencoder vs PCA at equal code sizes: test reconstruction MSE and 2-D embeddings."""
    from aekit.experiments.reduction import ae_vs_pca, curve_result
    from aekit.io import refuse_existing

    refuse_existing(out, overwrite)  # before any training, not after

    result = ae_vs_pca(data, _ints(dims, "--dims"), _ints(hidden, "--hidden"), activation, epochs, batch_size, lr,
                       limit, test_limit, seed, accelerator)
    s = result.summary
    _table(f"reconstruction MSE on the {s['data']} test split ({s['test_rows']} rows, values in [0, 1])",
           ["dims", "PCA", "autoencoder"], [[str(r["dims"]), f"{r['pca_mse']:.5f}", f"{r['ae_mse']:.5f}"] for r in s["results"]])
    if curves:
        crv = curve_result(seed=seed, max_epochs=curve_epochs, device=accelerator)
        _table("y = mx^p + c reconstructed from 1 dimension (MSE)", ["function", "PCA", "autoencoder"],
               [[f"p = {r['power']}", f"{r['pca_mse']:.5f}", f"{r['ae_mse']:.5f}"] for r in crv.summary["curves"]])
        result.summary["curves"] = crv.summary["curves"]
        result.figures.update(crv.figures)
    written = result.save(out, overwrite)
    console().print(f"results: {written.pop('json')}")
    for f in written.values():
        console().print(f"figure: {f}")


def denoise(
    data: str = typer.Option("mnist", "--data", "-d", help="Built-in image data set or an image file/folder."),
    noise: Optional[list[str]] = typer.Option(None, help="Noise condition, e.g. gaussian:sigma=0.3 (repeatable; one denoiser each)."),
    family: str = typer.Option("conv", "--model", "-m", "--family", help="Model family of the denoiser (--family is its old name)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Model setting as in a YAML config, e.g. model.latent_dim=16 (repeatable)."),
    epochs: int = typer.Option(20, "--epochs", "-e", min=1, help="Training epochs."),
    batch_size: int = typer.Option(128, min=1, help="Batch size."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    filter_size: int = typer.Option(3, help="Window of the classic filters (odd number of pixels)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Use a seeded, stratified sample of N training images."),
    test_limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N test images."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    accelerator: str = typer.Option("cpu", "--device", "--accelerator", help="Where training runs: cpu, gpu or auto."),
    out: Path = typer.Option(Path("runs/denoise"), "--out", "-o", help="Folder to write: models, grids and denoise.json."),
    run: Optional[Path] = typer.Option(None, help="Apply this trained denoiser (a model folder) instead of training."),
    images: Optional[Path] = typer.Option(None, help="With --run: folder of PNG images to denoise."),
    output: Optional[Path] = typer.Option(None, help="With --run: folder for the denoised PNGs."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write over an existing --out folder."),
) -> None:
    """Train denoising autoencoders and compare them with mean/median/closing-opening filters by PSNR and SSIM,
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
    from aekit.apps.denoise import check_filter_size
    from aekit.cli.core import parse_noise
    from aekit.experiments.denoising import DEFAULT_CONDITIONS, denoise_vs_filters

    check_filter_size(filter_size, "--filter-size")
    from aekit.io import refuse_existing

    refuse_existing(out, overwrite)  # before any training, not after
    specs = [parse_noise(n) for n in noise] if noise else list(DEFAULT_CONDITIONS)
    from aekit.cli.common import model_settings, parse_set

    params = model_settings(parse_set(set_ or []), "denoise") or None
    result = denoise_vs_filters(data, specs, family, epochs, batch_size, lr, filter_size, limit, test_limit, seed,
                                accelerator, model_params=params)
    s = result.summary
    for cond in s["conditions"]:
        _table(f"{s['data']}, {cond['label']}: mean over {s['test_images']} test images", ["method", "PSNR (dB)", "SSIM"],
               [[k, f"{m['psnr']:.2f}", f"{m['ssim']:.3f}"] for k, m in cond["metrics"].items()])
    written = result.save(out, overwrite)
    console().print(f"results: {written.pop('json')}")
    for name, path in written.items():
        console().print(f"{'grid' if name.startswith('grid_') else 'model'}: {path}")


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
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder to write (default RUN/generated)."),
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
    X = y = X_train = None
    source = data or (trained.meta.get("data") or {}).get("source")
    if source:
        from aekit.experiments.common import run_split

        # the run's own splits: its held-out rows were never trained on
        sp = run_split(run, limit) if data is None and (run / "config.yaml").is_file() \
            else load_split(source, None, limit, 0)[0]
        X_train, X, y = sp.X_train, sp.X_test, sp.y_test
        check_indices(pair, len(X), "--interpolate index")
    # generate_all checks the rest before it creates the folder, and removes it if it fails
    written = generate_all(trained, out or run / "generated", X, y, n_samples=samples, grid_steps=grid,
                           interp=(pair[0], pair[1]), interp_steps=steps, attribute=attr, seed=seed,  # type: ignore[arg-type]
                           X_train=X_train)
    for name, path in written.items():
        console().print(f"{name}: {path}")
    if "quality" in written:
        import json

        q = json.loads(written["quality"].read_text())
        console().print(f"nearest-neighbour distance to the {q['n_train']} training examples (RMS per feature, "
                        f"scaled units): {q['of']} {q['generated_nn']:.4f}, {q['n_real']} held-out real examples "
                        f"{q['real_nn']:.4f}; ratio {q['ratio']:.2f} (1 = as close to the data as new real data, "
                        f"above 1 = off the data, far below 1 = copies of training examples)")


def latent(
    run: Path = typer.Argument(..., help="Run folder of a trained model."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Data to encode (default: the run's test split)."),
    method: str = typer.Option("auto", help="auto (2-D codes direct, else PCA), pca, tsne or umap."),
    limit: Optional[int] = typer.Option(2000, min=1, help="Examples to encode."),
    seed: int = typer.Option(0, min=0, help="Random seed of the projection."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder to write (default RUN/figures)."),
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
    if data is None and (run / "config.yaml").is_file():  # the run's own held-out rows, never trained on
        from aekit.experiments.common import run_split

        ds = run_split(run, limit)
        X, y = ds.X_test, ds.y_test
    else:
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
    family: str = typer.Option("mlp", "--model", "-m", "--family", help="Autoencoder family (--family is its old name)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Model setting as in a YAML config, e.g. model.hidden=[64] (repeatable)."),
    latent_dim: int = typer.Option(32, min=1, help="Code size (also PCA's number of components)."),
    epochs: int = typer.Option(20, "--epochs", "-e", min=1, help="Pretraining epochs on the unlabelled data (max_epochs)."),
    head_steps: int = typer.Option(300, min=1, help="Solver iterations of the head (Adam steps of the from-scratch network)."),
    finetune_steps: Optional[int] = typer.Option(None, min=0,
                                                 help="End-to-end fine-tuning steps at most (0 = frozen-code probe only; "
                                                      "default: FewShotClassifier's, 200 up to 10 labels per class, "
                                                      "400 from 100)."),
    validation_fraction: float = typer.Option(0.1, min=0.0, max=0.99,
                                              help="Part of the labels held out to choose the fine-tuning steps."),
    members: Optional[int] = typer.Option(None, "--members", min=1,
                                          help="Ensemble members, one autoencoder each (default: FewShotClassifier's, 3)."),
    shift: Optional[int] = typer.Option(None, "--shift", min=0,
                                        help="Also train on the labelled images moved by up to this many pixels "
                                             "(0 = none; default: FewShotClassifier's, 1)."),
    jobs: int = typer.Option(1, "--jobs", min=1, help="(N, seed) cells fitted in parallel processes after pretraining."),
    limit: Optional[int] = typer.Option(None, min=1, help="Use a seeded, stratified sample of N training rows."),
    test_limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N test rows."),
    device: str = typer.Option("cpu", help="cpu, gpu or auto (pretraining)."),
    out: Path = typer.Option(Path("runs/fewshot"), "--out", "-o", help="Folder to write: fewshot.json and the accuracy plot."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write over an existing --out folder."),
) -> None:
    """Few-shot accuracy vs labels per class: aekit's default (pretrain, head, fine-tune), frozen-code probe,
    from scratch, PCA + logistic regression."""
    from aekit.apps.fewshot import LABELS, FewShotSettings, accuracy_plot, fewshot_benchmark, summarize
    from aekit.errors import DataError
    from aekit.io import new_folder, refuse_existing

    refuse_existing(out, overwrite)  # before hours of training, not after

    from aekit.cli.common import model_settings, parse_set

    model = {"latent_dim": latent_dim, **model_settings(parse_set(set_ or []), "fewshot")}
    # the settings check shots and seeds; fewshot_benchmark checks them against the data before pretraining
    settings = FewShotSettings(shots=_ints(shots, "--shots"), seeds=_ints(seeds, "--seeds"), family=family, model=model,
                               max_epochs=epochs, head_steps=head_steps, validation_fraction=validation_fraction,
                               device=device, n_jobs=jobs, **({} if finetune_steps is None else {"finetune_steps": finetune_steps}),
                               **({} if members is None else {"n_estimators": members}),
                               **({} if shift is None else {"augment_shift": shift}))
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
    with new_folder(out, overwrite) as tmp:
        accuracy_plot(summary, tmp / "fewshot_accuracy.png", f"{ds.name}: few-shot accuracy")
        _save_json(tmp / "fewshot.json", {"data": ds.name, "settings": {**vars(settings), "shots": list(settings.shots),
                                                                        "seeds": list(settings.seeds),
                                                                        "noise": list(settings.noise)},
                                          "summary": summary, "runs": rows})
    console().print(f"results: {out / 'fewshot.json'}\nfigure: {out / 'fewshot_accuracy.png'}")


def k_sparse(
    data: str = typer.Option("mnist", "--data", "-d", help="Built-in data set or a file/folder (images show as images)."),
    k: str = typer.Option("5,10,20,40", "--k", help="Code units kept per example, one autoencoder each."),
    latent_dim: int = typer.Option(200, min=1, help="Code units of every autoencoder."),
    epochs: int = typer.Option(15, "--epochs", "-e", min=1, help="Training epochs per k."),
    batch_size: int = typer.Option(128, min=1, help="Batch size."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    filters: int = typer.Option(49, min=1, help="Filters drawn per k (the most used units)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Use a seeded, stratified sample of N training rows."),
    test_limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N test rows."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    device: str = typer.Option("cpu", help="cpu, gpu or auto."),
    out: Path = typer.Option(Path("runs/k-sparse"), "--out", "-o", help="Folder to write: k_sparse.json and the figure."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write over an existing --out folder."),
    schedule: bool = typer.Option(True, help="Lower k from latent_dim/2 over the first half of the epochs (against dead units)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No training progress."),
) -> None:
    """The deck's k-sparse autoencoder figure: decoder filters learned for each k, and the test
    reconstruction MSE per k (one single-layer ksparse autoencoder per k)."""
    from aekit.experiments.ksparse import check_ks, ksparse_filters
    from aekit.io import refuse_existing

    ks = check_ks(_ints(k, "--k"), latent_dim)  # before any data is read
    refuse_existing(out, overwrite)  # before any training, not after
    result = ksparse_filters(data, ks, latent_dim, epochs, batch_size, lr, limit, test_limit, seed, device, filters,
                             progress=not quiet, schedule=schedule)
    s = result.summary
    console().print(f"{s['data']}: {s['train_rows']} training and {s['test_rows']} test rows, {latent_dim} code units; "
                    "MSE on pixels in [0, 1], units used = chosen by at least one test row", markup=False)
    _table("test MSE per k", ["k", "test MSE", "units used"], [[str(r["k"]), f"{r['test_mse']:.5f}", f"{r['units_used']} / {latent_dim}"]
                                              for r in s["results"]])
    written = result.save(out, overwrite)
    console().print(f"results: {written.pop('json')}")
    for f in written.values():
        console().print(f"figure: {f}")
