"""Speech denoising with an autoencoder over log-magnitude spectrogram context frames.

The model (the registered "mlp" family, or "conv" for a 2-D conv autoencoder over the
context patch) sees ``n_frames`` consecutive noisy log-magnitude frames, standardised per
frequency bin, and outputs for the same frames either

* ``output="mask"`` (default): a time-frequency gain in [0, 1] (mask estimation, Wang et
  al. 2014, https://doi.org/10.1109/TASLP.2014.2352935); the estimate is the gain times the
  noisy magnitude, so the model never invents energy and is less tied to the training
  voices. ``mask_target="phase"`` (default) trains towards the phase-sensitive mask
  ``|clean| / |noisy| * cos(angle(clean) - angle(noisy))`` clipped to [0, 1] (Erdogan et al.
  2015, https://doi.org/10.1109/ICASSP.2015.7178061): with the noisy phase kept, that gain
  gives the magnitude closest to the clean STFT, so it takes away the noise that shares a bin
  with speech out of phase; ``mask_target="ratio"`` is the bounded magnitude ratio
  ``min(|clean| / |noisy|, 1)``. At inference the gain is the estimated mask to the power
  ``mask_power`` (default 0.8): below 1 it keeps more of the weak speech in noisy bins, which
  STOI rewards, for a little more residual noise, which PESQ charges for;
* ``output="magnitude"``: the clean log-magnitude frames (regression enhancement,
  Xu et al. 2014, https://doi.org/10.1109/LSP.2013.2291240).

At inference each frame's estimate is the centre of its context window; the waveform is
rebuilt with the noisy phase (ISTFT).

Training pairs come from clean speech mixed with noise at random SNRs; the engine trains
the model on the noisy frames with the masks (or the clean frames) as the explicit target
(:meth:`~aekit.apps.base.AutoencoderEstimator._fit_engine`).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from aekit.apps.base import AutoencoderEstimator
from aekit.audio.features import STFTConfig, context_frames, from_log_magnitude, log_magnitude, stft, with_phase
from aekit.audio.noise import TRAIN_NOISES, NoiseBank, check_noise_sources, mix_at_snr
from aekit.data.dataset import Scaler
from aekit.errors import ConfigError, DataError
from aekit.models.base import Autoencoder

Clip = str | Path | np.ndarray


def _load(clip: Clip, sr: int) -> np.ndarray:
    if isinstance(clip, (str, Path)):
        from aekit.audio.io import load_audio

        return load_audio(clip, sr=sr)[0]
    y = np.asarray(clip, dtype=np.float32)
    if y.ndim != 1:
        raise DataError(f"expected a mono clip (n,), got shape {y.shape}")
    return y


def snr_range(snr_db: float | Sequence[float]) -> tuple[float, float]:
    """``(lo, hi)`` in dB from one number (a fixed SNR) or two in either order."""
    values = [snr_db] if isinstance(snr_db, Real) else list(snr_db)
    if not 1 <= len(values) <= 2 or not all(isinstance(v, Real) and math.isfinite(v) for v in values):
        raise ConfigError(f"snr_db must be one or two finite numbers in dB (a range like -5,15), got {snr_db!r}")
    return float(min(values)), float(max(values))


def _stacked(units: Callable[[np.ndarray], np.ndarray], frames: list[np.ndarray]) -> np.ndarray:
    """``units(f)`` of every clip's frames stacked into one preallocated array (rows: frames):
    the same as ``np.concatenate`` of the list, without holding the list and the result at once
    (each is gigabytes for a few hundred clips)."""
    first = units(frames[0])
    out = np.empty((sum(len(f) for f in frames), *first.shape[1:]), dtype=first.dtype)
    row = 0
    for i, f in enumerate(frames):
        u = first if i == 0 else units(f)
        out[row : row + len(u)] = u
        row += len(u)
    return out


class SpeechDenoiser(AutoencoderEstimator):
    """Denoising autoencoder for speech (an aekit application: scikit-learn contract, one run format).

    ``fit(clean_clips)`` mixes each clean clip with ``mixes`` noise draws from
    ``noise_sources`` (:data:`aekit.audio.noise.KINDS` or recording paths; ``babble`` is
    made from the other training clips) at SNRs drawn from ``snr_db`` and trains the model
    to map noisy frames to a mask (``mask_target``: ``phase`` or ``ratio``, see the module
    docstring) or the clean frames; ``denoise(y)`` cleans one mono
    signal at ``sr``. ``model`` is ``mlp`` (``hidden``, ``latent_dim``) or ``conv``
    (``channels``, stride 2 per stage: ``n_frames`` must be divisible by ``2**len(channels)``).

    Defaults that differ from :data:`~aekit.apps.base.TRAINING_SETTINGS`: 15 epochs and
    batches of 256 (a clip gives hundreds of frames, so an epoch holds many steps), and a
    validation fraction of 0.05 (frames are plentiful; 5 % is enough to pick the best epoch).
    """

    kind = "speech_denoiser"
    noun = "an audio denoiser run (train one with 'aekit audio train-denoiser')"
    params = {
        "sr": 8000, "n_fft": 256, "hop": 64, "window": "hann", "model": "mlp", "output": "mask", "n_frames": 11,
        "hidden": (512,), "latent_dim": 256, "channels": (16, 32, 64),
        "noise_sources": TRAIN_NOISES, "snr_db": (-5.0, 15.0), "mixes": 4, "max_seconds": 3.0,
        "mask_target": "phase", "mask_power": 0.8,
    }
    settings = {"max_epochs": 15, "batch_size": 256, "validation_fraction": 0.05}

    @property
    def stft_config(self) -> STFTConfig:
        return STFTConfig(n_fft=self.n_fft, hop=self.hop, window=self.window)  # type: ignore[arg-type]

    def check_params(self) -> "SpeechDenoiser":
        """Raise :class:`ConfigError` for a bad setting; ``fit`` calls it, call it yourself to fail
        before gathering any speech."""
        from aekit.audio.io import MAX_RATE, MIN_RATE

        self._check_settings()
        if not MIN_RATE <= self.sr <= MAX_RATE:
            raise ConfigError(f"sr must be in {MIN_RATE}..{MAX_RATE} Hz, got {self.sr}")
        _ = self.stft_config  # validates n_fft, hop and window
        for name in ("n_frames", "mixes"):
            value = getattr(self, name)
            if not isinstance(value, Integral) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if self.model not in ("mlp", "conv"):
            raise ConfigError(f"model must be 'mlp' or 'conv', got {self.model!r}")
        if self.output not in ("mask", "magnitude"):
            raise ConfigError(f"output must be 'mask' or 'magnitude', got {self.output!r}")
        if self.mask_target not in ("phase", "ratio"):
            raise ConfigError(f"mask_target must be 'phase' or 'ratio', got {self.mask_target!r}")
        if not (isinstance(self.mask_power, Real) and 0 < self.mask_power <= 1):
            raise ConfigError(f"mask_power must be a number in (0, 1] (1 = the mask as estimated), got {self.mask_power!r}")
        if self.model == "conv" and self.n_frames % 2 ** len(self.channels):
            raise ConfigError(f"model 'conv' needs n_frames divisible by 2**len(channels) = "
                              f"{2 ** len(self.channels)}, got n_frames={self.n_frames}")
        if not isinstance(self.random_state, Integral) or self.random_state < 0:
            raise ConfigError(f"random_state must be an integer >= 0, got {self.random_state!r}")
        snr_range(self.snr_db)
        check_noise_sources(self.noise_sources)
        if not (isinstance(self.max_seconds, Real) and self.max_seconds * self.sr >= self.n_fft):
            raise ConfigError(f"max_seconds must be a number of seconds holding at least one FFT frame, got {self.max_seconds!r}")
        self._build()  # hidden sizes and latent_dim, checked by the model family
        return self

    @property
    def _bins(self) -> int:
        """Frequency bins the model sees: the conv model drops the Nyquist bin (an even height
        halves cleanly at every stride-2 stage) and reuses the bin below's output for it."""
        F = self.stft_config.n_freq
        return F - 1 if self.model == "conv" else F

    def _build(self) -> Autoencoder:
        from aekit.registry import build_model

        act = "sigmoid" if self.output == "mask" else "identity"
        if self.model == "conv":
            return build_model("conv", {
                "input_shape": (1, self._bins, self.n_frames), "channels": list(self.channels),
                "latent_dim": self.latent_dim, "output_activation": act, "loss": "mse",
            }, seed=int(self.random_state))
        return build_model("mlp", {
            "input_shape": (self.n_frames * self._bins,), "hidden": list(self.hidden), "latent_dim": self.latent_dim,
            "output_activation": act, "loss": "mse",
        }, seed=int(self.random_state))

    def _units(self, frames: np.ndarray) -> np.ndarray:
        """Context windows of ``(T, F)`` frames as model inputs: ``(T, n*F')`` or ``(T, 1, F', n)``."""
        ctx = context_frames(frames[:, : self._bins], self.n_frames, pad=True)  # (T, n*F')
        if self.model == "conv":
            return np.ascontiguousarray(ctx.reshape(len(ctx), self.n_frames, self._bins).transpose(0, 2, 1)[:, None])
        return ctx

    def _centre(self, out: np.ndarray) -> np.ndarray:
        """The centre frame ``(T, F)`` of each output window (conv: Nyquist bin copied from the bin below)."""
        c = self.n_frames // 2
        if self.model == "conv":
            mid = out[:, 0, :, c]
            return np.concatenate([mid, mid[:, -1:]], axis=1)
        F = self._bins
        return out[:, c * F : (c + 1) * F]

    def _frames(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(S, L)``: complex STFT ``(F, T)`` and log-magnitude frames ``(T, F)``."""
        S = stft(y, self.stft_config)
        return S, log_magnitude(S).T

    def _context(self, L: np.ndarray) -> np.ndarray:
        return self._units(self.scaler_.transform(L))

    def _pairs(self, clips: Sequence[Clip]) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Noisy and clean log-magnitude frames and the training masks, each ``(N, F)``, for every
        clip and noise draw."""
        rng = np.random.default_rng(int(self.random_state))
        # training clips are cut to max_seconds: many short clips of many speakers teach more
        # per frame than a few long ones, and the context frames of every clip are held in memory
        cut = int(self.max_seconds * self.sr)
        ys = [y[:cut] for y in (_load(c, self.sr) for c in clips) if len(y) >= self.n_fft]
        # babble is made from the training clips: other sentences and, mostly, other speakers
        bank = NoiseBank(check_noise_sources(self.noise_sources), self.sr, babble_clips=ys)
        lo, hi = snr_range(self.snr_db)
        noisy, clean, masks = [], [], []
        for y in ys:
            for _ in range(self.mixes):
                x = mix_at_snr(y, bank.sample(len(y), rng), rng.uniform(lo, hi))
                # one random gain on mix and target: a peak level in [0.1, 0.9], so the
                # model sees many loudness levels and never a clipped mix
                gain = float(rng.uniform(0.1, 0.9)) / max(float(np.abs(x).max()), 1e-6)
                Sx, Lx = self._frames(x * gain)
                Sy = stft(y * gain, self.stft_config)
                noisy.append(Lx)
                clean.append(log_magnitude(Sy).T)
                masks.append(self._mask_target(Sy, Sx))
        if not noisy:
            raise DataError("no usable training clips (all shorter than one FFT frame)")
        return noisy, clean, masks

    def _mask_target(self, clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
        """Training mask ``(T, F)`` in [0, 1] from the clean and noisy STFTs ``(F, T)`` (see ``mask_target``)."""
        ratio = np.exp(log_magnitude(clean) - log_magnitude(noisy))  # floored like the features
        if self.mask_target == "phase":
            ratio = ratio * np.cos(np.angle(clean) - np.angle(noisy))
        return np.clip(ratio, 0.0, 1.0).T.astype(np.float32)

    def fit(self, clips: Sequence[Clip], y: Any = None) -> "SpeechDenoiser":
        """Train on clean speech clips (paths or mono arrays at ``sr``)."""
        self.check_params()
        if len(clips) == 0:
            raise DataError("no training clips")
        noisy, clean, masks = self._pairs(clips)
        # log-magnitude bins span decades: a floor on the spread keeps near-silent bins finite
        self.scaler_ = Scaler("standard", per_feature=True, min_scale=1e-3).fit(np.concatenate(noisy))
        Xn = _stacked(self._context, noisy)
        T = _stacked(self._units, masks) if self.output == "mask" else _stacked(self._context, clean)
        del noisy, clean, masks
        self.model_ = self._fit_engine(self._build(), Xn, target=T).model
        return self

    def _state(self) -> dict[str, Any]:
        return {"output": self.output, "model": self.model, "mask_power": self.mask_power}

    def _restore(self, state: dict[str, Any], model: Any, preprocessing: dict[str, Any] | None) -> None:
        super()._restore(state, model, preprocessing)
        # runs saved before masks existed hold a magnitude-regression mlp; runs saved before
        # mask_power existed used the mask as estimated
        self.output, self.model = state.get("output", "magnitude"), state.get("model", "mlp")
        self.mask_power = state.get("mask_power", 1.0)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError("SpeechDenoiser is not fitted; call fit() first")

    @torch.no_grad()
    def denoise(self, y: np.ndarray) -> np.ndarray:
        """Clean a mono signal ``(n,)`` at ``sr``; returns ``(n,)`` float32."""
        self._check_fitted()
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or len(y) == 0:
            raise DataError(f"expected a non-empty mono signal (n,), got shape {y.shape}")
        S, L = self._frames(y)
        ctx = torch.from_numpy(self._context(L))
        centre = self._centre(self.model_.reconstruct(ctx).numpy())  # (T, F)
        if self.output == "mask":
            mag = np.clip(centre.T, 0.0, 1.0) ** self.mask_power * np.abs(S)
        else:
            mag = from_log_magnitude(self.scaler_.inverse_transform(centre)).T  # (F, T)
            mag = np.minimum(mag, np.abs(S))  # additive noise only adds energy: never amplify a bin
        return with_phase(mag, S, self.stft_config, len(y))

    def denoise_file(self, src: str | Path, dst: str | Path) -> Path:
        """Denoise one file (any rate/channels; output at the input's rate, written atomically)."""
        from aekit.audio.io import AUDIO_SUFFIXES, load_audio, resample, same_path, save_audio

        self._check_fitted()
        src, dst = Path(src), Path(dst)
        if dst.is_dir():
            raise ConfigError(f"output {dst} is a folder; give a file name (or a folder as input)")
        if dst.suffix.lower() not in AUDIO_SUFFIXES:
            raise ConfigError(f"output {dst} must end in {', '.join(AUDIO_SUFFIXES)}")
        if same_path(src, dst):
            raise ConfigError(f"output {dst} is the input file; write the denoised audio to another path")
        y, rate = load_audio(src, clipping="ignore")
        out = self.denoise(resample(y, rate, self.sr))
        return save_audio(dst, resample(out, self.sr, rate), rate)

    def denoise_folder(self, src: str | Path, dst: str | Path) -> list[Path]:
        """Denoise every audio file in ``src`` into ``dst`` under the same names.

        All or nothing: the outputs are written to a staging folder and moved into ``dst``
        only when every file has been denoised, so an unreadable input leaves ``dst`` as it was.
        """
        from aekit.audio.io import list_audio, same_path
        from aekit.io import staged_folder

        self._check_fitted()
        src, dst = Path(src), Path(dst)
        if same_path(src, dst):
            raise ConfigError(f"output folder {dst} is the input folder; write the denoised files to another folder")
        if dst.exists() and not dst.is_dir():
            raise ConfigError(f"output {dst} is a file; give a folder when the input is a folder")
        files = list_audio(src)
        if not files:
            raise DataError(f"no audio files in {src}")
        with staged_folder(dst) as tmp:
            for f in files:
                self.denoise_file(f, tmp / f.name)
        return [dst / f.name for f in files]
