"""Report commands: report, explore, compare, tune (heavy imports inside the commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from aekit.cli.common import console


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("explore")(explore)
    app.command("compare")(compare)
    app.command("tune")(tune)


def report(
    run: Path = typer.Argument(..., help="Run folder (training or `aekit detect` output)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default RUN/report.html)."),
) -> None:
    """Write a self-contained HTML report of a run (figures also saved under RUN/figures)."""
    from aekit.reports.html import write_report
    from aekit.runstate import ensure_finished

    if run.is_dir():
        ensure_finished(run)  # an interrupted or failed run says so instead of a report of half a run
    path = write_report(run, out)
    console().print(f"report: {path}")


def explore(
    data: str = typer.Argument(..., help="Built-in data set, table (CSV/Parquet), npy/npz, image/idx folder, or audio file/folder."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default explore-<name>.html)."),
    label_column: Optional[str] = typer.Option(None, help="Label column of a table (default: label/class/target/y)."),
    limit: Optional[int] = typer.Option(None, help="Profile only the first N examples."),
    strict: bool = typer.Option(False, help="Exit with code 1 when problems are found (for scripts)."),
) -> None:
    """Look at the data first: shape, types, missing values, ranges, class balance, problems."""
    from rich.table import Table

    from aekit.reports.explore import profile_data, write_explore_report

    prof = profile_data(data, label_column=label_column, limit=limit)
    table = Table(title=f"{prof.name}: {prof.kind}, shape {prof.shape}")
    table.add_column("")
    table.add_column("", justify="right")
    for key, value in (("types", ", ".join(f"{k} x{v}" for k, v in prof.dtypes.items())), ("missing values", prof.missing),
                       ("duplicate rows", prof.duplicates),
                       ("classes", "-" if not prof.class_counts else ", ".join(f"{k}: {v}" for k, v in list(prof.class_counts.items())[:12]))):
        table.add_row(key, str(value))
    console().print(table)
    for note in prof.notes:
        console().print(f"note: {note}")
    if prof.problems:
        console().print(f"[bold]{len(prof.problems)} problem(s) found:[/]")
        for p in prof.problems:
            console().print(f"  - {p}", markup=False)
    else:
        console().print("no problems found")
    path = write_explore_report(prof, out or Path(f"explore-{prof.name}.html"))
    console().print(f"report: {path}")
    if strict and prof.problems:
        raise SystemExit(1)  # typer.Exit's code is dropped when main() runs the app non-standalone


def compare(
    runs: list[Path] = typer.Argument(..., help="Run folders (a folder of run folders counts as all of them)."),
    out: Path = typer.Option(Path("compare.html"), "--out", "-o", help="HTML page to write."),
) -> None:
    """One table of the runs' settings and metrics (best marked), overlaid curves, reconstructions."""
    from aekit.reports.compare import compare_runs, rich_table

    comp = compare_runs(runs, out)
    console().print(rich_table(comp))
    console().print(f"report: {comp.path}")


def tune(
    config: Path = typer.Argument(..., help="Base run config (YAML); it is the first trial."),
    trials: int = typer.Option(20, "--trials", "-n", help="Finished trials wanted in the study (counts earlier runs when resuming)."),
    study_name: Optional[str] = typer.Option(None, help="Study name (default: the config's file name)."),
    storage: Optional[str] = typer.Option(None, help="Optuna storage URL (default sqlite:///OUT/study.db)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default tune/<study name>)."),
    search: Optional[str] = typer.Option(None, help="Dimensions to search, comma-separated: latent_dim,depth,widths,activation,loss,noise,lr (default all)."),
    seed: int = typer.Option(0, help="Sampler seed."),
    timeout: Optional[float] = typer.Option(None, help="Stop starting new trials after this many seconds."),
) -> None:
    """Optuna search over code size, depth, widths, activation, loss, noise and learning rate."""
    from aekit.tune import DIMENSIONS, SearchSpace
    from aekit.tune import tune as run_tune

    space = SearchSpace(search=tuple(s.strip() for s in search.split(",") if s.strip()) if search else DIMENSIONS)
    result = run_tune(config, trials=trials, out=out, study_name=study_name, storage=storage, space=space, seed=seed, timeout=timeout)
    c = console()
    c.print(f"trials: {', '.join(f'{k} {v}' for k, v in result.counts.items())}")
    if result.default_value is not None:
        c.print(f"base config (trial 0): val MSE {result.default_value:.6f}")
    c.print(f"best: trial {result.best_trial}, val MSE {result.best_value:.6f}")
    if result.improved and result.default_value:
        c.print(f"search beat the base config by {1 - result.best_value / result.default_value:.1%}")
    else:
        c.print("search did not beat the base config; best.yaml is the base config")
    c.print(f"best config: {result.best_config_path}")
    if result.compare_path is not None:
        c.print(f"trials compared: {result.compare_path}")
