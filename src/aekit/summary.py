"""Layer tables of autoencoders, in the style of the lecture decks' ``004_*.txt`` tables.

:func:`summarize` runs one dummy batch through ``encode`` -> ``decode`` with torchinfo
and keeps the leaf layers, numbered in call order (``Conv2d-1``, ``LeakyReLU-2``, ...);
the output activation (``Sigmoid``/``Identity``) appears as the last row, as in the
decks. :func:`summary_text` and :func:`summary_table` render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table
    from torch import nn


@dataclass(frozen=True)
class LayerRow:
    """One leaf layer: ``name`` like ``Conv2d-3``, output shape without the batch dim, parameters."""

    name: str
    output_shape: tuple[int, ...]
    params: int
    trainable: bool


@dataclass(frozen=True)
class Summary:
    """A model's layer table and parameter totals."""

    family: str
    input_shape: tuple[int, ...]
    code_shape: tuple[int, ...]
    rows: list[LayerRow]
    total_params: int
    trainable_params: int

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params


def _unrolled(model: Any) -> "nn.Module":
    """encode -> decode_logits -> output activation as one module, so torchinfo sees a tensor output."""
    from torch import nn

    class Unrolled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            act = getattr(model.config, "output_activation", "identity")
            self.output = nn.Sigmoid() if act == "sigmoid" else nn.Identity()

        def forward(self, x: Any) -> Any:
            return self.output(self.model.decode_logits(self.model.encode(x)))

    return Unrolled()


def summarize(model: Any, input_shape: tuple[int, ...] | None = None) -> Summary:
    """Layer rows and parameter totals of ``model`` for one example of ``input_shape``.

    ``input_shape`` defaults to the model's own (without the batch dimension).
    Parameters shared by two layers (tied weights) are counted once in the totals.
    """
    import torch
    from torchinfo import summary as torchinfo_summary

    shape = tuple(input_shape or model.input_shape)
    was_training = model.training
    model.eval()
    try:
        x = torch.zeros(2, *shape)  # batch of 2: BatchNorm-style layers need > 1 example
        with torch.no_grad():
            code_shape = tuple(model.encode(x).shape[1:])
        stats = torchinfo_summary(_unrolled(model), input_data=[x], verbose=0, depth=100)
    finally:
        model.train(was_training)
    rows: list[LayerRow] = []
    for info in stats.summary_list:
        if not info.is_leaf_layer or info.class_name == "Unrolled":
            continue
        out = info.output_size
        rows.append(LayerRow(
            name=f"{info.class_name}-{len(rows) + 1}",
            output_shape=tuple(out[1:]) if out else (),
            params=int(info.num_params),
            trainable=bool(info.trainable_params == info.num_params),
        ))
    params = {id(p): p for p in model.parameters()}  # de-duplicates tied weights
    total = sum(p.numel() for p in params.values())
    trainable = sum(p.numel() for p in params.values() if p.requires_grad)
    return Summary(str(getattr(model, "family", type(model).__name__)), shape, code_shape, rows, total, trainable)


def _shape(shape: tuple[int, ...]) -> str:
    return "[-1, " + ", ".join(str(d) for d in shape) + "]"


def summary_text(model: Any, input_shape: tuple[int, ...] | None = None) -> str:
    """The layer table as plain text (``Layer (type)  Output Shape  Param #``)."""
    s = model if isinstance(model, Summary) else summarize(model, input_shape)
    lines = [f"{'Layer (type)':<24}{'Output Shape':<24}{'Param #':>12}", "=" * 60]
    lines += [f"{r.name:<24}{_shape(r.output_shape):<24}{r.params:>12,}" for r in s.rows]
    lines += [
        "=" * 60,
        f"Total params: {s.total_params:,}",
        f"Trainable params: {s.trainable_params:,}",
        f"Non-trainable params: {s.non_trainable_params:,}",
        f"Code shape: {_shape(s.code_shape)}",
    ]
    return "\n".join(lines)


def summary_table(model: Any, input_shape: tuple[int, ...] | None = None) -> "Table":
    """The layer table as a :class:`rich.table.Table` (what ``aekit summary`` prints)."""
    from rich.table import Table

    s = model if isinstance(model, Summary) else summarize(model, input_shape)
    table = Table(title=f"{s.family}: input {s.input_shape} -> code {s.code_shape}")
    table.add_column("Layer (type)")
    table.add_column("Output Shape")
    table.add_column("Param #", justify="right")
    for r in s.rows:
        table.add_row(r.name, _shape(r.output_shape), f"{r.params:,}", style=None if r.trainable else "dim")
    table.add_section()
    table.add_row("Total params", "", f"{s.total_params:,}")
    table.add_row("Trainable params", "", f"{s.trainable_params:,}")
    table.add_row("Non-trainable params", "", f"{s.non_trainable_params:,}")
    return table
