"""The MLP family's trimmed loss (``trim``): each batch's rows with the largest reconstruction error
are left out of the loss, alike in one model and in a batched ensemble (MemberStack); bad shares are
refused; a detector with trimmed members saves and loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import aekit
from aekit.apps.detect import AutoencoderDetector
from aekit.errors import ConfigError
from aekit.models.base import reconstruction_loss
from aekit.registry import build_model
from conftest import table_rows

FAST = dict(max_epochs=2, batch_size=32)


def _batch() -> torch.Tensor:
    """8 rows, the last two far off the others (the ones a trim of 0.25 leaves out)."""
    x = torch.from_numpy(table_rows(8, 2)).float()
    x[6:] += 40.0
    return x


@pytest.mark.parametrize("family", ["mlp", "sparse_l1", "sparse_kl", "contractive", "ksparse", "stacked"])
def test_trimmed_loss_leaves_out_the_worst_rows(family: str) -> None:
    """With trim=0.25 on 8 rows, the loss is the plain loss of the 6 rows with the smallest errors,
    and the 2 left-out rows get no gradient."""
    params = {"input_shape": [6], "hidden": [8], "latent_dim": 3, "output_activation": "identity", "trim": 0.25}
    if family == "ksparse":
        params["k"] = 2
    model = build_model(family, params, seed=0)
    x = _batch().requires_grad_(True)
    out = model.loss(x)
    errors = (out.output.x_hat - x).pow(2).mean(1).detach()
    assert set(errors.topk(2).indices.tolist()) == {6, 7}  # the far rows are the worst
    kept = reconstruction_loss(model(x[:6]), x[:6], "mse")
    torch.testing.assert_close(out.parts["recon"], kept)
    out.parts["recon"].backward()
    assert (x.grad[6:] == 0).all() and (x.grad[:6] != 0).any()


def test_trim_zero_is_the_plain_loss_and_a_trim_changes_it() -> None:
    x = _batch()
    net = {"input_shape": [6], "hidden": [8], "latent_dim": 3, "output_activation": "identity"}
    plain = build_model("mlp", net, seed=1)
    zero = build_model("mlp", {**net, "trim": 0.0}, seed=1)
    small = build_model("mlp", {**net, "trim": 0.1}, seed=1)  # 0.1 of 8 rows is less than one row: nothing left out
    trimmed = build_model("mlp", {**net, "trim": 0.2}, seed=1)  # one row left out
    assert plain.config.trim == 0.0
    base = plain.loss(x).total
    assert torch.equal(zero.loss(x).total, base)
    torch.testing.assert_close(small.loss(x).total, base)
    assert float(trimmed.loss(x).total.detach()) < float(base.detach())


def test_member_stack_trims_each_member_as_one_model_does() -> None:
    """Each member of a batched ensemble leaves out its own worst rows: its loss and gradients are
    those of the member alone (the detector's columns mask included)."""
    from aekit.models.ensemble import MemberStack

    params = {"input_shape": [6], "hidden": [8], "latent_dim": 3, "output_activation": "identity", "trim": 0.3}
    members = [build_model("mlp", params, seed=s) for s in (0, 1)]
    alone = [build_model("mlp", params, seed=s) for s in (0, 1)]
    x = torch.from_numpy(table_rows(20, 3)).float()
    x[[2, 11]] -= 25.0
    order = torch.stack([x, x.flip(0)])  # (M, B, 6): member 1 sees the rows in another order
    mask = torch.tensor([[1, 1, 0, 1, 0, 1], [0, 1, 1, 1, 1, 0]], dtype=torch.float32)
    stack = MemberStack(members, [0, 1], {0: mask})
    assert stack.weight0.shape == (2, 4, 8)  # as many columns each: the first layer keeps only theirs
    out = stack.loss(order)
    out.total.backward()
    for m, model in enumerate(alone):
        with torch.no_grad():
            model.encoder[0].weight.mul_(mask[m])  # the member sees only its columns
        own = model.loss(order[m])
        torch.testing.assert_close(out.parts["member"][m], own.total.detach())
        own.total.backward()
        seen = mask[m] == 1
        torch.testing.assert_close(stack.weight0.grad[m], model.encoder[0].weight.grad[:, seen].t())
        torch.testing.assert_close(stack.bias3.grad[m], model.decoder[-1].bias.grad)


@pytest.mark.parametrize("bad", [0.5, 0.9, -0.1, float("nan")])
def test_bad_trim_is_refused(bad: float) -> None:
    from aekit.models.mlp import MLPConfig

    with pytest.raises(ConfigError, match="trim"):
        build_model("mlp", {"input_shape": [6], "latent_dim": 3, "trim": bad})
    with pytest.raises(ConfigError, match="trim"):
        MLPConfig(trim=bad)
    with pytest.raises(ConfigError, match="trim"):
        AutoencoderDetector(model_params={"trim": bad}, **FAST).fit(table_rows(40, 0))


def test_detector_with_trimmed_members_round_trips(tmp_path: Path) -> None:
    rows = table_rows(120, 4)
    rows[:5] += 8.0
    det = AutoencoderDetector(n_estimators=2, model_params={"trim": 0.1}, random_state=2, **FAST).fit(rows)
    assert all(m.config.trim == 0.1 for m in det.estimators_)
    plain = AutoencoderDetector(n_estimators=2, random_state=2, **FAST).fit(rows)
    assert not np.allclose(det.anomaly_score(rows), plain.anomaly_score(rows))  # the trim changed the training
    det.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    assert all(m.config.trim == 0.1 for m in back.estimators_)
    np.testing.assert_array_equal(back.anomaly_score(rows), det.anomaly_score(rows))
