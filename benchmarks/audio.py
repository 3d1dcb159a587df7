"""Audio benchmark: speech denoising on held-out speakers and noise, machine-sound detection.

* ``denoise``: :class:`aekit.SpeechDenoiser` with its defaults, trained on the training
  speakers of :func:`aekit.audio.speech.speaker_split` (Asterisk's Allison, English and
  Spanish prompts, plus 28 espeak-ng voices) mixed with the training noises
  (:data:`aekit.audio.noise.TRAIN_NOISES`: white, pink, brown, babble, machine). Tested at
  0, 5 and 10 dB in three conditions, reported separately:

  1. ``seen speaker + seen noise``: held-out files of the training speakers;
  2. ``unseen speakers + seen noise``: speakers never trained on (Asterisk's June, French;
     16 espeak-ng voices sharing neither base voice nor variant with training);
  3. ``unseen speakers + unseen noise``: the same speakers in noise kinds never trained on
     (:data:`aekit.audio.noise.UNSEEN_NOISES`: blue hiss, another machine with a rattle,
     level-modulated pink noise).

  Babble is always made from other clips of the condition's own speakers. Methods: the
  noisy input, aekit's default, noisereduce (stationary and non-stationary spectral
  gating; optional, ``pip install aekit[bench]``), an STFT Wiener filter and power spectral
  subtraction. PESQ (narrow-band), STOI and SI-SDR gain (dB over the noisy input), per SNR
  and per noise kind.
* ``validation``: how the default is chosen, never on the test conditions: candidates
  trained on the training clips less every voice of one training base voice (``VAL_BASE``)
  and scored on five of its voices (``VAL_VOICES``, ``VAL_EXTRA_VOICES``) and unused files
  of the real training speaker, in the training
  noises plus three validation-only kinds (``VAL_NOISES``), with the same baselines; a
  mask power is applied to the trained model without retraining.
* ``candidates``: the denoiser variants compared to pick the default (mlp magnitude
  regression as before, varied training noise, ratio-mask estimation, wider context, conv
  2-D, more mixes, the phase-sensitive mask, a mask power below 1), each trained on the same
  clips and scored on the three conditions. The default itself was chosen on validation
  voices and noises, not on these test conditions (docs/audio.md).
* ``speed``: seconds of audio denoised per second on one thread (``torch.set_num_threads(1)``),
  whole-file calls, by wall time and by the process's CPU time (on a shared machine the wall
  time includes waiting for a core), for the default and each candidate architecture.
* ``detect``: the DCASE 2020 Task 2 baseline-style detector (log-mel 128 x 5 frames,
  MLP 4 x 128 with an 8-d code) and the conv 2-D variant on log-mel patches, trained on
  generated normal machine clips; ROC-AUC and pAUC (p = 0.1, DCASE's uncorrected
  definition) per fault kind at the chosen fault severities.

Run::

    python benchmarks/audio.py --parts denoise --threads 1     # the tables of docs/audio.md
    python benchmarks/audio.py --parts validation --epochs 8 --threads 1   # how the default was chosen (round 2)
    python benchmarks/audio.py --parts validation --epochs 8 --threads 1 --val-clips 10 --candidates round1
    python benchmarks/audio.py --parts candidates --threads 2
    python benchmarks/audio.py --parts detect --severity 0.3 1.0
    python benchmarks/audio.py --quick                          # small smoke run
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

warnings.filterwarnings("ignore")

SNRS = (0.0, 5.0, 10.0)
SR = 8000
CONDITIONS = ("seen speaker + seen noise", "unseen speakers + seen noise", "unseen speakers + unseen noise")
# candidate denoisers: SpeechDenoiser settings (the default is whichever wins; see docs/audio.md)
# ratio-mask candidates: the bounded magnitude ratio, as estimated, 2 mixes per clip (the earlier default)
_RATIO: dict[str, Any] = {"output": "mask", "mask_target": "ratio", "mask_power": 1.0, "mixes": 2}
CANDIDATES: dict[str, dict[str, Any]] = {
    "mlp magnitude, white/pink/brown (first default)": {"output": "magnitude", "mixes": 2,
                                                        "noise_sources": ("white", "pink", "brown")},
    "mlp magnitude, varied noise": {"output": "magnitude", "mixes": 2},
    "mlp ratio mask, 5 frames": {**_RATIO, "n_frames": 5},
    "mlp ratio mask, 11 frames (previous default)": {**_RATIO, "n_frames": 11},
    "conv 2-D ratio mask, 8 frames": {**_RATIO, "model": "conv", "n_frames": 8, "latent_dim": 128},
    "mlp ratio mask, 11 frames, 4 mixes": {**_RATIO, "mixes": 4},
    "mlp phase-sensitive mask, 4 mixes": {"mask_power": 1.0},
    "mlp phase-sensitive mask, 4 mixes, mask power 0.8 (default)": {},
}


def _md(title: str, header: list[str], rows: list[list[Any]]) -> str:
    fmt = lambda v: f"{v:.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = [f"\n{title}\n", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


# --- denoising ----------------------------------------------------------------------------

def _clip(f: Path, seconds: float) -> np.ndarray:
    """A clean clip at 8 kHz, at most ``seconds`` long (short clips keep the CPU budget)."""
    from aekit.audio.io import load_audio

    y = load_audio(f, sr=SR)[0]
    return y[: int(seconds * SR)]


def _spread(files: list[Path], n: int, min_seconds: float = 1.5) -> list[Path]:
    """``n`` of ``files`` at least ``min_seconds`` long, evenly spaced over the list (stable):
    prompts of a fraction of a second give unreliable PESQ and STOI."""
    import soundfile as sf

    long = [f for f in files if sf.info(str(f)).duration >= min_seconds]
    idx = np.linspace(0, len(long) - 1, min(n, len(long))).round().astype(int)
    return [long[i] for i in idx]


def _data(args: argparse.Namespace) -> tuple[list[np.ndarray], dict[str, list[np.ndarray]], dict[str, Any]]:
    """Training clips, the test clips of each condition, and the split summary.

    Training: ``--train-per-speaker`` clips of each synthetic voice and ``--asterisk-factor``
    times as many of each real speaker. Test conditions: ``--test-clips`` (seen speaker) and
    ``--unseen-clips`` (unseen speakers) clips, half of them real speech (clips of at least
    1.5 s spread over the real speakers' held-out files) and half one clip of each of as many
    synthetic voices, voice ``k`` reading sentence ``k`` (so the voices do not all read the same one).
    """
    from aekit.audio.speech import speaker_split, training_mix

    split = speaker_split()
    n_tr, n_seen, n_unseen = (2, 4, 4) if args.quick else (args.train_per_speaker, args.test_clips, args.unseen_clips)

    def real(part: dict[str, list[Path]]) -> list[Path]:
        return [f for sp, fs in part.items() if sp.startswith("asterisk:") for f in fs]

    def synthetic(part: dict[str, list[Path]], n: int) -> list[list[Path]]:
        return [fs[:n] for sp, fs in part.items() if sp.startswith("espeak:")]

    # the mix `aekit audio train-denoiser` takes too: real speakers first, then every synthetic voice
    train_files = [f for fs in training_mix(split.train, n_tr, args.asterisk_factor).values() for f in fs]
    train = [_clip(f, args.max_seconds) for f in train_files]

    def pick(part: dict[str, list[Path]], n: int) -> tuple[list[Path], list[str]]:
        voices = synthetic(part, None)  # type: ignore[arg-type]
        names = [sp for sp in part if sp.startswith("espeak:")]
        step = max(1, len(voices) // (n // 2))
        chosen_voices = [(names[k], fs[(k // step) % len(fs)]) for k, fs in enumerate(voices)][::step][: n // 2]
        reals = _spread(real(part), n - len(chosen_voices))
        speakers = [next(sp for sp, fs in part.items() if f in fs) for f in reals] + [v for v, _ in chosen_voices]
        return reals + [f for _, f in chosen_voices], speakers

    seen_files, seen_speakers = pick(split.seen_test, n_seen)
    unseen_files, unseen_speakers = pick(split.unseen_test, n_unseen)
    seen = [_clip(f, args.max_seconds) for f in seen_files]
    unseen = [_clip(f, args.max_seconds) for f in unseen_files]
    info = split.summary()
    info.update(train_clips_used=len(train), train_audio_s=sum(map(len, train)) / SR,
                test_clips={CONDITIONS[0]: len(seen), CONDITIONS[1]: len(unseen), CONDITIONS[2]: len(unseen)},
                test_speakers={"seen": dict(zip(*np.unique(seen_speakers, return_counts=True))),
                               "unseen": dict(zip(*np.unique(unseen_speakers, return_counts=True)))},
                test_files={"seen": [str(f) for f in seen_files], "unseen": [str(f) for f in unseen_files]})
    info["test_speakers"] = {k: {str(a): int(b) for a, b in v.items()} for k, v in info["test_speakers"].items()}
    return train, {CONDITIONS[0]: seen, CONDITIONS[1]: unseen, CONDITIONS[2]: unseen}, info


def _noises(condition: str) -> tuple[str, ...]:
    from aekit.audio.noise import TRAIN_NOISES, UNSEEN_NOISES

    return UNSEEN_NOISES if condition == CONDITIONS[2] else TRAIN_NOISES


def _methods(den: Any, with_baselines: bool = True) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {"noisy input": lambda x: x, "aekit default": den.denoise}
    return {**methods, **_baselines()} if with_baselines else methods


def _baselines() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """The methods aekit is compared with (noisereduce only when installed)."""
    from aekit.audio.baselines import spectral_subtraction, wiener_filter

    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    try:
        import noisereduce as nr

        methods["noisereduce (stationary)"] = lambda x: nr.reduce_noise(y=x, sr=SR, stationary=True, n_jobs=1)
        methods["noisereduce (non-stationary)"] = lambda x: nr.reduce_noise(y=x, sr=SR, stationary=False, n_jobs=1)
    except ImportError:
        print("noisereduce is not installed (pip install aekit[bench]); its rows are left out", flush=True)
    methods["Wiener (STFT, decision-directed)"] = wiener_filter
    methods["spectral subtraction"] = spectral_subtraction
    return methods


def _score(methods: dict[str, Callable[[np.ndarray], np.ndarray]], tests: dict[str, list[np.ndarray]],
           seed: int = 123) -> list[dict[str, Any]]:
    """One row per (condition, SNR, noise kind, method): mean PESQ, STOI, SI-SDR gain over the
    clips, and each clip's three numbers (``per_clip``, clips in the condition's order)."""
    from aekit.audio.metrics import pesq_score, si_sdr, stoi_score
    from aekit.audio.noise import NoiseBank, mix_at_snr

    rows = []
    for cond, clips in tests.items():
        rng = np.random.default_rng(seed)
        for snr_db in SNRS:
            for kind in _noises(cond):
                acc: dict[str, list[list[float]]] = {m: [] for m in methods}
                for i, y in enumerate(clips):
                    others = [c for j, c in enumerate(clips) if j != i]  # babble: other clips of these speakers
                    x = mix_at_snr(y, NoiseBank([kind], SR, others).sample(len(y), rng), snr_db)
                    base = si_sdr(y, x)
                    for name, fn in methods.items():
                        out = fn(x)
                        p, s = pesq_score(y, out, SR), stoi_score(y, out, SR)
                        acc[name].append([np.nan if p is None else p, np.nan if s is None else s, si_sdr(y, out) - base])
                for name, vals in acc.items():
                    a = np.asarray(vals, dtype=float)
                    m = np.nanmean(a, axis=0)
                    rows.append({"condition": cond, "snr_db": snr_db, "noise": kind, "method": name,
                                 "pesq": m[0], "stoi": m[1], "si_sdr_gain": m[2], "clips": len(clips),
                                 "per_clip": a.tolist()})
    return rows


def _mean(rows: list[dict[str, Any]], **match: Any) -> dict[str, float]:
    sel = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return {k: float(np.mean([r[k] for r in sel])) for k in ("pesq", "stoi", "si_sdr_gain")}


def _print_tables(rows: list[dict[str, Any]]) -> None:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for cond in CONDITIONS:
        table, kinds = [], list(dict.fromkeys(r["noise"] for r in rows if r["condition"] == cond))
        for snr_db in SNRS:
            for m in methods:
                v = _mean(rows, condition=cond, snr_db=snr_db, method=m)
                table.append([f"{snr_db:.0f}", m, v["pesq"], v["stoi"], v["si_sdr_gain"]])
        print(_md(f"{cond}: by input SNR (mean over {', '.join(kinds)})",
                  ["SNR (dB)", "method", "PESQ", "STOI", "SI-SDR gain"], table), flush=True)
        table = []
        for kind in kinds:
            for m in methods:
                v = _mean(rows, condition=cond, noise=kind, method=m)
                table.append([kind, m, v["pesq"], v["stoi"], v["si_sdr_gain"]])
        print(_md(f"{cond}: by noise kind (mean over 0/5/10 dB)", ["noise", "method", "PESQ", "STOI", "SI-SDR gain"],
                  table), flush=True)


def _targets(rows: list[dict[str, Any]]) -> list[str]:
    """Where aekit's default is not best on PESQ / STOI, or falls below the noisy input (cell = condition x SNR)."""
    misses = []
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for cond in CONDITIONS:
        for snr_db in SNRS:
            v = {m: _mean(rows, condition=cond, snr_db=snr_db, method=m) for m in methods}
            for metric in ("pesq", "stoi"):
                best = max(v, key=lambda m: v[m][metric])
                if best != "aekit default":
                    misses.append(f"{cond}, {snr_db:.0f} dB, {metric.upper()}: {best} {v[best][metric]:.3f} > "
                                  f"aekit {v['aekit default'][metric]:.3f}")
                if v["aekit default"][metric] < v["noisy input"][metric]:
                    misses.append(f"{cond}, {snr_db:.0f} dB, {metric.upper()}: aekit below the noisy input")
    return misses


def _per_clip(rows: list[dict[str, Any]], method: str, **match: Any) -> np.ndarray:
    """``(clips, 3)``: each clip's PESQ, STOI, SI-SDR gain for ``method``, averaged over the rows matching
    ``match`` (noise kinds and/or SNRs of one condition: the same clips in the same order)."""
    sel = [np.asarray(r["per_clip"], dtype=float) for r in rows
           if r["method"] == method and all(r[k] == v for k, v in match.items())]
    return np.nanmean(np.stack(sel), axis=0)


def _ci(d: np.ndarray, n_boot: int = 4000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of the paired per-clip differences ``d`` and its 95 % bootstrap interval (clips resampled)."""
    d = d[np.isfinite(d)]
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    return float(d.mean()), float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))


def _margins(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """aekit's default minus the best baseline (best by the mean in that cell) and minus the noisy
    input, per condition x SNR and per condition x noise kind, for PESQ and STOI: the mean per-clip
    difference and a 95 % paired bootstrap interval over the clips. A "win" whose interval lies
    above 0 is one the clips bear out; one whose interval spans 0 is within their noise."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    baselines = [m for m in methods if m not in ("noisy input", "aekit default")]
    out = []
    for cond in CONDITIONS:
        kinds = list(dict.fromkeys(r["noise"] for r in rows if r["condition"] == cond))
        cells = [("snr_db", v) for v in SNRS] + [("noise", k) for k in kinds]
        for key, value in cells:
            match = {"condition": cond, key: value}
            clips = {m: _per_clip(rows, m, **match) for m in methods}
            for j, metric in enumerate(("pesq", "stoi")):
                best = max(baselines, key=lambda m: np.nanmean(clips[m][:, j]))
                ours = clips["aekit default"][:, j]
                out.append({"condition": cond, key: value, "metric": metric, "aekit": float(np.nanmean(ours)),
                            "best_baseline": best, "baseline": float(np.nanmean(clips[best][:, j])),
                            "noisy": float(np.nanmean(clips["noisy input"][:, j])),
                            "vs_best": _ci(ours - clips[best][:, j]), "vs_noisy": _ci(ours - clips["noisy input"][:, j]),
                            "clips": len(ours)})
    return out


def _print_margins(margins: list[dict[str, Any]]) -> None:
    fmt = lambda c: f"{c[0]:+.3f} [{c[1]:+.3f}, {c[2]:+.3f}]"  # noqa: E731
    for cond in CONDITIONS:
        table = [[f"{m['snr_db']:.0f} dB" if "snr_db" in m else m["noise"], m["metric"].upper(), f"{m['noisy']:.3f}",
                  f"{m['aekit']:.3f}", f"{m['best_baseline']} {m['baseline']:.3f}", fmt(m["vs_best"]), fmt(m["vs_noisy"])]
                 for m in margins if m["condition"] == cond]
        n = next(m["clips"] for m in margins if m["condition"] == cond)
        print(_md(f"{cond}: aekit minus the best baseline and minus the noisy input, mean per-clip difference "
                  f"[95 % paired bootstrap interval over the {n} clips]",
                  ["cell", "metric", "noisy", "aekit", "best baseline", "aekit - best", "aekit - noisy"], table), flush=True)
    cells = [m for m in margins if "snr_db" in m]
    sure = sum(m["vs_best"][1] > 0 for m in cells)
    print(f"\ncondition x SNR cells where aekit's lead over the best baseline has a 95 % interval above 0: "
          f"{sure} of {len(cells)}", flush=True)


def _speed(den: Any, clips: list[np.ndarray]) -> dict[str, float]:
    import torch

    from aekit.audio.noise import coloured_noise, mix_at_snr

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    noisy = [mix_at_snr(y, coloured_noise("pink", len(y), rng), 5.0) for y in clips]
    den.denoise(noisy[0])  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for x in noisy:
        den.denoise(x)
    # on a shared machine wall time includes waiting for a core; the process's CPU time does not
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    torch.set_num_threads(threads)
    audio_s = sum(map(len, clips)) / SR
    return {"audio_seconds": audio_s, "wall_seconds": wall, "cpu_seconds": cpu, "x_realtime": audio_s / wall,
            "x_realtime_cpu": audio_s / cpu}


def bench_speed(args: argparse.Namespace) -> dict[str, Any]:
    """Inference speed of the default and every candidate architecture (weights after one short
    epoch: speed does not depend on training), on the unseen-speaker test clips."""
    train, tests, _ = _data(args)
    out, table = {}, []
    for name, params in {"aekit default": {}, **CANDIDATES}.items():
        den, _ = _fit(argparse.Namespace(epochs=1), train[:8], **params)
        sp = _speed(den, tests[CONDITIONS[1]])
        out[name] = sp
        table.append([name, sp["audio_seconds"], sp["wall_seconds"], sp["cpu_seconds"], sp["x_realtime"], sp["x_realtime_cpu"]])
    print(_md("Denoising inference speed, one thread (x real time = audio seconds per second)",
              ["model", "audio (s)", "wall (s)", "CPU (s)", "x real time (wall)", "x real time (CPU)"], table), flush=True)
    return out


def _fit(args: argparse.Namespace, train: list[np.ndarray], **params: Any) -> tuple[Any, float]:
    from aekit.apps.speech import SpeechDenoiser

    t0 = time.perf_counter()
    den = SpeechDenoiser(max_epochs=args.epochs, random_state=0, verbose=False, **params).fit(train)
    return den, time.perf_counter() - t0


def _param(text: str) -> tuple[str, Any]:
    """``key=value`` with a JSON value (``snr_db=[-5,20]``), else the value as a string."""
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def bench_denoise(args: argparse.Namespace) -> dict[str, Any]:
    train, tests, info = _data(args)
    print("speaker split:", json.dumps(info), flush=True)
    den, fit_s = _fit(args, train, **dict(_param(p) for p in args.param))
    print(f"aekit default ({den.model}, output={den.output}, {den.n_frames} frames): trained on {len(train)} clips "
          f"({info['train_audio_s']:.0f} s of audio, {args.epochs} epochs) in {fit_s:.0f} s", flush=True)
    rows = _score(_methods(den), tests)
    _print_tables(rows)
    margins = _margins(rows)
    _print_margins(margins)
    misses = _targets(rows)
    print("\ntargets (aekit best on PESQ and STOI, never below the noisy input):",
          "all met" if not misses else "NOT met in " + str(len(misses)) + " cells", flush=True)
    for m in misses:
        print("  -", m)
    speed = _speed(den, tests[CONDITIONS[1]])
    print(_md("Denoising inference speed (1 CPU thread)", ["audio (s)", "wall (s)", "CPU (s)", "x real time (wall)",
              "x real time (CPU)"], [[speed["audio_seconds"], speed["wall_seconds"], speed["cpu_seconds"],
                                      speed["x_realtime"], speed["x_realtime_cpu"]]]), flush=True)
    return {"split": info, "fit_seconds": fit_s, "rows": rows, "margins": margins, "misses": misses, "speed": speed}


def bench_candidates(args: argparse.Namespace) -> dict[str, Any]:
    train, tests, info = _data(args)
    print("speaker split:", json.dumps(info), flush=True)
    out: dict[str, Any] = {"split": info, "candidates": {}}
    table = []
    for name, params in CANDIDATES.items():
        den, fit_s = _fit(args, train, **params)
        rows = _score(_methods(den, with_baselines=False), tests)
        speed = _speed(den, tests[CONDITIONS[1]])
        out["candidates"][name] = {"params": params, "fit_seconds": fit_s, "rows": rows, "speed": speed}
        for cond in CONDITIONS:
            v, n = _mean(rows, condition=cond, method="aekit default"), _mean(rows, condition=cond, method="noisy input")
            table.append([name, cond, v["pesq"], v["stoi"], v["si_sdr_gain"], n["pesq"], n["stoi"]])
        print(f"{name}: fit {fit_s:.0f} s, {speed['x_realtime']:.0f}x real time on one thread "
              f"({speed['x_realtime_cpu']:.0f}x by CPU time)", flush=True)
    print(_md("Candidate denoisers (mean over 0/5/10 dB and the condition's noise kinds)",
              ["candidate", "condition", "PESQ", "STOI", "SI-SDR gain", "noisy PESQ", "noisy STOI"], table), flush=True)
    return out


# --- validation: how the default is chosen, never on the test conditions --------------------

# validation voices: one training base voice held out of training whole (all its variants);
# VAL_VOICES are three of its voices and VAL_EXTRA_VOICES two with variants no side of
# speaker_split() uses (validation only); they read sentences 6 and 7, which the benchmark never trains on
VAL_BASE = "en-029"
VAL_VOICES = ("espeak:en-029", "espeak:en-029+m3", "espeak:en-029+f2")
VAL_EXTRA_VOICES = ("espeak:en-029+m4", "espeak:en-029+m6")
# the training kinds plus three kinds that are neither trained on nor in the unseen-noise test
VAL_NOISES = ("white", "pink", "brown", "babble", "machine", "colour15", "modwhite", "machine2")
# the espeak-ng training variants before the second round (three per base voice; now seven)
EARLIER_VARIANTS = ("", "m3", "f2")
_EARLIER = {"train_variants": EARLIER_VARIANTS}
# first round (10 validation clips: --val-clips 10): how the current default was chosen
VALIDATION_ROUND1: dict[str, dict[str, Any]] = {
    "ratio mask, 2 mixes (previous default)": {**_RATIO, **_EARLIER},
    "phase-sensitive mask, 2 mixes": {"mixes": 2, "mask_power": 1.0, **_EARLIER},
    "ratio mask, 4 mixes": {**_RATIO, "mixes": 4, **_EARLIER},
    "phase-sensitive mask, 4 mixes": {"mask_power": 1.0, **_EARLIER},
    "phase-sensitive mask, 4 mixes, mask power 0.8 (default)": _EARLIER,
    "phase-sensitive mask, 4 mixes, mask power 0.6": {"mask_power": 0.6, **_EARLIER},
}
# second round (20 validation clips), aimed at babble / unseen voices and unseen machine noise;
# "train_variants" keeps only those espeak-ng training variants, the rest are SpeechDenoiser settings
_MACHINES = ("white", "pink", "brown", "babble", "machines")
VALIDATION_ROUND2: dict[str, dict[str, Any]] = {
    "previous default (phase-sensitive mask, 4 mixes, mask power 0.8; 3 variants per voice)": _EARLIER,
    "+ varied machines in training (noise 'machines')": {"noise_sources": _MACHINES, **_EARLIER},
    "+ 12 more training voices (7 variants per voice: the default)": {},
    "+ both": {"noise_sources": _MACHINES},
}
VALIDATION = {"round1": VALIDATION_ROUND1, "round2": VALIDATION_ROUND2,
              "round2-voices": {k: VALIDATION_ROUND2[k] for k in list(VALIDATION_ROUND2)[::2]}}


def _validation_noise(kind: str, n: int, rng: np.random.Generator, babble_clips: list[np.ndarray]) -> np.ndarray:
    """Unit-RMS noise ``(n,)``: a training kind, or one of the validation-only kinds (1/f^1.5
    noise, white noise with level swings, a 35 Hz machine with 8 harmonics and a 1.2 kHz resonance)."""
    from aekit.audio.machines import MachineConfig, machine_clip
    from aekit.audio.noise import NoiseBank, fit_length

    if kind == "colour15":
        spec, f = np.fft.rfft(rng.standard_normal(n)), np.fft.rfftfreq(n)
        f[0] = f[1]
        x = np.fft.irfft(spec * f**-0.75, n)
    elif kind == "modwhite":
        knots = max(2, int(n / SR * 3) + 2)
        level_db = np.interp(np.arange(n), np.linspace(0, n, knots), rng.uniform(-15, 0, knots))
        x = rng.standard_normal(n) * 10 ** (level_db / 20)
    elif kind == "machine2":
        cfg = MachineConfig(sr=SR, seconds=float(np.clip(n / SR, 1, 10)), shaft_hz=35.0, n_harmonics=8, resonance_hz=1200.0)
        x = fit_length(machine_clip(cfg, rng, None), n, rng)
    else:
        return NoiseBank([kind], SR, babble_clips).sample(n, rng)
    return (x / np.sqrt(np.mean(x**2))).astype(np.float32)


def _validation_data(args: argparse.Namespace, train_variants: tuple[str, ...] | None = None
                     ) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Training clips (the benchmark's, less every voice of VAL_BASE; only ``train_variants``
    when given, EARLIER_VARIANTS' voices first), validation clips and their speakers:
    ``--val-clips`` clips, half of them files of the real training speaker the benchmark never
    uses, half sentences 6 and 7 (never trained on) of VAL_VOICES then VAL_EXTRA_VOICES."""
    from aekit.audio.speech import espeak_clips, speaker_split

    split = speaker_split()
    n_tr = 2 if args.quick else args.train_per_speaker
    real = [f for sp, fs in split.train.items() if sp.startswith("asterisk:") for f in fs]
    variant = lambda sp: sp.partition("+")[2]  # noqa: E731
    synthetic = {sp: fs for sp, fs in split.train.items()
                 if sp.startswith("espeak:") and sp[len("espeak:"):].partition("+")[0] != VAL_BASE
                 and (train_variants is None or variant(sp) in train_variants)}
    order = sorted(synthetic, key=lambda sp: variant(sp) not in EARLIER_VARIANTS)  # stable: split order within
    voices = [synthetic[sp][:n_tr] for sp in order]
    train = real[: n_tr * args.asterisk_factor] + [f for fs in voices for f in fs]
    n_val = 2 if args.quick else args.val_clips
    n_real = n_val - n_val // 2
    held = {v: espeak_clips(v.split(":", 1)[1], "train") for v in VAL_VOICES + VAL_EXTRA_VOICES}
    synth = [(v, fs[i]) for v, fs in held.items() for i in (6, 7)][: n_val // 2]
    val = real[300 : 300 + n_real] + [f for _, f in synth]
    speakers = ["asterisk:Allison"] * n_real + [v for v, _ in synth]
    return [_clip(f, args.max_seconds) for f in train], [_clip(f, args.max_seconds) for f in val], speakers


def bench_validation(args: argparse.Namespace) -> dict[str, Any]:
    """The candidates of ``VALIDATION[--candidates]`` on validation mixes; a mask power is
    applied to a trained model. Each candidate is also compared with the first one (the
    reference) clip by clip: the mean per-clip difference (a clip's mixes averaged) and its
    95 % paired bootstrap interval."""
    from aekit.audio.metrics import pesq_score, si_sdr, stoi_score
    from aekit.audio.noise import mix_at_snr

    candidates = VALIDATION[args.candidates]
    train, val, speakers = _validation_data(args)
    rng, mixes = np.random.default_rng(7), []
    for snr_db in SNRS:
        for kind in VAL_NOISES:
            for i, y in enumerate(val):
                others = [c for j, c in enumerate(val) if j != i]
                mixes.append((snr_db, kind, i, mix_at_snr(y, _validation_noise(kind, len(y), rng, others), snr_db)))
    print(f"validation: {len(train)} training clips, {len(val)} validation clips "
          f"({json.dumps({str(k): int(v) for k, v in zip(*np.unique(speakers, return_counts=True))})}), "
          f"{len(mixes)} mixes", flush=True)

    def score(fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """(mixes, 3): PESQ, STOI, SI-SDR gain."""
        rows = []
        for _, _, i, x in mixes:
            y, out = val[i], fn(x)
            p, s = pesq_score(y, out, SR), stoi_score(y, out, SR)
            rows.append([np.nan if p is None else p, np.nan if s is None else s, si_sdr(y, out) - si_sdr(y, x)])
        return np.asarray(rows, dtype=float)

    snr = np.array([m[0] for m in mixes])
    kinds = np.array([m[1] for m in mixes])
    clip = np.array([m[2] for m in mixes])
    base = {name: score(fn) for name, fn in {"noisy input": lambda x: x, **_baselines()}.items()}
    by_snr = lambda a: np.array([np.nanmean(a[snr == s], 0) for s in SNRS])  # noqa: E731
    by_kind = lambda a: np.array([np.nanmean(a[kinds == k], 0) for k in VAL_NOISES])  # noqa: E731
    by_clip = lambda a, sel=True: np.array([np.nanmean(a[(clip == i) & sel], 0) for i in range(len(val))])  # noqa: E731
    best_snr = np.max([by_snr(a) for n, a in base.items() if n != "noisy input"], axis=0)
    best_kind = np.max([by_kind(a) for n, a in base.items() if n != "noisy input"], axis=0)
    out: dict[str, Any] = {"baselines": {n: np.nanmean(a, 0).tolist() for n, a in base.items()}, "candidates": {},
                           "speakers": speakers, "by_kind": {n: by_kind(a).tolist() for n, a in base.items()}}
    table = [[n, *np.nanmean(a, 0), "", "", "", "", ""] for n, a in base.items()]
    kind_table = [[k, f"{np.nanmean(base['noisy input'][kinds == k, 0]):.2f} / {np.nanmean(base['noisy input'][kinds == k, 1]):.3f}",
                   f"{best_kind[j, 0]:.2f} / {best_kind[j, 1]:.3f}"] for j, k in enumerate(VAL_NOISES)]
    models: dict[str, Any] = {}
    reference: np.ndarray | None = None
    for name, params in candidates.items():
        train_params = {k: v for k, v in params.items() if k not in ("mask_power", "train_variants")}
        key = json.dumps({k: v for k, v in params.items() if k != "mask_power"}, sort_keys=True, default=str)
        if key not in models:  # a mask power needs no retraining
            cand_train = _validation_data(args, params["train_variants"])[0] if "train_variants" in params else train
            models[key], fit_s = _fit(args, cand_train, **train_params)
            print(f"{name}: trained on {len(cand_train)} clips in {fit_s:.0f} s", flush=True)
        den = models[key]
        den.mask_power = params.get("mask_power", type(den).params["mask_power"])
        a = score(den.denoise)
        margin = (by_snr(a) - best_snr).min(axis=0)  # the worst SNR row, against the best baseline
        vs_noisy = (by_kind(a) - by_kind(base["noisy input"]))[:, 1].min()
        per_clip = np.stack([by_clip(a, kinds == k) for k in VAL_NOISES])  # (kinds, clips, 3)
        reference = per_clip if reference is None else reference
        vs_ref = [_ci(per_clip.mean(0)[:, j] - reference.mean(0)[:, j]) for j in (0, 1)]
        # per noise kind, STOI: where a candidate aimed at one kind (babble, machines) gains or loses
        vs_ref_kind = {k: _ci(per_clip[n, :, 1] - reference[n, :, 1]) for n, k in enumerate(VAL_NOISES)}
        out["candidates"][name] = {"params": params, "mean": np.nanmean(a, 0).tolist(), "pesq_margin": margin[0],
                                   "stoi_margin": margin[1], "worst_stoi_vs_noisy_by_kind": vs_noisy,
                                   "vs_reference": {"pesq": vs_ref[0], "stoi": vs_ref[1]}, "by_kind": by_kind(a).tolist(),
                                   "stoi_vs_reference_by_kind": vs_ref_kind, "per_clip_by_kind": per_clip.tolist()}
        table.append([name, *np.nanmean(a, 0), f"{margin[0]:+.3f}", f"{margin[1]:+.4f}", f"{vs_noisy:+.3f}",
                      *(f"{c[0]:+.3f} [{c[1]:+.3f}, {c[2]:+.3f}]" for c in vs_ref)])
        for j, row in enumerate(by_kind(a)):
            c = vs_ref_kind[VAL_NOISES[j]]
            kind_table[j].append(f"{row[0]:.2f} / {row[1]:.3f}" + (f" ({c[0]:+.3f} [{c[1]:+.3f}, {c[2]:+.3f}])"
                                                                 if len(out["candidates"]) > 1 else ""))
        print(f"{name}: done", flush=True)
    print(_md("Validation (held-out training voices, validation-only noises; mean over 0/5/10 dB and the kinds)",
              ["method", "PESQ", "STOI", "SI-SDR gain", "PESQ margin", "STOI margin", "worst STOI vs noisy (kind)",
               "PESQ vs first [95 %]", "STOI vs first [95 %]"], table), flush=True)
    print(_md("Validation by noise kind, PESQ / STOI (mean over 0/5/10 dB); in brackets the STOI difference "
              "from the first candidate with its 95 % paired bootstrap interval over the clips",
              ["noise", "noisy input", "best baseline", *candidates], kind_table), flush=True)
    return out


# --- detection ----------------------------------------------------------------------------

def bench_detect(args: argparse.Namespace) -> dict[str, Any]:
    from aekit.apps.sound import AudioAnomalyDetector, dcase_files, evaluate
    from aekit.audio.machines import MachineConfig, write_dataset

    out: dict[str, Any] = {}
    rows = []
    n_train, n_norm, n_fault = (30, 20, 8) if args.quick else (args.n_train, args.n_test_normal, args.n_test_fault)
    for severity in args.severity:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = MachineConfig(severity=severity)
            root = write_dataset(Path(tmp) / "machine", n_train=n_train, n_test_normal=n_norm,
                                 n_test_per_fault=n_fault, cfg=cfg, seed=7)
            for model in args.models:
                t0 = time.perf_counter()
                det = AudioAnomalyDetector(model=model, max_epochs=args.detect_epochs, random_state=0).fit(dcase_files(root, "train"))
                res = evaluate(det, dcase_files(root, "test"))
                res.pop("scores")
                res["seconds"] = time.perf_counter() - t0
                out[f"{model}@{severity}"] = res
                for kind, r in res.items():
                    if kind != "seconds":
                        rows.append([f"{severity:g}", model, kind, r["auc"], r["pauc"]])
                print(f"detector {model} severity {severity:g}: {res['seconds']:.0f} s", flush=True)
    print(_md(f"Machine-sound detection ({n_train} normal training clips of 2 s; test {n_norm} normal + "
              f"{n_fault} per fault kind)", ["severity", "model", "fault kind", "ROC-AUC", "pAUC (p=0.1)"], rows))
    return out


def main() -> None:
    from aekit.audio.speech import REAL_SPEAKER_FACTOR, TRAIN_CLIPS_PER_VOICE  # the command's mix

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", nargs="+", default=["denoise", "detect"],
                    choices=["denoise", "validation", "candidates", "speed", "detect"])
    ap.add_argument("--epochs", type=int, default=10, help="denoiser epochs")
    ap.add_argument("--train-per-speaker", type=int, default=TRAIN_CLIPS_PER_VOICE, help="training clips per synthetic speaker")
    ap.add_argument("--test-clips", type=int, default=20, help="seen-speaker test clips (half real, half synthetic voices)")
    ap.add_argument("--unseen-clips", type=int, default=32,
                    help="unseen-speaker test clips per condition (half real, half one clip of each of as many test voices)")
    ap.add_argument("--asterisk-factor", type=int, default=REAL_SPEAKER_FACTOR,
                    help="clips per real speaker = this x the per-speaker count")
    ap.add_argument("--val-clips", type=int, default=20, help="validation clips (half real, half held-out voices)")
    ap.add_argument("--candidates", default="round2", choices=sorted(VALIDATION), help="validation part: which candidates")
    ap.add_argument("--max-seconds", type=float, default=3.0, help="clips are cut to this length")
    ap.add_argument("--param", nargs="*", default=[], help="denoise part: SpeechDenoiser settings other than the defaults, key=json")
    ap.add_argument("--detect-epochs", type=int, default=30, help="detector epochs")
    ap.add_argument("--n-train", type=int, default=100, help="normal training clips per machine")
    ap.add_argument("--n-test-normal", type=int, default=50, help="normal test clips")
    ap.add_argument("--n-test-fault", type=int, default=20, help="test clips per fault kind")
    ap.add_argument("--models", nargs="+", default=["mlp", "conv"], choices=["mlp", "conv"])
    ap.add_argument("--severity", nargs="+", type=float, default=[0.1, 0.25, 1.0], help="fault severities")
    ap.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads for training (default: torch's)")
    ap.add_argument("--out", type=Path, default=None, help="write all numbers as JSON here")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    results: dict[str, Any] = {}
    if "denoise" in args.parts:
        results["denoise"] = bench_denoise(args)
    if "validation" in args.parts:
        results["validation"] = bench_validation(args)
    if "candidates" in args.parts:
        results["candidates"] = bench_candidates(args)
    if "speed" in args.parts:
        results["speed"] = bench_speed(args)
    if "detect" in args.parts:
        results["detect"] = bench_detect(args)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
