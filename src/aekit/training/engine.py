"""The one training engine: a Lightning wrapper that trains any registered autoencoder.

The engine only calls ``model.loss(x, target)`` and reads ``LossOutput.total`` and
``.parts``; families need no code here. Speed notes: batches are index slices of
in-memory tensors (:class:`~aekit.data.TensorBatches`), loss parts are summed on the
device and logged once per epoch, and nothing is synchronised per step. Without a
learning-rate schedule or gradient clipping the module runs each step itself (Lightning's
manual optimisation: the same zero_grad / backward / step, without the automatic loop's
closure machinery), and an in-memory fit that nothing watches (no logger, checkpoint,
callback or bar) keeps its epoch means itself rather than through ``self.log``: for a small
network on a small table both cost more than the arithmetic.

An ensemble trained as one batched network (:class:`aekit.models.ensemble.MemberStack`: a
model with ``n_members`` and ``member_seeds``) goes through the same engine: each member gets
its own row order, its own corruption stream, its own best epoch and its own early stopping
(on its loss ``"member<m>"``, entry ``m`` of its ``(M,)`` loss part ``"member"``), exactly as if it
had been trained alone.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import math
import os
import sys
import signal
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import lightning as L
import numpy as np
import torch
from torch import Tensor

from aekit.data.batches import Batch, TensorBatches
from aekit.errors import ConfigError
from aekit.models.base import Autoencoder

_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's start-up chatter (tips, "GPU available", device lines) for aekit's
    own calls only: the log levels are restored afterwards, so importing or calling aekit
    changes nothing else in the process. (Warnings raised meanwhile are handled by
    :func:`aekit.training.checkpoints.warnings_to_file`.)"""
    loggers = [logging.getLogger(n) for n in _LIGHTNING_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _split_batch(batch: Batch) -> tuple[Tensor, Tensor | None]:
    """``x`` or ``(x, target)`` -> ``(x, target or None)``."""
    return (batch, None) if isinstance(batch, Tensor) else (batch[0], batch[1])


@dataclass
class OptimConfig:
    name: Literal["adam", "adamw", "sgd"] = "adam"  # optimiser
    lr: float = 1e-3  # learning rate
    weight_decay: float = 0.0  # L2 (adam/sgd) or decoupled (adamw) weight decay
    schedule: Literal["none", "cosine", "step", "plateau"] = "none"  # learning-rate schedule
    step_size: int = 10  # epochs between decays ("step")
    gamma: float = 0.5  # decay factor ("step", "plateau")
    momentum: float = 0.9  # "sgd" only


@dataclass
class TrainerConfig:
    max_epochs: int = 10  # upper bound on epochs
    batch_size: int = 128  # examples per step (per device under DDP)
    patience: int | None = None  # early stopping on validation loss after this many flat epochs
    min_delta: float = 0.0  # improvement that resets patience
    seed: int = 0  # seeds weights, shuffling and corruption
    accelerator: str = "cpu"  # "cpu", "gpu", "auto"
    devices: int | str = 1  # devices per node (int or "auto")
    num_nodes: int = 1  # machines for multi-node DDP
    strategy: str = "auto"  # Lightning strategy: "auto", "ddp", "ddp_spawn", ...
    precision: str = "auto"  # "auto" = bf16-mixed on a bf16 GPU, else "32-true"
    deterministic: bool = True  # deterministic algorithms (CPU runs are bit-reproducible)
    progress: bool = False  # a rich progress bar on a terminal, one line per epoch otherwise
    gradient_clip: float | None = None  # clip gradient norm
    data_on_device: bool = True  # copy the whole training set to the GPU once when it fits
    checkpoints: Literal["best_and_last", "last", "none"] = "best_and_last"  # what a run folder keeps for --resume


@dataclass
class FitResult:
    """What :func:`fit_model` returns; ``model`` holds the best weights, in eval mode."""

    model: Autoencoder
    history: list[dict[str, float]]  # one row per epoch; "epoch" counts from 1
    best_epoch: int  # 1-based epoch whose weights ``model`` holds
    best_val_loss: float
    seconds: float
    interrupted: bool = False
    # a stacked ensemble's (model.n_members): each member's best epoch, and the epoch early stopping ended it (None: ran on)
    member_best_epochs: list[int] | None = None
    member_stopped: list[int | None] | None = None
    is_global_zero: bool = True
    trainer: Any = field(default=None, repr=False)


class LitAutoencoder(L.LightningModule):
    """LightningModule around any :class:`Autoencoder`; logs every loss part per epoch."""

    def __init__(
        self,
        model: Autoencoder,
        train: TensorBatches,
        val: TensorBatches | None,
        optim: OptimConfig,
        max_epochs: int,
        corruption: Any = None,
        seed: int = 0,
        move_data: bool = True,
        epoch_lines: bool = False,
        patience: int | None = None,
        min_delta: float = 0.0,
        manual_steps: bool = False,
        lightning_logs: bool = True,
        own_validation: bool = False,
    ) -> None:
        super().__init__()
        # lightning_logs=False: nothing reads Lightning's logged metrics (no logger, callback,
        # progress bar or plateau schedule: an in-memory estimator fit), so the epoch means skip
        # ``self.log`` (milliseconds a call, more than an epoch of a small network on a small
        # table) and go straight to the history row, averaged over the ranks all the same
        self.lightning_logs = lightning_logs
        # manual_steps: this module runs each step's zero_grad / backward / optimiser step itself
        # (Lightning's manual optimisation, same order, same arithmetic) instead of Lightning's
        # automatic closure, whose per-step machinery costs about as much as a small network's
        # step. Only where nothing needs the automatic loop: no learning-rate schedule and no
        # gradient clipping (fit_model decides; Lightning steps neither in manual optimisation).
        self.automatic_optimization = not manual_steps
        # own_validation: this module runs the epoch's validation pass itself at the end of the training
        # epoch (where Lightning's loop runs it: after the last batch, before on_train_epoch_end), with
        # the same validation_step, eval mode, inference mode, batch handling and precision. Lightning's
        # evaluation loop (its own fetcher, hooks, result collection and signature checks) costs about
        # a millisecond an epoch, more than the pass over a small table's held-out rows. Only where
        # nothing reads Lightning's val metrics (lightning_logs=False) and one process trains on one
        # device (fit_model decides; the trainer then gets limit_val_batches=0).
        self.own_validation = own_validation and not lightning_logs
        self._params: list[Tensor] | None = None  # the optimiser's parameters, for the manual step's zero_grad
        self.epoch_lines = epoch_lines  # print one plain line per epoch (progress where no terminal shows a bar)
        self.model = model
        self.optim = optim
        self.max_epochs = max_epochs
        self.corruption = corruption
        self.seed = seed
        self._train, self._val = train, val
        self._move_data = move_data
        self._sums: dict[str, Tensor] = {}
        self._count = 0
        self._val_sums: dict[str, Tensor] = {}
        self._val_count = 0
        self._val_ready = False  # own_validation: held-out batches prepared (sharded, moved) yet
        self._gen: torch.Generator | None = None
        self.history: list[dict[str, float]] = []
        # best weights by the monitored loss, kept here rather than in a callback: Lightning
        # runs ordinary callbacks' on_train_epoch_end before this module's, i.e. before the
        # epoch's train/ metrics exist, which would pair one epoch's loss with the next one's weights
        self.best_value = math.inf
        self.best_epoch = 0  # 1-based once an epoch has run
        self.best_state: dict[str, Tensor] | None = None
        # an ensemble of n_members stacked along dim 0 of every state tensor: per-member bookkeeping
        self.member_seeds: list[int] | None = getattr(model, "member_seeds", None)
        n = len(self.member_seeds or [])
        self.patience, self.min_delta = patience, min_delta
        self.member_best = [math.inf] * n  # best monitored loss of each member
        self.member_best_epoch = [0] * n  # 1-based epoch whose weights member m keeps
        self.member_stopped: list[int | None] = [None] * n  # epoch at which early stopping ended member m
        self._member_wait = [0] * n  # epochs since member m last improved by more than min_delta
        self._member_es_best = [math.inf] * n
        self._member_gens: list[torch.Generator] | None = None
        self._member_metrics: dict[str, float] = {}  # this epoch's per-member losses ("train/member0", ...)
        self._epoch_means: dict[str, float] = {}  # the latest means not logged to Lightning (as callback_metrics keeps them)

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning sets _current_fx_name around every hook call, a dozen times a step; nn.Module's
        # __setattr__ first looks for a parameter, buffer or submodule of that name (~2 µs a time,
        # a few % of a small network's step), and a hook's name is none of those
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    # data: the module serves its own in-memory batches (sharded under DDP)
    def _prepare(self, batches: TensorBatches) -> TensorBatches:
        tr = self.trainer
        out = batches.shard(tr.global_rank, tr.world_size) if tr.world_size > 1 else batches
        if self._move_data and self.device.type != "cpu" and out.nbytes() < 2 * 1024**3:
            out = out.to(self.device)
        return out

    def train_dataloader(self) -> TensorBatches:
        self._train = self._prepare(self._train)
        return self._train

    def val_dataloader(self) -> Any:
        if not self._val_ready:
            self._val = self._prepare(self._val) if self._val is not None else None
            self._val_ready = True
        return self._val if self._val is not None else []

    def on_train_epoch_start(self) -> None:
        self._train.set_epoch(self.current_epoch)
        hook = getattr(self.model, "on_train_epoch_start", None)
        if callable(hook):  # e.g. KL warm-up of a VAE
            hook(self.current_epoch)

    def _accumulate(self, sums: dict[str, Tensor], loss: Any, n: int) -> None:
        parts = {"loss": loss.total, **loss.parts}
        for k, v in parts.items():
            v = v.detach().float() * n
            sums[k] = sums[k] + v if k in sums else v

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        x, target = _split_batch(batch)  # no target: the model reproduces its (clean) input
        if self.corruption is not None and self.member_seeds is not None:
            out = self.model.loss(self._corrupt_members(x), target=x if target is None else target)
        elif self.corruption is not None:
            if self._gen is None or self._gen.device != x.device:
                # one stream per DDP rank, so the ranks' shards do not share a noise pattern
                self._gen = torch.Generator(device=x.device).manual_seed(self.seed + 7919 + 104729 * self.global_rank)
            out = self.model.loss(self.corruption(x, self._gen), target=x if target is None else target)
        else:
            out = self.model.loss(x, target=target)
        n = x.shape[1] if self.member_seeds is not None else x.shape[0]  # (M, B, ...): B rows per member
        self._accumulate(self._sums, out, n)
        self._count += n
        if not self.automatic_optimization:  # what Lightning's automatic step does, without its closure
            opt = self.optimizers()
            self._zero_grad(opt)
            self.manual_backward(out.total)
            opt.step()
        return out.total

    def _zero_grad(self, opt: Any) -> None:
        """``opt.zero_grad()`` (set_to_none=True, torch's default): every parameter's gradient set to None,
        without the profiler scope and dispatch wrappers torch puts around it (about a tenth of a small
        network's step)."""
        if self._params is None:
            self._params = [p for group in opt.param_groups for p in group["params"]]
        for p in self._params:
            p.grad = None

    def _corrupt_members(self, x: Tensor) -> Tensor:
        """``(M, B, ...)``: member ``m``'s slice corrupted by its own stream, the one it would have alone."""
        if self._member_gens is None or self._member_gens[0].device != x.device:
            self._member_gens = [torch.Generator(device=x.device).manual_seed(s + 7919 + 104729 * self.global_rank)
                                 for s in self.member_seeds or []]
        return torch.stack([self.corruption(x[m], g) for m, g in enumerate(self._member_gens)])

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        x, target = _split_batch(batch)
        out = self.model.loss(x, target=target)
        self._accumulate(self._val_sums, out, x.shape[0])
        self._val_count += x.shape[0]

    def _means(self, sums: dict[str, Tensor], count: int, prefix: str) -> dict[str, Tensor]:
        return {f"{prefix}/{k}": v / max(count, 1) for k, v in sums.items()}

    def _log_means(self, metrics: dict[str, Tensor]) -> None:
        """Log the epoch's means. Lightning gets only what its callbacks, loggers and bar read: the
        scalar means, of a stacked ensemble only its total, and nothing at all without
        ``lightning_logs`` (a ``log`` call costs milliseconds, more than an epoch of a small network
        on a small table). Every other mean is averaged over the ranks here and kept for the history
        row: the ones Lightning would have held in ``_epoch_means`` (kept until replaced, as
        ``callback_metrics`` keeps them), the members' parts in ``_member_metrics`` (this epoch's;
        the ``(M,)`` part ``"member"`` becomes ``"member0"``, ...)."""
        loggable = {k for k, v in metrics.items() if v.dim() == 0 and (self.member_seeds is None or k.endswith("/loss"))}
        logged = {k: v for k, v in metrics.items() if k in loggable and self.lightning_logs}
        if logged:
            self.log_dict(logged, sync_dist=True, prog_bar=False)
        kept = [k for k in metrics if k not in logged]
        if not kept:
            return
        values = iter(self.trainer.strategy.reduce(torch.cat([metrics[k].reshape(-1) for k in kept]), reduce_op="mean").tolist())
        for k in kept:
            if k in loggable:
                self._epoch_means[k] = next(values)
            elif metrics[k].dim() == 0:
                self._member_metrics[k] = next(values)
            else:
                self._member_metrics.update((f"{k}{m}", next(values)) for m in range(metrics[k].numel()))

    def on_validation_epoch_end(self) -> None:
        if self._val_count:
            self._log_means(self._means(self._val_sums, self._val_count, "val"))
        self._val_sums, self._val_count = {}, 0

    def _run_validation(self) -> None:
        """The validation pass as Lightning's evaluation loop runs it (``own_validation``): the module in
        eval mode (each submodule's mode restored afterwards), under ``torch.inference_mode``, every
        held-out batch converted, moved and passed to ``validation_step`` (in the precision plugin's
        validation context) as the loop passes it, then ``on_validation_epoch_end``."""
        self.val_dataloader()  # prepared (sharded, moved) once
        if self._val is None:
            return
        strategy, precision = self.trainer.strategy, self.trainer.precision_plugin
        modes = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            with torch.inference_mode():
                for i, batch in enumerate(self._val):
                    # what the loop does to a batch: the precision's input dtype ("64-true": float64), the
                    # before-transfer hook, the move to the device (with its hooks)
                    batch = self._on_before_batch_transfer(precision.convert_input(batch), dataloader_idx=0)
                    batch = strategy.batch_to_device(batch, dataloader_idx=0)
                    with precision.val_step_context():
                        self.validation_step(batch, i)
        finally:
            for m, training in modes:
                m.training = training
        self.on_validation_epoch_end()

    def on_train_epoch_end(self) -> None:
        if self.own_validation:
            self._run_validation()
        self._log_means(self._means(self._sums, self._count, "train"))
        self._sums, self._count = {}, 0
        row: dict[str, float] = {"epoch": self.current_epoch + 1}  # epochs count from 1, as the bar and summary do
        for k, v in self.trainer.callback_metrics.items():
            if k.startswith(("train/", "val/")):
                row[k] = float(v)
        row.update(self._epoch_means)
        row.update(self._member_metrics)
        self._member_metrics = {}
        row["lr"] = float(self.trainer.optimizers[0].param_groups[0]["lr"])
        self.history.append(row)
        if self.epoch_lines and self.trainer.is_global_zero:
            if self.member_seeds is None:
                losses = ", ".join(f"{k} {v:.5g}" for k, v in row.items() if k.endswith("/loss"))
            else:  # a stacked ensemble's total is the sum over its members: show their mean loss
                losses = ", ".join(f"{k[: -len('/recon')]}/loss {v:.5g}" for k, v in row.items() if k.endswith("/recon"))
                losses += f" (mean of {len(self.member_seeds)} members)"
            print(f"epoch {row['epoch']}/{self.max_epochs}: {losses}", flush=True)
        if self.member_seeds is not None:
            self._track_members(row)
            return
        value = row.get(self._monitor)
        if value is not None and (value < self.best_value or self.best_state is None):
            self.best_value, self.best_epoch = value, self.current_epoch + 1
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def _track_members(self, row: dict[str, float]) -> None:
        """Per member of a stacked ensemble: keep its best epoch's slice of every state tensor, and
        stop it as Lightning's ``EarlyStopping`` would have stopped it alone (``patience`` epochs
        without an improvement of more than ``min_delta``). Training ends when every member has stopped;
        a stopped member's weights go on changing but its kept (best) slice no longer does."""
        epoch = self.current_epoch + 1
        improved: list[int] = []
        for m in range(len(self.member_best)):
            if self.member_stopped[m] is not None:
                continue
            value = row.get(self._monitor.replace("/loss", f"/member{m}"))
            if value is None:
                continue
            if value < self.member_best[m] or self.best_state is None or self.member_best_epoch[m] == 0:
                improved.append(m)
                self.member_best[m], self.member_best_epoch[m] = value, epoch
            if self.patience is None:
                continue
            if not math.isfinite(value):
                self.member_stopped[m] = epoch
            elif value < self._member_es_best[m] - self.min_delta:
                self._member_es_best[m], self._member_wait[m] = value, 0
            else:
                self._member_wait[m] += 1
                if self._member_wait[m] >= self.patience:
                    self.member_stopped[m] = epoch
        if improved:  # the improved members' slices of every state tensor, one copy per tensor
            state = {k: v.detach() for k, v in self.model.state_dict().items()}
            if self.best_state is None:
                self.best_state = {k: v.to("cpu", copy=True) for k, v in state.items()}
            else:
                rows = torch.tensor(improved)
                for k, v in state.items():
                    self.best_state[k][rows] = v[rows.to(v.device)].to("cpu")
        self.best_value, self.best_epoch = self.member_best[0], self.member_best_epoch[0]
        if self.patience is not None and all(s is not None for s in self.member_stopped):
            self.trainer.should_stop = True

    def configure_optimizers(self) -> Any:
        o = self.optim
        params = [p for p in self.model.parameters() if p.requires_grad]
        # fused kernels update all parameters in one call instead of ~10 ops per tensor; not with
        # gradient clipping, which mixed precision cannot do on a fused optimiser (it unscales inside)
        clipped = self._trainer is not None and self._trainer.gradient_clip_val is not None
        fused = {"fused": True} if params and not clipped and all(p.dtype.is_floating_point for p in params) else {}
        if o.name == "adam":
            opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay, **fused)
        elif o.name == "adamw":
            opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay, **fused)
        else:
            opt = torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
        if o.schedule == "none":
            return opt
        if o.schedule == "cosine":
            sched: Any = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(self.max_epochs, 1))
        elif o.schedule == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=o.step_size, gamma=o.gamma)
        else:
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=o.gamma, patience=2)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": self._monitor}}
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}

    @property
    def _monitor(self) -> str:
        return "val/loss" if self._val is not None else "train/loss"

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["aekit_history"] = self.history
        checkpoint["aekit_best"] = {"value": self.best_value, "epoch": self.best_epoch, "state": self.best_state}
        if self.member_seeds is not None:
            checkpoint["aekit_members"] = {"best": self.member_best, "best_epoch": self.member_best_epoch,
                                           "stopped": self.member_stopped, "wait": self._member_wait,
                                           "es_best": self._member_es_best}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.history = list(checkpoint.get("aekit_history", []))
        best = checkpoint.get("aekit_best")
        if best is not None:
            self.best_value, self.best_epoch, self.best_state = best["value"], best["epoch"], best["state"]
        members = checkpoint.get("aekit_members")
        if members is not None and self.member_seeds is not None:
            self.member_best, self.member_best_epoch = list(members["best"]), list(members["best_epoch"])
            self.member_stopped, self._member_wait = list(members["stopped"]), list(members["wait"])
            self._member_es_best = list(members["es_best"])


# Lightning looks up the step hooks' signatures on every step (does training_step take batch_idx?), through
# inspect, which returns a function's __signature__ when it has one: the same signature, worked out once
for _hook in (LitAutoencoder.training_step, LitAutoencoder.validation_step):
    _hook.__signature__ = inspect.signature(_hook)  # type: ignore[attr-defined]


_ACCELERATORS = ("cpu", "gpu", "cuda", "mps", "tpu", "auto")
_PRECISIONS = ("auto", "32-true", "32", "16-mixed", "16", "bf16-mixed", "bf16", "bf16-true", "16-true", "64-true", "64")


def check_accelerator(accelerator: str) -> None:
    """Refuse an accelerator this machine does not have, in one line (before Lightning does, in 60)."""
    import importlib.util

    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(f"trainer.accelerator is {accelerator!r} but no CUDA GPU is available here (use cpu or auto)")
    if accelerator == "tpu" and importlib.util.find_spec("torch_xla") is None:
        raise ConfigError("trainer.accelerator is 'tpu' but torch_xla is not installed here (use cpu, gpu or auto)")
    if accelerator == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError("trainer.accelerator is 'mps' but no Apple GPU is available here (use cpu or auto)")


def check_settings(tcfg: TrainerConfig, ocfg: OptimConfig, check_device: bool = True) -> None:
    """Refuse trainer/optimiser settings that would only fail (or silently diverge) later.

    Called before a run folder is created, so a typo never leaves a half-made run behind.
    ``check_device=False`` skips the "is that accelerator here" check: loading or
    evaluating a run trained on a GPU needs no GPU.
    """
    def positive(value: float, name: str, allow_zero: bool = False) -> None:
        ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
        if not ok:
            raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")

    if tcfg.max_epochs < 1:
        raise ConfigError("trainer.max_epochs must be >= 1")
    if tcfg.batch_size < 1:
        raise ConfigError("trainer.batch_size must be >= 1")
    if tcfg.patience is not None and tcfg.patience < 0:
        raise ConfigError(f"trainer.patience must be >= 0, got {tcfg.patience}")
    if tcfg.num_nodes < 1:
        raise ConfigError(f"trainer.num_nodes must be >= 1, got {tcfg.num_nodes}")
    if tcfg.accelerator not in _ACCELERATORS:
        raise ConfigError(f"trainer.accelerator must be one of {', '.join(_ACCELERATORS)}, got {tcfg.accelerator!r}")
    if str(tcfg.precision) not in _PRECISIONS:
        raise ConfigError(f"trainer.precision must be one of {', '.join(_PRECISIONS)}, got {tcfg.precision!r}")
    devices = tcfg.devices
    if isinstance(devices, str) and devices != "auto":
        try:
            devices = int(devices)
        except ValueError:
            raise ConfigError(f"trainer.devices must be a number or 'auto', got {tcfg.devices!r}") from None
    if isinstance(devices, int) and devices < 1:
        raise ConfigError(f"trainer.devices must be >= 1, got {devices}")
    if check_device:
        check_accelerator(tcfg.accelerator)
    if tcfg.gradient_clip is not None:
        positive(tcfg.gradient_clip, "trainer.gradient_clip")
    positive(ocfg.lr, "optim.lr")
    positive(ocfg.weight_decay, "optim.weight_decay", allow_zero=True)
    positive(ocfg.gamma, "optim.gamma")
    positive(ocfg.momentum, "optim.momentum", allow_zero=True)
    if ocfg.step_size < 1:
        raise ConfigError(f"optim.step_size must be >= 1, got {ocfg.step_size}")


def _progress_bar() -> L.Callback:
    """Rich progress bar showing the loss parts, without Lightning's logger version number."""
    from lightning.pytorch.callbacks import RichProgressBar

    class _Bar(RichProgressBar):
        def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
            metrics = super().get_metrics(trainer, pl_module)
            metrics.pop("v_num", None)
            return metrics

        def _get_train_description(self, current_epoch: int) -> str:
            # "Epoch 1/3" .. "Epoch 3/3": counted from 1 like the per-epoch lines, the summary and metrics.json
            text = f"Epoch {current_epoch + 1}"
            if self.trainer.max_epochs is not None and self.trainer.max_epochs > 0:
                text += f"/{self.trainer.max_epochs}"
            # as Lightning does: padded to the validation bar's label so the bar does not jump
            return f"{text:{len(self.validation_description)}}"

    return _Bar(leave=True)


def _precision(cfg: TrainerConfig) -> str:
    if cfg.precision != "auto":
        return cfg.precision
    wants_gpu = cfg.accelerator in ("gpu", "cuda") or (cfg.accelerator == "auto" and torch.cuda.is_available())
    if wants_gpu and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16-mixed"
    return "32-true"


def as_tensor(X: Any) -> Tensor:
    """numpy/tensor -> float32 CPU tensor (no copy when already float32)."""
    if isinstance(X, Tensor):
        return X.detach().to(torch.float32)
    return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))


def fit_model(
    model: Autoencoder,
    train_X: Any,
    val_X: Any = None,
    *,
    target: Any = None,
    val_target: Any = None,
    trainer: TrainerConfig | None = None,
    optim: OptimConfig | None = None,
    noise: Sequence[dict[str, Any]] | None = None,
    run_dir: str | Path | None = None,
    callbacks: Sequence[L.Callback] = (),
    resume: bool | str | Path = False,
) -> FitResult:
    """Train ``model`` on ``train_X`` (``(N, *input_shape)``), early-stopping on ``val_X``.

    The model learns to reproduce its input, or ``target`` (same rows as ``train_X``;
    ``val_target`` for ``val_X``) when one is given: clean speech for noisy speech, say.
    Training seeds torch's generators inside :func:`torch.random.fork_rng`, so the
    caller's random state is the same afterwards.

    With ``run_dir``, checkpoints (``best.ckpt``, ``last.ckpt``, written atomically) and
    CSV/TensorBoard logs go under it; ``resume=True`` continues from ``checkpoints/last.ckpt``
    if it loads, else from ``best.ckpt`` (``resume`` may also be a verified checkpoint path),
    and ``logs/metrics.csv`` keeps the earlier rows. ``noise``
    (see :mod:`aekit.data.noise`) corrupts training inputs only; the loss compares with
    the clean input. Returns the model with the best weights loaded, in eval mode.
    """
    tcfg = trainer or TrainerConfig()
    ocfg = optim or OptimConfig()
    check_settings(tcfg, ocfg)
    corruption = None
    if noise:
        from aekit.data.noise import build_corruption

        corruption = build_corruption(list(noise))
    Xtr = as_tensor(train_X)
    Xva = None if val_X is None or len(val_X) == 0 else as_tensor(val_X)
    if (target is None and val_target is not None) or (target is not None and Xva is not None and val_target is None):
        raise ConfigError("fit_model: give target and val_target together (one per input set)")
    Ttr = None if target is None else as_tensor(target)
    Tva = None if Xva is None or val_target is None else as_tensor(val_target)
    member_seeds = getattr(model, "member_seeds", None)  # a stacked ensemble: one row order per member
    train_b = TensorBatches(Xtr, tcfg.batch_size, shuffle=True, seed=tcfg.seed, target=Ttr, member_seeds=member_seeds,
                            member_share=float(getattr(model, "row_share", 1.0)))  # and, bagged, its own rows
    val_b = None if Xva is None else TensorBatches(Xva, max(tcfg.batch_size, 1024), target=Tva)
    # progress: a rich bar on a terminal, plain lines per epoch otherwise (logs, pipes, CI)
    bar = tcfg.progress and sys.stdout.isatty()
    # in a plain in-memory fit nothing reads Lightning's logged metrics (no logger, checkpoint, early
    # stopping callback, caller's callback, bar or plateau schedule): the module keeps them itself
    watched = bool(run_dir is not None or callbacks or bar or ocfg.schedule == "plateau"
                   or (tcfg.patience is not None and member_seeds is None) or _callback_factories())
    # ...and one process on one device: the module can run the validation pass itself (Lightning's loop
    # does nothing more there than call validation_step on each batch in eval mode)
    own_val = not watched and val_b is not None and _one_device(tcfg)
    lit = LitAutoencoder(model, train_b, val_b, ocfg, tcfg.max_epochs, corruption, tcfg.seed, tcfg.data_on_device,
                         epoch_lines=tcfg.progress and not bar, patience=tcfg.patience, min_delta=tcfg.min_delta,
                         manual_steps=ocfg.schedule == "none" and tcfg.gradient_clip is None, lightning_logs=watched,
                         own_validation=own_val)
    monitor = lit._monitor
    cbs: list[L.Callback] = [*callbacks]
    if tcfg.patience is not None and member_seeds is None:  # a stacked ensemble stops each member itself
        cbs.append(L.pytorch.callbacks.EarlyStopping(monitor, patience=tcfg.patience, min_delta=tcfg.min_delta, mode="min"))
    loggers: Any = False
    ckpt_path = None
    if run_dir is not None:
        from lightning.pytorch.callbacks import ModelCheckpoint
        from lightning.pytorch.loggers import TensorBoardLogger

        from aekit.training.checkpoints import AppendingCSVLogger, checkpoint_history, pick_resume_checkpoint

        run_dir = Path(run_dir)
        if tcfg.checkpoints != "none":
            # last.ckpt is what --resume needs; best.ckpt is a spare for a resume whose last.ckpt is unreadable
            # (the best weights themselves are kept in memory and end up in model.safetensors either way)
            cbs.append(ModelCheckpoint(
                dirpath=run_dir / "checkpoints", filename="best", monitor=monitor, mode="min",
                save_top_k=1 if tcfg.checkpoints == "best_and_last" else 0, save_last=True, enable_version_counter=False,
            ))
        completed, logged = None, None
        if isinstance(resume, (str, Path)):  # a checkpoint the caller has verified
            ckpt_path = str(resume)
            completed, logged = checkpoint_history(Path(resume))
        elif resume:  # only a checkpoint that loads is trusted; best.ckpt stands in for a broken last.ckpt
            chosen, note = pick_resume_checkpoint(run_dir)
            if note:
                from aekit.errors import AekitWarning

                warnings.warn(note, AekitWarning, stacklevel=2)
            ckpt_path = str(chosen)
            completed, logged = checkpoint_history(chosen)
        loggers = [AppendingCSVLogger(run_dir, name="logs", version="", completed_epochs=completed, history=logged),
                   TensorBoardLogger(run_dir, name="logs", version="tensorboard")]
    cbs.append(_StopOnSignal())
    if bar:
        cbs.append(_progress_bar())
    deterministic: Any = tcfg.deterministic if tcfg.accelerator == "cpu" else ("warn" if tcfg.deterministic else False)
    from aekit.runstate import deferred_signals
    from aekit.training.checkpoints import warnings_to_file

    warn_log = None if run_dir is None else run_dir / "logs" / "warnings.log"
    try:
        with quiet_lightning(), warnings_to_file(warn_log), _entry_points_looked_up_once():
            pl_trainer = _make_trainer(tcfg, deterministic, loggers, cbs, run_dir, train_b, None if own_val else val_b, bar)
    except (ValueError, TypeError, RuntimeError) as err:  # e.g. an unknown strategy name
        raise ConfigError(f"trainer settings rejected by Lightning: {str(err).splitlines()[0]}") from None
    start = time.perf_counter()
    model.train()
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    # a signal waits for the end of the current batch (_StopOnSignal), so no checkpoint is cut in half
    with deferred_signals(), quiet_lightning(), warnings_to_file(warn_log), torch.random.fork_rng(devices=cuda):
        torch.manual_seed(tcfg.seed)  # sampling inside the models (a VAE's z) is part of the seeded run
        try:
            pl_trainer.fit(lit, ckpt_path=ckpt_path)
        except SystemExit as err:  # Lightning's own SIGTERM handling exits with code 0: it is an interruption
            if type(err).__name__ != "SIGTERMException":
                raise
            from aekit.errors import RunInterrupted

            raise RunInterrupted(int(signal.SIGTERM)) from None
        except RuntimeError as err:
            if ckpt_path is None or "state_dict" not in str(err):
                raise
            from aekit.errors import ModelFileError

            detail = next((ln.strip() for ln in str(err).splitlines()[1:] if ln.strip()), str(err).splitlines()[0])
            raise ModelFileError(f"cannot resume: {ckpt_path} does not fit the model in config.yaml ({detail})") from None
    seconds = time.perf_counter() - start
    if lit.best_state is not None:
        model.load_state_dict(lit.best_state)
    model.eval()
    model.to("cpu")
    return FitResult(
        model=model,
        history=list(lit.history),
        best_epoch=lit.best_epoch,
        best_val_loss=lit.best_value,
        seconds=seconds,
        interrupted=bool(pl_trainer.interrupted),
        is_global_zero=pl_trainer.is_global_zero,
        trainer=pl_trainer,
        member_best_epochs=None if member_seeds is None else list(lit.member_best_epoch),
        member_stopped=None if member_seeds is None else list(lit.member_stopped),
    )


class _StopOnSignal(L.Callback):
    """Raise the pending SIGINT/SIGTERM (see :mod:`aekit.runstate`) between batches, never mid-write."""

    def on_train_batch_end(self, *args: Any) -> None:
        from aekit.runstate import raise_if_signalled

        raise_if_signalled()

    on_validation_batch_end = on_train_batch_end
    on_train_epoch_start = on_train_batch_end


@functools.cache
def _entry_points(**selection: Any) -> Any:
    """``importlib.metadata.entry_points(**selection)``, looked up once per selection."""
    from importlib.metadata import entry_points

    return entry_points(**selection)


@contextlib.contextmanager
def _entry_points_looked_up_once() -> Iterator[None]:
    """While aekit builds a Trainer: Lightning's lookup of its external callback factories (entry
    points of the group ``lightning.pytorch.callbacks_factory``) answered from :func:`_entry_points`.
    Lightning scans every installed distribution's metadata for them on each Trainer (about 3 ms,
    more than a small table's whole fit costs in some epochs); what is installed does not change
    while a process trains. Lightning still loads and calls each factory found, every time; outside
    this block its lookup is its own again."""
    from lightning.fabric.utilities import registry

    own = getattr(registry, "entry_points", None)
    if own is None:  # another Lightning: its lookup as it is
        yield
        return
    registry.entry_points = _entry_points
    try:
        yield
    finally:
        registry.entry_points = own


def _callback_factories() -> bool:
    """True when an installed package adds callbacks to every Lightning Trainer (entry points of
    ``lightning.pytorch.callbacks_factory``): such a callback may read the logged metrics and the
    validation hooks, so the fit is watched."""
    return len(list(_entry_points(group="lightning.pytorch.callbacks_factory"))) > 0


def _one_device(tcfg: TrainerConfig) -> bool:
    """True when these settings give Lightning's single-device strategy: one process, no data parallelism."""
    return tcfg.strategy == "auto" and tcfg.num_nodes == 1 and str(tcfg.devices) == "1"


def _make_trainer(tcfg: TrainerConfig, deterministic: Any, loggers: Any, cbs: list[L.Callback],
                  run_dir: Path | None, train_b: TensorBatches, val_b: TensorBatches | None, bar: bool) -> L.Trainer:
    from aekit.training.checkpoints import AtomicCheckpointIO

    return L.Trainer(
        plugins=[AtomicCheckpointIO()] if run_dir is not None else None,
        max_epochs=tcfg.max_epochs,
        accelerator=tcfg.accelerator,
        devices=tcfg.devices,
        num_nodes=tcfg.num_nodes,
        strategy=tcfg.strategy,
        precision=_precision(tcfg),  # type: ignore[arg-type]
        deterministic=deterministic,
        logger=loggers,
        callbacks=cbs,
        enable_checkpointing=run_dir is not None and tcfg.checkpoints != "none",
        enable_progress_bar=bar,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=max(len(train_b), 1),
        limit_val_batches=0 if val_b is None else None,
        gradient_clip_val=tcfg.gradient_clip,
        use_distributed_sampler=False,
        default_root_dir=str(run_dir) if run_dir else None,
    )


def is_launched_worker() -> bool:
    """True inside a process Lightning's DDP launcher started (not the original command)."""
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("NODE_RANK", "0")) > 0


__all__ = ["FitResult", "LitAutoencoder", "OptimConfig", "TrainerConfig", "as_tensor", "fit_model", "quiet_lightning"]
