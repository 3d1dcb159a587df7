"""Several fully connected autoencoders trained as one batched network.

An ensemble of small autoencoders trained one after another pays the per-step cost
(Python, Lightning, optimiser) once per member; the arithmetic of a 64-wide MLP is a
small part of it. :class:`MemberStack` holds ``M`` members' weights stacked along a
leading member axis and runs all of them in one step with batched matrix products
(``torch.baddbmm``), so an ensemble costs about one network's steps.

Each member keeps what it had alone: its own initial weights (the stack is built from
models built with their own seeds and written back into them by :meth:`MemberStack.unstack`),
its own shuffling of the rows (``member_seeds``, read by the engine), its own loss and
gradients (the total is the *sum* of the members' losses, so member ``m``'s gradient is
exactly that of its own loss; Adam and weight decay act per parameter), and, in the engine,
its own best epoch and early stopping (parts ``"member<m>"``).

The engine's contract for such a model (:func:`aekit.training.fit_model`): ``n_members``
and ``member_seeds`` attributes, a training batch of shape ``(M, B, *input_shape)`` (member
``m`` sees row order ``m``), validation batches ``(B, *input_shape)`` shared by every member,
a loss part ``"member"`` of shape ``(M,)`` (reported as ``"member<m>"``) and every state tensor
stacked along dimension 0.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from aekit.models.base import AEOutput, LossOutput, element_loss, trimmed_mean
from aekit.models.layers import TiedLinear
from aekit.models.mlp import MLPAutoencoder

RECON_KINDS = ("mse", "l1", "bce")


def plain_mlps(models: Sequence[Any]) -> bool:
    """True when ``models`` are plain MLP autoencoders of one architecture (what :class:`MemberStack` runs)."""
    if not models or any(type(m) is not MLPAutoencoder for m in models):
        return False
    first = models[0]
    return getattr(first.config, "loss", None) in RECON_KINDS and all(m.config == first.config for m in models)


def can_stack(models: Sequence[Any]) -> bool:
    """True when ``models`` are two or more plain MLP autoencoders of one architecture: worth one batched network."""
    return len(models) >= 2 and plain_mlps(models)


def _layers(model: MLPAutoencoder) -> list[nn.Module]:
    """The MLP's layers in order: encoder then decoder (Linear / TiedLinear / activation modules)."""
    return [*model.encoder, *model.decoder]


class MemberStack(nn.Module):
    """``M`` MLP autoencoders of one architecture as one batched network.

    Parameters are ``weight<i>`` ``(M, in, out)`` (each member's ``nn.Linear`` weight transposed, so
    the forward pass is ``baddbmm(bias, h, weight)`` and the weight's gradient comes out contiguous:
    the transposed layout cost a gradient copy per step) and ``bias<i>`` ``(M, out)`` for the
    ``i``-th linear layer (a tied layer at position ``p`` has only its bias ``tbias<p>`` and uses
    the transposed stacked weight of its source). Inputs are ``(M, B, *input_shape)``, or ``(B, *input_shape)``
    shared by every member; outputs keep the member axis.

    ``row_share`` (optional, < 1: row bagging): the engine trains each member on its own fixed
    subset of that share of the training rows (:class:`aekit.data.batches.TensorBatches`'s
    ``member_share``), so no member sees every row.

    ``masks`` (optional): ``{i: (M, in_i) 0/1}`` for some linear layers ``i``: member ``m``'s layer
    ``i`` sees only its inputs where ``masks[i][m]`` is 1, and :meth:`unstack` writes the weights of
    the other inputs as zeros: the member is then a plain MLP that ignores those inputs, with no
    mask to carry. Layer 0's mask is a member's subset of the input columns (feature bagging); a
    mask on the first decoder layer narrows a member's code. When every member sees the same
    number ``k`` of a layer's inputs (what the detector's masks give), the layer keeps only the
    seen inputs' weights, ``weight<i>`` ``(M, k, out)``, and each pass gathers each member's ``k``
    inputs (``cols<i>`` ``(M, k)``, in ascending order) before the product: half the columns, half
    the first layer's arithmetic. Otherwise the full weight is multiplied by the mask in every pass
    (the masked weights then get no gradient). Either way member ``m`` computes what it computes
    alone, up to float rounding (the unseen inputs' terms are exact zeros).
    """

    def __init__(self, members: Sequence[MLPAutoencoder], seeds: Sequence[int],
                 masks: dict[int, Tensor] | None = None, row_share: float = 1.0) -> None:
        super().__init__()
        if not plain_mlps(members) or (len(members) < 2 and not masks and row_share >= 1.0):
            raise ValueError("MemberStack needs two or more plain MLP autoencoders of one architecture "
                             "(one, with masks or a row share)")
        if not 0.0 < row_share <= 1.0:
            raise ValueError(f"row_share must be in (0, 1], got {row_share}")
        self.row_share = float(row_share)  # read by the engine: each member trains on its own share of the rows
        if len(seeds) != len(members):
            raise ValueError(f"{len(seeds)} seeds for {len(members)} members")
        if masks and members[0].config.tied:
            raise ValueError("masks need untied weights (a tied decoder reuses the masked weights)")
        self.members = list(members)  # a plain list: the members' own parameters are not this module's
        self.member_seeds = [int(s) for s in seeds]
        self.config = members[0].config
        # the plan: ("linear", i) / ("tied", i, source i) / ("act", module), over the encoder and decoder
        self._plan: list[tuple[Any, ...]] = []
        self._n_encoder = len(members[0].encoder)
        linear_index: dict[int, int] = {}  # id(nn.Linear of member 0) -> stacked index
        self._inputs: dict[int, int] = {}  # stacked index -> the layer's number of inputs
        per_member = [_layers(m) for m in members]
        for pos, layer in enumerate(per_member[0]):
            if isinstance(layer, nn.Linear):
                i = len(linear_index)
                linear_index[id(layer)] = i
                self.register_parameter(f"weight{i}", nn.Parameter(torch.stack([ls[pos].weight.detach().t() for ls in per_member])))
                self._inputs[i] = int(layer.in_features)
                self.register_parameter(f"bias{i}", nn.Parameter(torch.stack([ls[pos].bias.detach() for ls in per_member])))
                self._plan.append(("linear", i))
            elif isinstance(layer, TiedLinear):
                self.register_parameter(f"tbias{pos}", nn.Parameter(torch.stack([ls[pos].bias.detach() for ls in per_member])))
                self._plan.append(("tied", pos, linear_index[id(layer._source)]))
            else:
                self._plan.append(("act", layer))  # activations hold no parameters: one module serves all members
        self._masked: set[int] = set()  # layers whose full weight is multiplied by mask<i>
        self._gathered: set[int] = set()  # layers that keep only the seen inputs' weights (cols<i>)
        for i, mask in (masks or {}).items():
            w = getattr(self, f"weight{i}", None)
            if w is None or tuple(mask.shape) != tuple(w.shape[:2]):
                raise ValueError(f"mask for layer {i} must be (members, inputs) = {None if w is None else tuple(w.shape[:2])}")
            seen = mask.detach() != 0
            counts = seen.sum(1)
            if bool((counts == counts[0]).all()) and int(counts[0]) > 0:
                cols = torch.stack([row.nonzero().flatten() for row in seen])  # (M, k), ascending
                self.register_buffer(f"cols{i}", cols)
                self._gathered.add(int(i))
                kept = torch.gather(w.detach(), 1, cols.unsqueeze(2).expand(-1, -1, w.shape[2]))
                setattr(self, f"weight{i}", nn.Parameter(kept.contiguous()))  # (M, k, out)
            else:
                self.register_buffer(f"mask{i}", mask.detach().to(w.dtype).unsqueeze(2))  # (M, in, 1)
                self._masked.add(int(i))

    def _weight(self, i: int) -> Tensor:
        """Stacked weight ``i`` ``(M, in, out)`` as the members use it: times its mask when it has one;
        a gathered layer's seen inputs' rows placed among zeros."""
        w = getattr(self, f"weight{i}")
        if i in self._gathered:
            cols = getattr(self, f"cols{i}")
            full = w.new_zeros(w.shape[0], self._inputs[i], w.shape[2])
            return full.scatter(1, cols.unsqueeze(2).expand(-1, -1, w.shape[2]), w)
        return w * getattr(self, f"mask{i}") if i in self._masked else w

    def _gather(self, i: int, h: Tensor) -> Tensor:
        """``h`` ``(M, B, in)`` -> ``(M, B, k)``: each member's seen inputs of gathered layer ``i``."""
        cols = getattr(self, f"cols{i}")
        return torch.gather(h, 2, cols.unsqueeze(1).expand(-1, h.shape[1], -1))

    @property
    def n_members(self) -> int:
        return len(self.members)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.config.input_shape)

    def _stacked(self, x: Tensor) -> Tensor:
        """``(B, *shape)`` (shared) or ``(M, B, *shape)`` -> ``(M, B, features)``."""
        if x.dim() == len(self.input_shape) + 1:
            x = x.unsqueeze(0).expand(self.n_members, *x.shape)
        return x.flatten(2)

    def forward(self, x: Tensor) -> AEOutput:
        """``x`` ``(M, B, *shape)`` or ``(B, *shape)`` -> reconstructions ``(M, B, *shape)`` (logits in
        ``extras`` for a sigmoid output), codes ``(M, B, latent)``."""
        h = self._stacked(x)
        z = h
        for pos, step in enumerate(self._plan):
            if step[0] == "linear":
                i = step[1]
                if i in self._gathered:
                    h, w = self._gather(i, h), getattr(self, f"weight{i}")
                else:
                    w = self._weight(i)
                h = torch.baddbmm(getattr(self, f"bias{i}").unsqueeze(1), h, w)
            elif step[0] == "tied":  # the source layer's weight transposed: h @ W_source
                w, b = getattr(self, f"weight{step[2]}"), getattr(self, f"tbias{step[1]}")
                h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            else:
                h = step[1](h)
            if pos == self._n_encoder - 1:
                z = h
        logits = h.view(h.shape[0], h.shape[1], *self.input_shape)
        if getattr(self.config, "output_activation", "identity") == "sigmoid":
            return AEOutput(x_hat=torch.sigmoid(logits), z=z, extras={"logits": logits})
        return AEOutput(x_hat=logits, z=z)

    def member_losses(self, out: AEOutput, target: Tensor) -> Tensor:
        """Each member's mean per-element reconstruction loss, ``(M,)`` (as
        :func:`aekit.models.base.reconstruction_loss` computes it for one model, the config's
        ``trim`` included: each member leaves out its own worst rows of the batch)."""
        err = element_loss(out, target, self.config.loss)  # (M, B, *shape); BCE from the logits
        trim = float(getattr(self.config, "trim", 0.0))
        if trim > 0:
            return trimmed_mean(err.reshape(err.shape[0], err.shape[1], -1).mean(2), trim)  # (M, B) -> (M,)
        return err.reshape(err.shape[0], -1).mean(1)

    def loss(self, x: Tensor, target: Tensor | None = None) -> LossOutput:
        """Sum of the members' losses (so each member's gradient is its own loss's); parts (detached:
        only logged): ``"recon"``, the members' mean, and ``"member"``, the ``(M,)`` vector of their
        losses, which the engine reports as ``"member<m>"`` (one part, not ``M``: a step of a small
        network costs little more than the few dozen tensor operations ``M`` scalar parts took)."""
        out = self(x)
        t = x if target is None else target
        t = t.unsqueeze(0).expand(self.n_members, *t.shape) if t.dim() == len(self.input_shape) + 1 else t
        per = self.member_losses(out, t)
        logged = per.detach()
        return LossOutput(total=per.sum(), parts={"recon": logged.mean(), "member": logged}, output=out)

    def unstack(self) -> list[MLPAutoencoder]:
        """Write the stacked weights back into the member models (in eval mode, on the CPU) and return them."""
        per_member = [_layers(m) for m in self.members]
        with torch.no_grad():
            for pos, step in enumerate(self._plan):
                if step[0] == "act":
                    continue
                # the layer's stacked tensors once (a gathered layer's full weight is built, not read)
                weight = self._weight(step[1]) if step[0] == "linear" else None
                bias = getattr(self, f"bias{step[1]}" if step[0] == "linear" else f"tbias{step[1]}")
                for m, layers in enumerate(per_member):
                    if weight is not None:
                        layers[pos].weight.copy_(weight[m].t())
                    layers[pos].bias.copy_(bias[m])
        # the members' own tensors stay where they were built (the stack holds copies): on the CPU but
        # for a model built elsewhere, so .to("cpu") (a walk over every tensor) only where one is not
        return [m.eval() if _on_cpu(m) else m.eval().to("cpu") for m in self.members]


def _on_cpu(model: nn.Module) -> bool:
    """True when every parameter and buffer of ``model`` is on the CPU."""
    return all(t.device.type == "cpu" for t in (*model.parameters(), *model.buffers()))


def member_history(history: list[dict[str, float]], m: int, stopped_at: int | None = None) -> list[dict[str, float]]:
    """Member ``m``'s own per-epoch rows from a :class:`MemberStack` run's history (``"train/loss"``,
    ``"train/recon"``, ``"val/loss"``, ``"val/recon"`` are its loss; ``lr`` and ``epoch`` as they were),
    up to the epoch at which its early stopping ended it (``stopped_at``, 1-based)."""
    rows = []
    for row in history:
        if stopped_at is not None and row["epoch"] > stopped_at:
            break
        own = {"epoch": row["epoch"]}
        for split in ("train", "val"):
            value = row.get(f"{split}/member{m}")
            if value is not None and not math.isnan(value):
                own[f"{split}/loss"] = own[f"{split}/recon"] = value
        if "lr" in row:
            own["lr"] = row["lr"]
        rows.append(own)
    return rows


__all__ = ["MemberStack", "can_stack", "member_history", "plain_mlps"]
