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
    out: Optional[Path] = typer.Argument(None, help="Run folder to write (or --out)."),
    out_option: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder to write, as in every command that trains."),
    speech: str = typer.Option("asterisk,espeak", help="Clean speech: 'asterisk', 'espeak' and/or folders of clean clips."),
    noise: Optional[str] = typer.Option(None, help="Noise: white, pink, brown, blue, babble, machine, machines, engine, modulated and/or noise recording files (default: SpeechDenoiser's noise_sources)."),
    snr: str = typer.Option("-5,15", help="Training SNR range in dB, 'lo,hi' (or one value for a fixed SNR)."),
    epochs: int = typer.Option(15, "--epochs", "-e", help="Training epochs."),
    mixes: Optional[int] = typer.Option(None, help="Noisy versions per clean clip (default: SpeechDenoiser's mixes)."),
    limit: int = typer.Option(240, help="Use at most this many training clips (0 = no cap), taken from every speaker in turn; each is cut to 3 s. The built-in speech gives the mix the default was chosen on (6 clips of each synthetic voice, 48 of each real speaker, 216 in all); a --speech folder adds every training clip and shares the cap."),
    seed: int = typer.Option(0, help="Random seed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No training progress (a bar on a terminal, a line per epoch otherwise)."),
) -> None:
    """Train a speech denoiser on the training speakers (held-out speakers and files are never used;
    a --speech folder is split the same way, by speaker sub-folders when it has them). metrics.json
    records the split: speakers and clips on each side."""
    from aekit.apps.speech import SpeechDenoiser
    from aekit.audio.speech import folder_split, speaker_split, training_mix
    from aekit.errors import ConfigError
    from aekit.io import atomic_save_json

    # every argument is checked before any speech is gathered or generated
    out = _one_out(out, out_option)
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
    # unset options keep the denoiser's own defaults (one place for them)
    extra: dict[str, object] = {} if mixes is None else {"mixes": mixes}
    if noise is not None:
        extra["noise_sources"] = _csv(noise)
    den = SpeechDenoiser(snr_db=lo_hi, max_epochs=epochs, random_state=seed, verbose=0 if quiet else 1,
                         **extra).check_params()

    by_speaker: list[list[Path]] = []  # each training speaker's clips
    split_info: dict[str, object] = {}
    builtin = tuple(s for s in sources if s in ("asterisk", "espeak"))
    if builtin:
        split = speaker_split(builtin)
        by_speaker += list(training_mix(split.train).values())
        split_info["built_in"] = split.summary()
        console().print(f"{', '.join(builtin)}: {len(split.train)} training speakers, {len(split.unseen_test)} "
                        "held-out speakers (never used here)", markup=False)
    folders: dict[str, dict[str, object]] = {}
    for s in sources:
        if s in ("asterisk", "espeak"):
            continue
        # a user's folder is split like the built-in speech: its held-out part never trains
        train, test, how = folder_split(s)
        voices: dict[Path, list[Path]] = {}  # one group per speaker sub-folder (the whole folder when it has none)
        for f in train:
            voices.setdefault(f.parent, []).append(f)
        by_speaker += list(voices.values())
        folders[s] = {"train": [str(f) for f in train], "held_out": [str(f) for f in test], "split": how}
        console().print(f"{s}: {len(train)} clips train, {len(test)} held out, split {how}", markup=False)
    # speakers in turn, so a --limit keeps every training speaker
    clips = [f for group in _interleave(by_speaker) for f in group]
    if limit:
        clips = clips[:limit]
    used = {str(f) for f in clips}
    for info in folders.values():  # which of a folder's training clips the cap kept
        info["used"] = [f for f in info["train"] if f in used]
    den.fit(clips)
    den.save(out)
    atomic_save_json(out / "metrics.json", {"train_clips": len(clips), "speaker_split": split_info,
                                            "speech_folders": folders, "history": den.history_})
    last = den.history_[-1] if den.history_ else {}
    console().print(f"trained on {len(clips)} clips; final val loss {last.get('val/loss', float('nan')):.4f} -> {out}")


def _interleave(groups: list[list[Path]]) -> list[list[Path]]:
    """Round-robin rows: the first clip of every group, then the second of every group, ..."""
    longest = max((len(g) for g in groups), default=0)
    return [[g[i] for g in groups if i < len(g)] for i in range(longest)]


@audio_app.command("denoise")
def denoise(
    run: Path = typer.Argument(..., help="Run folder of a trained audio denoiser."),
    src: Path = typer.Argument(..., help="Input audio file or folder."),
    dst: Path = typer.Argument(..., help="Output file (or folder when SRC is a folder)."),
    figure: bool = typer.Option(False, help="Also write a before/after waveform + spectrogram PNG next to the output."),
    reference: Optional[Path] = typer.Option(None, "--reference", help="Clean recording of the same clip: also print PESQ, STOI and the SI-SDR gain."),
) -> None:
    """Denoise SRC into DST with the denoiser in RUN (a folder SRC is all-or-nothing: DST gets every file or none).

    Prints the estimated SNR before and after (from the quietest frames; no reference needed),
    and with --reference the PESQ, STOI and SI-SDR gain against the clean clip."""
    from aekit.apps.speech import SpeechDenoiser
    from aekit.audio.io import load_audio
    from aekit.audio.metrics import denoising_quality
    from aekit.errors import ConfigError

    if figure and src.is_dir():
        raise ConfigError("--figure draws one before/after plot: give a single input file, not a folder")
    if reference is not None and (src.is_dir() or not reference.is_file()):
        raise ConfigError(f"--reference must be one clean audio file for one input file (got {reference})")
    den = SpeechDenoiser.load(run)
    if src.is_dir():
        outs = den.denoise_folder(src, dst)
        from aekit.audio.io import list_audio

        q = [denoising_quality(*load_audio(a, clipping="ignore")[:1], load_audio(b, clipping="ignore")[0],
                               load_audio(b, clipping="ignore")[1]) for a, b in zip(list_audio(src), outs)]
        gain = sum(x["est_snr_out"] - x["est_snr_in"] for x in q) / len(q)  # type: ignore[operator]
        console().print(f"denoised {len(outs)} files -> {dst}; estimated SNR change {gain:+.1f} dB (mean over files)")
        return
    ref = None
    if reference is not None:  # checked before writing anything: a bad reference leaves DST untouched
        from aekit.audio.metrics import check_reference

        noisy, rate_in = load_audio(src, clipping="ignore")
        ref = check_reference(load_audio(reference, sr=rate_in, clipping="ignore")[0], noisy, rate_in)
    den.denoise_file(src, dst)
    (a, rate), (b, _) = load_audio(src, clipping="ignore"), load_audio(dst, clipping="ignore")
    if figure:
        from aekit.audio.figures import plot_audio

        plot_audio(dst.with_suffix(".png"), {"before": a, "after": b}, rate)
    console().print(f"{src} -> {dst}")
    q = denoising_quality(a, b, rate, ref)
    console().print(f"estimated SNR {q['est_snr_in']:.1f} dB -> {q['est_snr_out']:.1f} dB "
                    f"({q['est_snr_out'] - q['est_snr_in']:+.1f} dB; from the quietest frames, no reference)")  # type: ignore[operator]
    if ref is not None:
        fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
        console().print(f"against the reference: PESQ {fmt(q['pesq_in'])} -> {fmt(q['pesq_out'])}, STOI "
                        f"{fmt(q['stoi_in'])} -> {fmt(q['stoi_out'])}, SI-SDR gain {q['si_sdr_gain']:+.2f} dB")


def _one_out(positional: Path | None, option: Path | None) -> Path:
    """The run folder given as the argument or as ``--out`` (the same flag as every training command)."""
    from aekit.errors import ConfigError

    if positional is not None and option is not None and positional != option:
        raise ConfigError(f"two run folders given ({positional} and --out {option}); pass one")
    if positional is None and option is None:
        raise ConfigError("give the run folder to write: --out FOLDER")
    return positional or option  # type: ignore[return-value]


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
    import json

    import numpy as np

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
        from aekit.audio.figures import plot_detection

        if run is None:
            det.save(out)
        saved = out / "metrics.json"  # keep the per-epoch history det.save() wrote there
        atomic_save_json(saved, {**(json.loads(saved.read_text()) if saved.is_file() else {}), **result})
        _, kinds = clip_labels(test_files)
        fig = plot_detection(out / "figures" / "detection.png", np.array([result["scores"][f.name] for f in test_files]),
                             kinds, {k: r["auc"] for k, r in result.items() if k != "scores"})
        from aekit.reports.html import write_report

        page = write_report(out)
        console().print(f"saved -> {out} (figure {fig}, report {page})")
