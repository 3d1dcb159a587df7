"""Audio commands: ``aekit audio {spectrogram, make-machines, train-denoiser, denoise, detect}``
and the top-level alias ``aekit denoise-audio``. Heavy imports happen inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from aekit.cli.common import console

audio_app = typer.Typer(help="Audio: spectrograms, speech denoising, machine-sound anomaly detection.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audio_app, name="audio")
    app.command("denoise-audio", help="Denoise a WAV/FLAC/OGG file or a folder with a trained audio denoiser (alias of 'aekit audio denoise').")(denoise)


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _numbers(flag: str, text: str) -> list[float]:
    """Comma-separated numbers of ``flag``; a one-line ConfigError names the flag otherwise."""
    from aekit.errors import ConfigError

    try:
        return [float(t) for t in _csv(text)]
    except ValueError:
        raise ConfigError(f"{flag} expects comma-separated numbers, got {text!r}") from None


def _check_out_folder(flag: str, out: Optional[Path]) -> None:
    from aekit.errors import ConfigError

    if out is not None and out.exists() and not out.is_dir():
        raise ConfigError(f"{flag} {out} exists and is not a folder")
    if out is not None and out.is_dir() and any(out.iterdir()):
        # the same rule as training run folders: never overwrite a finished run
        raise ConfigError(f"{flag} {out} already exists and is not empty: pick another folder")


@audio_app.command("spectrogram")
def spectrogram(
    src: Path = typer.Argument(..., help="Audio file (WAV/FLAC/OGG)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="PNG to write (default: next to the input)."),
    sr: Optional[int] = typer.Option(None, help="Resample to this rate first."),
    n_fft: int = typer.Option(512, help="FFT size."),
    hop: int = typer.Option(128, help="Hop length."),
    window: str = typer.Option("hann", help="hann or hamming."),
    n_mels: int = typer.Option(0, help="Mel bands; 0 = linear-frequency log-magnitude."),
    allow_clipping: bool = typer.Option(False, help="Accept clipped recordings."),
) -> None:
    """Plot the waveform and (log-mel or log-magnitude) spectrogram of SRC."""
    from aekit.audio.figures import check_spectrogram_params, plot_spectrogram
    from aekit.audio.io import load_audio

    out = out or src.with_suffix(".spectrogram.png")
    check_spectrogram_params(out, n_fft, hop, window, n_mels)
    y, rate = load_audio(src, sr=sr, clipping="ignore" if allow_clipping else "error")
    plot_spectrogram(out, y, rate, n_fft=n_fft, hop=hop, window=window, n_mels=n_mels)
    console().print(f"{src.name}: {len(y) / rate:.2f} s at {rate} Hz -> {out}")


@audio_app.command("make-machines")
def make_machines(
    out: Path = typer.Argument(..., help="Folder to write (DCASE layout: train/, test/)."),
    n_train: int = typer.Option(100, help="Normal training clips."),
    n_test_normal: int = typer.Option(40, help="Normal test clips."),
    n_test_per_fault: int = typer.Option(20, help="Anomalous test clips per fault kind."),
    faults: str = typer.Option("bearing,imbalance,rattle,dropout", help="Fault kinds, comma-separated."),
    seconds: float = typer.Option(2.0, help="Clip length."),
    severity: float = typer.Option(1.0, help="Fault strength (1 = default; smaller is harder)."),
    sr: int = typer.Option(16000, help="Sample rate."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Generate stand-in machine sounds (normal_*.wav / anomaly_*.wav) into a new or empty folder."""
    from aekit.audio.machines import MachineConfig, write_dataset

    kinds = tuple(_csv(faults))
    cfg = MachineConfig(sr=sr, seconds=seconds, severity=severity)
    write_dataset(out, n_train, n_test_normal, n_test_per_fault, kinds, cfg, seed=seed)
    console().print(f"wrote {n_train} train and {n_test_normal + n_test_per_fault * len(kinds)} test clips to {out}")


@audio_app.command("train-denoiser")
def train_denoiser(
    out: Path = typer.Argument(..., help="Run folder to write."),
    speech: str = typer.Option("asterisk,espeak", help="Clean speech: 'asterisk', 'espeak' and/or folders of clean clips."),
    noise: str = typer.Option("white,pink,brown", help="Noise: white, pink, brown and/or noise recording files."),
    snr: str = typer.Option("-5,15", help="Training SNR range in dB, 'lo,hi' (or one value for a fixed SNR)."),
    epochs: int = typer.Option(15, "--epochs", "-e", help="Training epochs."),
    mixes: int = typer.Option(2, help="Noisy versions per clean clip."),
    limit: int = typer.Option(0, help="Use at most this many training clips (0 = all)."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Train a speech denoiser on the training split (held-out files and voices are never used; a
    --speech folder is split the same way, by speaker sub-folders when it has them)."""
    from aekit.apps.speech import SpeechDenoiser
    from aekit.audio.speech import asterisk_split, espeak_files, folder_split
    from aekit.errors import ConfigError
    from aekit.io import atomic_save_json

    # every argument is checked before any speech is gathered or generated
    _check_out_folder("output", out)
    lo_hi = sorted(_numbers("--snr", snr))
    if not 1 <= len(lo_hi) <= 2:
        raise ConfigError(f"--snr expects 'lo,hi' in dB (or one value), got {snr!r}")
    if limit < 0:
        raise ConfigError(f"--limit must be >= 0 (0 = all clips), got {limit}")
    sources = _csv(speech)
    if not sources:
        raise ConfigError("--speech needs at least one source: asterisk, espeak or a folder of clean clips")
    for s in sources:
        if s not in ("asterisk", "espeak") and not Path(s).is_dir():
            raise ConfigError(f"--speech {s!r} is neither asterisk, espeak nor a folder of clean clips")
    den = SpeechDenoiser(noise_sources=_csv(noise), snr_db=lo_hi, max_epochs=epochs, mixes=mixes,
                         random_state=seed).check_params()

    clips: list[Path] = []
    splits: dict[str, dict[str, object]] = {}
    for s in sources:
        if s == "asterisk":
            clips += asterisk_split()[0]
        elif s == "espeak":
            clips += espeak_files("train")
        else:  # a user's folder is split like the built-in speech: its held-out part never trains
            train, test, how = folder_split(s)
            clips += train
            splits[s] = {"train": [str(f) for f in train], "held_out": [str(f) for f in test], "split": how}
            console().print(f"{s}: {len(train)} clips train, {len(test)} held out, split {how}", markup=False)
    if limit:
        clips = clips[:limit]
    den.fit(clips)
    den.save(out)
    atomic_save_json(out / "metrics.json", {"train_clips": len(clips), "speech_folders": splits, "history": den.history_})
    last = den.history_[-1] if den.history_ else {}
    console().print(f"trained on {len(clips)} clips; final val loss {last.get('val/loss', float('nan')):.4f} -> {out}")


@audio_app.command("denoise")
def denoise(
    run: Path = typer.Argument(..., help="Run folder of a trained audio denoiser."),
    src: Path = typer.Argument(..., help="Input audio file or folder."),
    dst: Path = typer.Argument(..., help="Output file (or folder when SRC is a folder)."),
    figure: bool = typer.Option(False, help="Also write a before/after waveform + spectrogram PNG next to the output."),
) -> None:
    """Denoise SRC into DST with the denoiser in RUN (a folder SRC is all-or-nothing: DST gets every file or none)."""
    from aekit.apps.speech import SpeechDenoiser

    if figure and src.is_dir():
        from aekit.errors import ConfigError

        raise ConfigError("--figure draws one before/after plot: give a single input file, not a folder")
    den = SpeechDenoiser.load(run)
    if src.is_dir():
        outs = den.denoise_folder(src, dst)
        console().print(f"denoised {len(outs)} files -> {dst}")
        return
    den.denoise_file(src, dst)
    if figure:
        from aekit.audio.io import load_audio
        from aekit.audio.figures import plot_audio

        (a, rate), (b, _) = load_audio(src, clipping="ignore"), load_audio(dst, clipping="ignore")
        plot_audio(dst.with_suffix(".png"), {"before": a, "after": b}, rate)
    console().print(f"{src} -> {dst}")


@audio_app.command("detect")
def detect(
    audio: Path = typer.Option(..., "--audio", help="DCASE-layout folder: train/normal_*.wav, test/{normal,anomaly}_*.wav."),
    run: Optional[Path] = typer.Option(None, "--run", help="Use this trained detector instead of training one."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder to save the trained detector and metrics."),
    model: str = typer.Option("mlp", "--model", "-m", help="mlp (DCASE baseline, 5x128 log-mel -> 640-d) or conv (2-D patches)."),
    epochs: int = typer.Option(30, "--epochs", "-e", help="Training epochs."),
    sr: int = typer.Option(16000, help="Resample clips to this rate."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Train on normal clips and rank test clips; prints AUC and pAUC (p=0.1) overall and per anomaly kind."""
    from aekit.apps.sound import AudioAnomalyDetector, clip_labels, dcase_files, evaluate
    from aekit.errors import DataError
    from aekit.io import atomic_save_json

    _check_out_folder("--out", out)
    if run is not None:
        det = AudioAnomalyDetector.load(run)
    else:  # settings are checked before any clip is read
        det = AudioAnomalyDetector(model=model, max_epochs=epochs, sr=sr, random_state=seed).check_params()
    test_files = dcase_files(audio, "test")
    if len(set(clip_labels(test_files)[0])) < 2:
        raise DataError(f"{audio / 'test'}: evaluation needs both normal_* and anomaly_* clips")
    if run is None:
        det.fit(dcase_files(audio, "train"))
    result = evaluate(det, test_files)
    console().print(f"{'kind':<12}{'normal':>8}{'anomaly':>9}{'AUC':>8}{'pAUC':>8}")
    for kind, r in result.items():
        if kind != "scores":
            console().print(f"{kind:<12}{r['n_normal']:>8}{r['n_anomaly']:>9}{r['auc']:>8.3f}{r['pauc']:>8.3f}")
    if out is not None:
        if run is None:
            det.save(out)
        atomic_save_json(out / "metrics.json", result)
        console().print(f"saved -> {out}")
