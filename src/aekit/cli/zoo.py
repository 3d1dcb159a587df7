"""Model-zoo commands: ``aekit pretrain`` (greedy layer-wise pretraining + fine-tuning)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from aekit.cli.common import console, parse_set, run_folder


def register(app: typer.Typer) -> None:
    app.command("pretrain")(pretrain)


def pretrain(
    config: Optional[Path] = typer.Argument(None, help="YAML config (flags below override it)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="stacked (autoencoder stages) or dbn (RBM stack)."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Built-in data set or a file/folder."),
    hidden: Optional[str] = typer.Option(None, help="Encoder widths, e.g. 256,128."),
    latent_dim: Optional[int] = typer.Option(None, help="Code size."),
    stage_epochs: Optional[int] = typer.Option(None, help="Epochs per greedy stage (stacked) or per RBM (dbn)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="Fine-tuning epochs."),
    batch_size: Optional[int] = typer.Option(None, help="Fine-tuning batch size."),
    lr: Optional[float] = typer.Option(None, help="Fine-tuning learning rate."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Any config value, e.g. model.cd_k=3 (repeatable)."),
    seed: Optional[int] = typer.Option(None, help="Random seed."),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Run folder to write (default runs/<model>-<data>-<time>)."),
    name: Optional[str] = typer.Option(None, hidden=True, help="Deprecated: --out is the run folder itself."),
    progress: bool = typer.Option(False, help="Show a progress bar while fine-tuning."),
) -> None:
    """Greedy layer-wise pretraining, then end-to-end fine-tuning; writes a run folder."""
    from aekit.cli.core import _int_list, _report_run
    from aekit.config import load_yaml, set_dotted

    cfg: dict[str, Any] = load_yaml(config) if config else {}
    cfg.setdefault("model", {}).setdefault("family", "stacked")
    family = model or cfg["model"]["family"]
    stage_key = "model.rbm_epochs" if family == "dbn" else "model.pretrain_epochs"
    flags = {
        "model.family": model, "data.source": data, "model.latent_dim": latent_dim,
        "model.hidden": None if hidden is None else _int_list(hidden, "--hidden"),
        stage_key: stage_epochs, "trainer.max_epochs": epochs, "trainer.batch_size": batch_size,
        "optim.lr": lr, "trainer.seed": seed, **run_folder(out, name), "trainer.progress": progress,
    }
    for key, value in flags.items():
        if value is not None:
            set_dotted(cfg, key, value)
    for key, value in parse_set(set_ or []):
        set_dotted(cfg, key, value)
    from aekit.reports.training import train as run_train

    trained = run_train(cfg, pretrain=True)
    for stage in trained.metrics.get("pretraining", []):
        if stage["kind"] == "rbm":
            what = f"free energy {stage['free_energy']:.3f}, reconstruction MSE {stage['recon_error']:.5f}"
        else:
            val = stage.get("val_loss")
            what = f"train loss {stage['train_loss']:.5f}" + ("" if val is None else f", val loss {val:.5f}")
        console().print(f"stage {stage['stage']} ({stage['kind']} {stage['layer']}, {stage['epochs']} epochs): {what}")
    _report_run(trained)
