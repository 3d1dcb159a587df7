"""Audio: loading, spectrogram features, speech denoising and machine-sound anomaly detection.

Submodules: :mod:`~aekit.audio.io` (files), :mod:`~aekit.audio.features` (STFT, log-mel,
framing), :mod:`~aekit.audio.noise`, :mod:`~aekit.audio.metrics`,
:mod:`~aekit.audio.machines` (stand-in machine sounds), :mod:`~aekit.audio.speech`
(corpora), :mod:`~aekit.audio.denoise` and :mod:`~aekit.audio.detect`.
"""

from aekit.audio.io import load_audio, resample, save_audio

__all__ = ["load_audio", "resample", "save_audio", "SpeechDenoiser", "AudioAnomalyDetector"]


def __getattr__(name: str):  # torch-heavy classes load on first use
    if name == "SpeechDenoiser":
        from aekit.audio.denoise import SpeechDenoiser

        return SpeechDenoiser
    if name == "AudioAnomalyDetector":
        from aekit.audio.detect import AudioAnomalyDetector

        return AudioAnomalyDetector
    raise AttributeError(name)
