"""Export a trained run as one ONNX graph holding its whole scoring path.

The graph takes raw rows ``input`` of shape ``(batch, n_features)`` float32 (an image or
window flattened in C order) and computes, in order: the fitted scaling of the run, the
model's reconstruction and code, the element-wise reconstruction error, (for a detector)
its standardisation and reduction to one score, and the threshold. Named outputs:

- ``score`` ``(batch,)`` float64: the anomaly score (higher = worse); for a plain run the
  mean reconstruction error in scaled units, as :meth:`aekit.runs.TrainedAutoencoder.score`;
- ``is_anomaly`` ``(batch,)`` bool: ``score > threshold`` (detector runs only);
- ``code`` ``(batch, *latent)`` float32: the deterministic code (a VAE's posterior mean);
- ``reconstruction`` ``(batch, n_features)`` float32, in the input's original units;
- ``error_map`` ``(batch, n_features)`` float32: element-wise error in scaled units (as
  :meth:`aekit.apps.detect.AutoencoderDetector.error_map`, flattened).

An ensemble detector (``n_estimators > 1``) exports every member into the one graph: the
``score`` is the mean of the members' standardised scores (as the detector computes it),
``reconstruction`` and ``error_map`` are the members' means and ``code`` is the first member's.

A :class:`~aekit.apps.detect.SeriesDetector` exports as kind ``"series"``: the input is
one series ``(time, channels)`` (the time axis is dynamic) and the outputs are the point
``score`` ``(time,)`` and ``is_anomaly`` ``(time,)``, windowed and aggregated inside the graph.

``metadata_props`` of the file say what it is (``aekit.format``), and hold the kind,
family, threshold, feature names, input schema and aekit version, so that
:mod:`aekit.runtime` scores it with onnxruntime alone, without torch. This module sits
above runs and applications: it reads their saved format and never changes it.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from aekit.errors import ConfigError, ModelFileError

EXPORT_FORMAT = "aekit-onnx/1"
OPSET = 17
INPUT_NAME = "input"
DETECTOR_OUTPUTS = ("score", "is_anomaly", "code", "reconstruction", "error_map")
PLAIN_OUTPUTS = ("score", "code", "reconstruction", "error_map")
SERIES_OUTPUTS = ("score", "is_anomaly")  # per time step; windows' codes are not rows of the input


@dataclass
class ScoringSpec:
    """Everything the graph needs besides the model, read from the loaded run (:func:`_load_source`).

    ``kind``: ``"detector"`` (threshold, reduction) or ``"autoencoder"`` (plain run: mean error).
    ``shift``/``scale``: the fitted :class:`aekit.data.Scaler` (``None`` = no scaling), either
    one value or one per input element. ``err_shift``/``err_scale``: per-element error
    standardisation of a detector (``None`` = raw errors).
    """

    kind: str
    family: str
    input_shape: tuple[int, ...]
    shift: np.ndarray | None = None
    scale: np.ndarray | None = None
    reduction: str = "mean"
    err_shift: np.ndarray | None = None
    err_scale: np.ndarray | None = None
    threshold: dict[str, Any] | None = None
    feature_names: list[str] | None = None
    score_type: str = "recon"  # or a VAE detector's "elbo" / "iwae" (fixed draws, see _variational)
    n_samples: int = 16
    seed: int = 0
    series: dict[str, Any] | None = None  # a SeriesDetector: window, stride, aggregation, mean, std (per channel)
    # an ensemble detector's members after the first: (model, err_shift, err_scale) each, and every
    # member's location and spread of its training scores (the score is the mean of their z-scores)
    members: list[tuple[Any, np.ndarray | None, np.ndarray | None]] | None = None
    member_loc: np.ndarray | None = None
    member_spread: np.ndarray | None = None
    # a detector's code distance (code_distance="knn"): per member (shift, scale, reference codes),
    # the members' distance scales, and the scales combining the reconstruction and code parts
    codes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
    code_k: int = 5  # neighbours averaged
    code_loc: np.ndarray | None = None
    code_spread: np.ndarray | None = None
    parts_loc: np.ndarray | None = None
    parts_spread: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        """Values per input row: the example size, or a series' channel count."""
        return len(self.series["mean"]) if self.series is not None else math.prod(self.input_shape)


def _scoring_module(model: Any, spec: ScoringSpec) -> Any:
    """A ``torch.nn.Module`` mapping raw rows ``(B, F)`` to the named outputs (see module doc)."""
    import torch
    from torch import nn

    from aekit.models.base import per_sample_error

    def flat(a: np.ndarray | None) -> Any:
        if a is None:
            return None
        t = torch.as_tensor(np.asarray(a, dtype=np.float64))
        return t.reshape(-1) if t.numel() > 1 else t.reshape(())

    class ScoringGraph(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.shape = tuple(spec.input_shape)
            self.kind = getattr(model.config, "loss", "mse")
            self.shift = None if spec.shift is None else flat(spec.shift).float()
            self.scale = None if spec.scale is None else flat(spec.scale).float()
            self.err_shift = flat(spec.err_shift)  # float64, as the detector's numpy arithmetic
            self.err_scale = flat(spec.err_scale)
            # an ensemble: every member's model and error statistics, combined as the detector does
            others = spec.members or []
            self.others = nn.ModuleList([m.eval() for m, _, _ in others])
            self.member_err = [(self.err_shift, self.err_scale)] + [(flat(a), flat(b)) for _, a, b in others]
            self.loc = None if spec.member_loc is None else [float(v) for v in spec.member_loc]
            self.spread = None if spec.member_spread is None else [float(v) for v in spec.member_spread]
            self.threshold = None if spec.threshold is None else float(spec.threshold["value"])
            # reference codes as buffers (float64, as the detector's arithmetic)
            self.codes = None if spec.codes is None else [tuple(flat(a).reshape(np.shape(a)) for a in c) for c in spec.codes]
            self.eps = None
            if spec.score_type != "recon":  # the detector's own draws, so exported scores equal its scores
                k = 1 if spec.score_type == "elbo" else int(spec.n_samples)
                latent = int(model.latent_dim)
                self.eps = torch.randn((k, latent), generator=torch.Generator().manual_seed(int(spec.seed)))

        def member(self, model: Any, xs: torch.Tensor, err_shift: Any, err_scale: Any) -> tuple[torch.Tensor, ...]:
            """One autoencoder's (score (B,) float64, reconstruction (B, F) scaled, element errors (B, F))."""
            recon_s = model.reconstruct(xs)  # (B, *shape), scaled units
            err = per_sample_error(recon_s, xs, self.kind).flatten(1)  # (B, F)
            if spec.score_type != "recon":
                score = _variational(model, xs, self.eps, spec.score_type == "elbo")
            elif spec.kind == "autoencoder" or (err_shift is None and spec.reduction == "mean"):
                score = err.mean(1).double()  # float32 mean, as Autoencoder.score
            else:
                e = err.double()
                if err_shift is not None:
                    e = (e - err_shift) / err_scale
                score = e.max(1).values if spec.reduction == "max" else e.sum(1) if spec.reduction == "sum" else e.mean(1)
            return score, recon_s.flatten(1), err

        def with_code_distance(self, recon_score: torch.Tensor, models: list[Any], xs: torch.Tensor) -> torch.Tensor:
            """The detector's score with its code part (AutoencoderDetector._scores_scaled)."""
            from aekit.apps.detect import knn_mean_distance

            k = int(spec.code_k)
            z = []
            for i, m in enumerate(models):
                shift, scale, ref = self.codes[i]
                d = knn_mean_distance((m.encode(xs).flatten(1).double() - shift) / scale, ref, k)
                z.append((d - float(spec.code_loc[i])) / float(spec.code_spread[i]))
            code = torch.stack(z).mean(0)
            a = (recon_score - float(spec.parts_loc[0])) / float(spec.parts_spread[0])
            b = (code - float(spec.parts_loc[1])) / float(spec.parts_spread[1])
            return (a + b) / 2.0

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
            xs = x if self.shift is None else (x - self.shift) / self.scale  # (B, F), float32
            xs = xs.reshape(-1, *self.shape)
            code = self.model.encode(xs)  # an ensemble's code is its first member's
            models = [self.model, *self.others]
            parts = [self.member(m, xs, *self.member_err[i]) for i, m in enumerate(models)]
            score, recon, err = parts[0]
            if len(parts) > 1:  # the detector's combination: mean of the members' robust z-scores
                score = torch.stack([(p[0] - self.loc[i]) / self.spread[i] for i, p in enumerate(parts)]).mean(0)
                recon = torch.stack([p[1] for p in parts]).mean(0)
                err = torch.stack([p[2] for p in parts]).mean(0)
            if self.codes is not None:
                score = self.with_code_distance(score, models, xs)
            if self.shift is not None:
                recon = recon * self.scale + self.shift
            if self.threshold is None:
                return score, code, recon, err
            return score, score > self.threshold, code, recon, err

    return ScoringGraph().eval()


def _series_module(model: Any, spec: ScoringSpec) -> Any:
    """A ``torch.nn.Module`` mapping a series ``(T, C)`` to point scores ``(T,)`` and flags.

    Mirrors :class:`aekit.apps.detect.SeriesDetector`: per-channel standardisation, windows
    of ``window`` steps every ``stride`` (plus one ending at ``T``, as
    :func:`aekit.data.series.window_starts`), the inner model's element errors averaged over
    channels, then the mean or max over the windows covering each point. ``T`` is dynamic.
    """
    import torch
    from torch import nn

    from aekit.models.base import per_sample_error

    cfg = spec.series or {}
    length, stride, how = int(cfg["window"]), int(cfg["stride"]), str(cfg["aggregation"])

    class SeriesGraph(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.kind = getattr(model.config, "loss", "mse")
            self.mean = torch.as_tensor(np.asarray(cfg["mean"], dtype=np.float32))
            self.std = torch.as_tensor(np.asarray(cfg["std"], dtype=np.float32))
            self.threshold = float(spec.threshold["value"]) if spec.threshold else math.inf

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            n_steps = x.shape[0]
            xs = (x - self.mean) / self.std  # (T, C)
            last = n_steps - length
            # regular starts, then one ending at T; it counts (weight 1) only when the stride skips it
            starts = torch.cat([torch.arange(0, last + 1, stride), torch.as_tensor(last).reshape(1)])
            weight = torch.ones_like(starts, dtype=torch.float64)
            weight[-1] = (torch.as_tensor(last) % stride != 0).double()
            idx = starts[:, None] + torch.arange(length)[None, :]  # (N, L) time step of each window entry
            windows = xs[idx].permute(0, 2, 1)  # (N, C, L)
            err = per_sample_error(self.model.reconstruct(windows), windows, self.kind).double().mean(1)  # (N, L)
            flat_idx = idx.reshape(-1)
            if how == "mean":
                total = torch.zeros(n_steps, dtype=torch.float64).scatter_add(0, flat_idx, (err * weight[:, None]).reshape(-1))
                count = torch.zeros(n_steps, dtype=torch.float64).scatter_add(
                    0, flat_idx, weight[:, None].expand_as(err).reshape(-1))
                score = total / count
            else:
                src = torch.where(weight[:, None] > 0, err, torch.full_like(err, -math.inf)).reshape(-1)
                score = torch.full((n_steps,), -math.inf, dtype=torch.float64).scatter_reduce(0, flat_idx, src, reduce="amax")
            return score, score > self.threshold

    return SeriesGraph().eval()


def _variational(model: Any, x: Any, eps: Any, elbo: bool) -> Any:
    """Negative ELBO (one draw) or negative IWAE bound (``len(eps)`` draws) per row, float64.

    Mirrors :func:`aekit.apps.detect._variational_score` for aekit's VAE families, step for
    step, with its fixed standard-normal draws ``eps`` ``(k, latent)`` baked into the graph.
    """
    import torch

    q = model.posterior(x)
    mu, logvar = q.mean, q.logvar
    std = (0.5 * logvar).exp()
    log_w = []
    for e in eps:  # k decoder passes (unrolled in the graph; k is fixed at export)
        z = mu + std * e
        loglik = model.log_likelihood(x, model.decode_logits(z))
        if elbo:
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
            log_w.append(loglik - kl)
            continue
        log_q = (-0.5 * e.pow(2) - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(1)
        log_p = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(1)
        log_w.append(loglik + log_p - log_q)
    bound = torch.logsumexp(torch.stack(log_w), 0) - math.log(len(eps))
    return (-bound).double()


def _scaling(spec: ScoringSpec, scaler: Any, where: str) -> None:
    """Put a fitted :class:`aekit.data.Scaler` into ``spec`` (nothing for ``none`` or no scaler)."""
    if scaler is None or scaler.kind == "none":
        return
    if scaler.shift_ is None:
        raise ModelFileError(f"{where}: the saved scaler is not fitted")
    spec.shift, spec.scale = scaler.shift_, scaler.scale_
    if spec.shift.size not in (1, spec.n_features):
        raise ModelFileError(f"{where}: scaler holds {spec.shift.size} values for {spec.n_features} input elements")


def _plain_spec(model: Any, scaler: Any, names: Any, where: str) -> ScoringSpec:
    """A model with its input scaling, scored by mean reconstruction error (no threshold)."""
    spec = ScoringSpec(kind="autoencoder", family=str(model.family), input_shape=tuple(int(s) for s in model.input_shape))
    _scaling(spec, scaler, where)
    spec.feature_names = None if not names else [str(n) for n in names]
    return spec


def _detector_spec(det: Any, where: str, names: Any = None) -> ScoringSpec:
    """A fitted :class:`~aekit.apps.detect.AutoencoderDetector`: scaling, score, reduction, threshold.
    Feature names: the detector's own (fitted on a data frame), else ``names``."""
    model = det.model_
    names = list(det.feature_names_in_) if hasattr(det, "feature_names_in_") else names
    spec = _plain_spec(model, det.scaler_, names, where)
    spec.score_type = str(det.score_type)
    if spec.score_type != "recon" and not (hasattr(model, "posterior") and hasattr(model, "log_likelihood")):
        raise ConfigError(f"{where}: family {spec.family!r} with score_type={spec.score_type!r} cannot be exported: "
                          "only aekit's VAE families (posterior + log_likelihood) export variational scores")
    spec.n_samples, spec.seed = int(det.n_samples), int(det.random_state)
    spec.kind, spec.reduction = "detector", str(det.reduction)
    spec.err_shift = None if det.err_shift_ is None else np.asarray(det.err_shift_, dtype=np.float64)
    spec.err_scale = None if det.err_scale_ is None else np.asarray(det.err_scale_, dtype=np.float64)
    spec.threshold = det.threshold_.to_dict()
    estimators = getattr(det, "estimators_", [model])
    if len(estimators) > 1:
        errors = det.member_errors_
        spec.members = [(m, None if e is None else np.asarray(e[0], np.float64), None if e is None else np.asarray(e[1], np.float64))
                        for m, e in zip(estimators[1:], errors[1:])]
        spec.member_loc, spec.member_spread = np.asarray(det.member_loc_), np.asarray(det.member_spread_)
    if getattr(det, "code_ref_", None) is not None:
        spec.codes = [tuple(np.asarray(a, np.float64) for a in c) for c in det.code_ref_]
        spec.code_k = int(det.code_k_)
        spec.code_loc, spec.code_spread = np.asarray(det.code_loc_), np.asarray(det.code_spread_)
        spec.parts_loc, spec.parts_spread = np.asarray(det.parts_loc_), np.asarray(det.parts_spread_)
    return spec


def _series_spec(det: Any, where: str) -> ScoringSpec:
    """A fitted :class:`~aekit.apps.detect.SeriesDetector`: one whole series in, point scores out."""
    inner = det.detector_
    if inner.score_type != "recon" or inner.err_shift_ is not None:
        raise ConfigError(f"{where}: a series detector ({inner.family_}) exports with raw reconstruction errors only")
    spec = ScoringSpec(kind="series", family=str(inner.family_), input_shape=tuple(int(s) for s in inner.input_shape_))
    spec.threshold = det.threshold_.to_dict()
    scaler = det.scaler_
    C = int(det.n_channels_)
    shift = np.broadcast_to(np.asarray(scaler.shift_, np.float64), (C,)) if scaler.kind != "none" else np.zeros(C)
    scale = np.broadcast_to(np.asarray(scaler.scale_, np.float64), (C,)) if scaler.kind != "none" else np.ones(C)
    spec.series = {"window": int(det.window), "stride": int(det.stride), "aggregation": str(det.aggregation),
                   "mean": shift.tolist(), "std": scale.tolist()}
    return spec


def _load_source(source: Any, encoded_table: bool = False) -> tuple[Any, ScoringSpec, str]:
    """``source``: a run folder, or what :func:`aekit.load` returns for one (a
    :class:`~aekit.runs.TrainedAutoencoder` or a fitted application) -> (model, spec, name for messages).
    A run fitted on a mixed-type table is refused unless ``encoded_table`` (see :func:`export_bytes`)."""
    where, names = "model", None
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_file():
            raise ModelFileError(f"{path}: a file, not a run folder (export takes the folder holding model.json)")
        from aekit.apps.base import load

        where, source = str(path), load(path)
        try:  # `aekit detect` records the table's column names beside the model
            names = json.loads((path / "model.json").read_text()).get("feature_names")
        except (OSError, ValueError, AttributeError):
            names = None
    from aekit.apps.base import AutoencoderEstimator
    from aekit.apps.detect import AutoencoderDetector, SeriesDetector
    from aekit.runs import TrainedAutoencoder

    if getattr(source, "table_", None) is not None and not encoded_table:
        raise ConfigError(f"{where}: this run preprocesses a mixed-type table (ids, gaps, text, category or date columns; "
                          "aekit.data.tables) before its model and an aekit ONNX export takes float rows only, so it cannot be exported; "
                          f"score it with `aekit score {where} DATA` or serve it with `aekit serve {where}`")

    if isinstance(source, TrainedAutoencoder):
        names = (source.meta.get("data") or {}).get("feature_names") or source.meta.get("feature_names")
        return source.model, _plain_spec(source.model, source.scaler, names, where), where
    if isinstance(source, AutoencoderDetector):
        return source.model_, _detector_spec(source, where, names), where
    if isinstance(source, SeriesDetector):
        return source.detector_.model_, _series_spec(source, where), where
    if isinstance(source, AutoencoderEstimator) and hasattr(source, "model_"):
        # any other application: its model with its input scaling, scored by reconstruction error
        return source.model_, _plain_spec(source.model_, getattr(source, "scaler_", None), None, where), where
    raise ConfigError(f"export takes a run folder, a TrainedAutoencoder or a fitted aekit application, "
                      f"got {type(source).__name__}")


def _metadata(spec: ScoringSpec, outputs: Sequence[str]) -> dict[str, str]:
    import aekit

    schema = {"name": INPUT_NAME, "shape": ["batch", spec.n_features], "dtype": "float32",
              "example_shape": list(spec.input_shape)}
    if spec.series is not None:  # rows are time steps of one series, columns its channels
        channels = len(spec.series["mean"])
        schema = {"name": INPUT_NAME, "shape": ["time", channels], "dtype": "float32", "example_shape": [channels]}
    return {
        "aekit.format": EXPORT_FORMAT,
        "aekit.kind": spec.kind,
        "aekit.family": spec.family,
        "aekit.version": aekit.__version__,
        "aekit.input_schema": json.dumps(schema),
        "aekit.outputs": json.dumps(list(outputs)),
        "aekit.feature_names": json.dumps(spec.feature_names),
        "aekit.threshold": json.dumps(spec.threshold),
        "aekit.reduction": spec.reduction if spec.kind == "detector" else "mean",
        "aekit.standardized_errors": json.dumps(spec.err_shift is not None),
        "aekit.code_distance": json.dumps("knn" if spec.codes is not None else "none"),
        "aekit.series": json.dumps(None if spec.series is None else {k: spec.series[k] for k in ("window", "stride", "aggregation")}),
    }


def export_bytes(source: Any, feature_names: Sequence[str] | None = None, encoded_table: bool = False) -> bytes:
    """The ONNX file of ``source`` (run folder, TrainedAutoencoder or fitted detector) as bytes.

    A detector fitted on a mixed-type table (:mod:`aekit.data.tables`) is refused: its
    one-hot encoding and date parsing take strings, which this export does not carry.
    ``encoded_table=True`` exports it anyway with the *encoded* features as its input
    (``feature_names_out_``): what ``aekit serve`` runs after encoding each request itself.

    Raises :class:`ConfigError` naming the family and the reason when it cannot be exported,
    :class:`ModelFileError` when the run folder is not a readable aekit run.
    """
    import onnx
    import torch

    model, spec, where = _load_source(source, encoded_table)
    if feature_names is not None:
        names = [str(n) for n in feature_names]
        if len(names) != spec.n_features or len(set(names)) != len(names):
            raise ConfigError(f"feature names: {len(names)} given ({len(set(names))} distinct), the model takes {spec.n_features} inputs")
        spec.feature_names = names
    if spec.feature_names is not None and len(spec.feature_names) != spec.n_features:
        spec.feature_names = None  # names of a different layout (e.g. a series' channels) do not name inputs
    if spec.series is not None:
        graph = _series_module(model.eval(), spec)
        outputs: Sequence[str] = SERIES_OUTPUTS
        example = torch.zeros(int(spec.series["window"]) + 3, len(spec.series["mean"]))
    else:
        graph = _scoring_module(model.eval(), spec)
        outputs = DETECTOR_OUTPUTS if spec.threshold is not None else PLAIN_OUTPUTS
        example = torch.zeros(2, spec.n_features)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # the TorchScript exporter needs no extra package (the dynamo one needs onnxscript)
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, (example,), buf, dynamo=False, opset_version=OPSET if spec.series is None else 18,
                              input_names=[INPUT_NAME],
                              output_names=list(outputs), dynamic_axes={n: {0: "batch"} for n in (INPUT_NAME, *outputs)})
    except Exception as err:  # noqa: BLE001 - any exporter failure means "this family does not export"
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(f"{where}: family {spec.family!r} cannot be exported to ONNX ({type(err).__name__}: {first})") from None
    proto = onnx.load_from_string(buf.getvalue())
    for key, value in _metadata(spec, outputs).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "aekit"
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def export(source: Any, out: str | Path, overwrite: bool = False, feature_names: Sequence[str] | None = None) -> Path:
    """Write ``source``'s whole scoring path to ``out`` (``.onnx``) atomically; returns the path.

    An existing ``out`` is refused unless ``overwrite``; nothing is written when the export fails.
    """
    from aekit.io import atomic_write_bytes

    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise ConfigError(f"export writes an .onnx file, got {out}")
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    return atomic_write_bytes(out, export_bytes(source, feature_names))
