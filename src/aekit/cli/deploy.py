"""Deployment commands: ``aekit export`` (run -> one ONNX file) and ``aekit serve`` (HTTP scoring)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from aekit.cli.common import console


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("serve")(serve)


def export(
    run: Path = typer.Argument(..., help="Run folder from `aekit detect` or `aekit train` (holds model.json)."),
    out: Path = typer.Argument(..., help="ONNX file to write (.onnx)."),
    feature_names: Optional[str] = typer.Option(None, help="Comma-separated input names, stored in the file's metadata."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT."),
) -> None:
    """Export RUN's whole scoring path (scaling, model, error, score, threshold) as one ONNX graph."""
    from aekit.export import export as run_export
    from aekit.runtime import load_exported

    names = None if feature_names is None else [n.strip() for n in feature_names.split(",")]
    path = run_export(run, out, overwrite=overwrite, feature_names=names)
    m = load_exported(path)
    thr = "" if m.threshold is None else f", threshold {m.threshold['value']:.6g} ({m.threshold['method']})"
    console().print(f"wrote {path}: {m.kind} ({m.family}), {m.n_features} inputs -> {', '.join(m.outputs)}{thr}")


def serve(
    model: Path = typer.Argument(..., help="An .onnx file from `aekit export`, or a run folder (exported in memory)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind (default loopback only)."),
    port: int = typer.Option(8000, help="TCP port."),
    max_body_mb: float = typer.Option(32.0, help="Largest request body in MB (larger: 413)."),
    batch_wait_ms: float = typer.Option(0.0, help="Micro-batching: extra wait for more requests before scoring (0: score what is queued at once; batches still form under load)."),
    max_batch_rows: int = typer.Option(8192, help="Micro-batching: most rows scored in one pass."),
    threads: Optional[int] = typer.Option(None, help="onnxruntime threads per process (default: its own choice; with --workers, the cores shared out)."),
    workers: int = typer.Option(1, help="Server processes sharing the port: one per core serves the most concurrent clients."),
) -> None:
    """Serve MODEL over HTTP: POST /v1/score, /v1/encode, /v1/reconstruct; GET /health, /v1/metadata."""
    from aekit.serve import ServeConfig, run_server

    run_server(model, ServeConfig(host=host, port=port, max_body_bytes=int(max_body_mb * 1024 * 1024),
                                  batch_wait_s=batch_wait_ms / 1000.0, max_batch_rows=max_batch_rows, threads=threads,
                                  workers=workers))
