"""Anomalous-sound detection in the manner of the DCASE 2020 Task 2 autoencoder baseline.

Each clip becomes log-mel frames (128 bands); 5 consecutive frames are stacked into a
640-d vector; an MLP autoencoder (4 x 128 hidden, 8-d code) trained on normal clips
reconstructs them; a clip's anomaly score is the mean reconstruction error over its
vectors. ``model="conv"`` swaps in a 2-D convolutional autoencoder over log-mel
patches (128 bands x ``patch_frames``). Both models are registered aekit families
("mlp", "conv") trained through the one application path into the engine
(:meth:`aekit.apps.base.AutoencoderEstimator._fit_engine`).
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from aekit.apps.base import AutoencoderEstimator
from aekit.audio.features import MelConfig, context_frames, log_mel, patches
from aekit.data.dataset import Scaler
from aekit.errors import ConfigError, DataError
from aekit.runs import batched

Clip = str | Path | np.ndarray
MODELS = ("mlp", "conv")


def _clip_features(clip: Clip, mel: MelConfig) -> np.ndarray:
    """Log-mel ``(n_mels, T)`` of a file path or of a mono array already at ``mel.sr``."""
    if isinstance(clip, (str, Path)):
        from aekit.audio.io import load_audio

        y, _ = load_audio(clip, sr=mel.sr)
    else:
        y = np.asarray(clip, dtype=np.float32)
        if y.ndim != 1:
            raise DataError(f"expected a mono clip (n,), got shape {y.shape}")
    return log_mel(y, mel)


class AudioAnomalyDetector(AutoencoderEstimator):
    """Autoencoder detector for sound clips (an aekit application: scikit-learn contract, one run format).

    ``fit(clips)`` trains on normal clips (paths or mono arrays at ``sr``);
    ``anomaly_score(clips)`` gives one score per clip, higher = more anomalous;
    ``score_samples`` is its negation (scikit-learn's sign: lower = more abnormal).

    Default that differs from :data:`~aekit.apps.base.TRAINING_SETTINGS`: batches of 512,
    the DCASE baseline's (a 10 s clip gives about 300 feature vectors).
    """

    kind = "sound_detector"
    noun = "an audio anomaly detector run"
    params = {
        "model": "mlp", "sr": 16000, "n_fft": 1024, "hop": 512, "n_mels": 128, "n_frames": 5,
        "hidden": (128, 128, 128, 128), "latent_dim": 8, "patch_frames": 32, "patch_hop": 8, "channels": (16, 32, 64),
    }
    settings = {"batch_size": 512}

    @property
    def mel_config(self) -> MelConfig:
        return MelConfig(sr=self.sr, n_fft=self.n_fft, hop=self.hop, n_mels=self.n_mels)

    def check_params(self) -> "AudioAnomalyDetector":
        """Raise :class:`ConfigError` for a bad setting; ``fit`` calls it, call it yourself to fail
        before reading any clip."""
        self._check_settings()
        if self.model not in MODELS:
            raise ConfigError(f"model must be {' or '.join(repr(m) for m in MODELS)}, got {self.model!r}")
        _ = self.mel_config  # validates sr, n_fft, hop and n_mels
        for name in ("n_frames", "patch_frames", "patch_hop"):
            value = getattr(self, name)
            if not isinstance(value, Integral) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.random_state, Integral) or self.random_state < 0:
            raise ConfigError(f"random_state must be an integer >= 0, got {self.random_state!r}")
        self._build()  # hidden, latent_dim and channels, checked by the model family
        return self

    # -- features ---------------------------------------------------------------
    def _units(self, spec: np.ndarray) -> np.ndarray:
        """One clip's normalised model inputs: ``(N, 640)`` vectors or ``(N, 1, mels, width)`` patches."""
        frames = self.scaler_.transform(spec.T)  # (T, mels)
        if self.model == "mlp":
            return context_frames(frames, self.n_frames)
        return patches(frames.T, self.patch_frames, self.patch_hop)

    def _stack(self, specs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """All clips' units concatenated, plus each unit's clip index (for the per-clip mean)."""
        units = [self._units(s) for s in specs]
        owner = np.repeat(np.arange(len(units)), [len(u) for u in units])
        return np.concatenate(units), owner

    def _build(self) -> Any:
        from aekit.registry import build_model

        if self.model == "mlp":
            params = {"input_shape": (self.n_frames * self.n_mels,), "hidden": list(self.hidden),
                      "latent_dim": self.latent_dim, "output_activation": "identity"}
            return build_model("mlp", params, seed=int(self.random_state))
        if self.model == "conv":
            params = {"input_shape": (1, self.n_mels, self.patch_frames), "channels": list(self.channels),
                      "latent_dim": max(self.latent_dim, 16), "output_activation": "identity"}
            return build_model("conv", params, seed=int(self.random_state))
        raise ConfigError(f"model must be {' or '.join(repr(m) for m in MODELS)}, got {self.model!r}")

    # -- estimator API ----------------------------------------------------------
    def fit(self, clips: Sequence[Clip], y: Any = None) -> "AudioAnomalyDetector":
        """Train on normal clips; ``validation_fraction`` of the feature vectors pick the best epoch."""
        self.check_params()
        if len(clips) == 0:
            raise DataError("no training clips")
        mel = self.mel_config
        specs = [_clip_features(c, mel) for c in clips]
        # log-mel bands in dB: a floor on the spread keeps a silent band from being blown up
        self.scaler_ = Scaler("standard", per_feature=True, min_scale=1e-3).fit(np.concatenate([s.T for s in specs]))
        X, _ = self._stack(specs)
        self.model_ = self._fit_engine(self._build(), X).model
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError("AudioAnomalyDetector is not fitted; call fit() first")

    def anomaly_score(self, clips: Sequence[Clip]) -> np.ndarray:
        """``(n_clips,)`` mean reconstruction error over each clip's vectors (higher = more anomalous)."""
        self._check_fitted()
        if len(clips) == 0:
            return np.zeros(0, dtype=np.float32)
        mel = self.mel_config
        X, owner = self._stack([_clip_features(c, mel) for c in clips])
        errs = batched(self.model_.score, X)
        return (np.bincount(owner, weights=errs, minlength=len(clips)) / np.bincount(owner, minlength=len(clips))).astype(np.float32)

    def score_samples(self, clips: Sequence[Clip]) -> np.ndarray:
        """scikit-learn sign convention: lower = more abnormal."""
        return -self.anomaly_score(clips)


def dcase_files(folder: str | Path, split: str) -> list[Path]:
    """``folder/split/*.wav`` in a DCASE layout (``train/normal_*``, ``test/normal_*`` + ``test/anomaly_*``).

    Both sub-folders are required: a flat folder would put every normal test clip in the
    training set too and inflate the AUC.
    """
    from aekit.audio.io import list_audio

    folder = Path(folder)
    sub = folder / split
    if not sub.is_dir():
        raise DataError(f"{folder}: expected a DCASE layout with train/ (normal_*.wav) and test/ "
                        f"(normal_*.wav, anomaly_*.wav) sub-folders; {split}/ is missing")
    files = list_audio(sub)
    if split == "train":
        files = [f for f in files if f.name.startswith("normal")]
    if not files:
        raise DataError(f"no audio clips in {sub} (expected normal_*.wav / anomaly_*.wav)")
    return files


def clip_labels(files: Sequence[Path]) -> tuple[np.ndarray, list[str]]:
    """Labels from DCASE names (``anomaly_*`` = 1) and each anomaly's kind (last name part, or 'anomaly')."""
    from aekit.audio.machines import FAULT_KINDS

    labels = np.array([1 if f.name.startswith("anomaly") else 0 for f in files])
    kinds = []
    for f, lab in zip(files, labels):
        last = f.stem.rsplit("_", 1)[-1]
        kinds.append("normal" if not lab else (last if last in FAULT_KINDS else "anomaly"))
    return labels, kinds


def evaluate(det: AudioAnomalyDetector, files: Sequence[Path], max_fpr: float = 0.1) -> dict[str, Any]:
    """AUC and pAUC (DCASE definition) overall and per anomaly kind, plus the clip scores."""
    from aekit.apps.metrics import partial_auc, roc_auc

    labels, kinds = clip_labels(files)
    if labels.min() == labels.max():
        raise DataError("evaluation needs both normal_* and anomaly_* clips")
    scores = det.anomaly_score(list(files))
    out: dict[str, Any] = {"all": {"auc": roc_auc(labels, scores), "pauc": partial_auc(labels, scores, max_fpr),
                                   "n_normal": int((labels == 0).sum()), "n_anomaly": int(labels.sum())}}
    k_arr = np.array(kinds)
    for kind in sorted(set(kinds) - {"normal"}):
        keep = (labels == 0) | (k_arr == kind)
        out[kind] = {"auc": roc_auc(labels[keep], scores[keep]), "pauc": partial_auc(labels[keep], scores[keep], max_fpr),
                     "n_normal": int((labels == 0).sum()), "n_anomaly": int((k_arr == kind).sum())}
    out["scores"] = {f.name: float(s) for f, s in zip(files, scores)}
    return out
