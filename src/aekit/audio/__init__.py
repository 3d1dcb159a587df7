"""Audio as data: loading, spectrogram features, noise, speech corpora, machine sounds.

Submodules: :mod:`~aekit.audio.io` (files), :mod:`~aekit.audio.features` (STFT, log-mel,
framing), :mod:`~aekit.audio.noise`, :mod:`~aekit.audio.metrics` (SNR, SI-SDR, PESQ,
STOI), :mod:`~aekit.audio.baselines` (Wiener, spectral subtraction),
:mod:`~aekit.audio.machines` (stand-in machine sounds) and :mod:`~aekit.audio.speech`
(corpora). The audio applications are ordinary aekit estimators:
:class:`aekit.apps.speech.SpeechDenoiser` and :class:`aekit.apps.sound.AudioAnomalyDetector`.
"""

from aekit.audio.io import load_audio, resample, save_audio

__all__ = ["load_audio", "resample", "save_audio"]
