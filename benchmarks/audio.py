"""Audio benchmark: speech denoising against classical baselines, machine-sound detection.

* ``denoise``: :class:`aekit.SpeechDenoiser` trained on clean speech
  (Asterisk prompts of the train split + espeak-ng train voices/sentences) mixed with
  white, pink and brown noise; evaluated on held-out files (Asterisk test split +
  espeak-ng test voices/sentences, never seen in training) at 0, 5 and 10 dB against
  power spectral subtraction, an STFT Wiener filter (decision-directed a-priori SNR) and
  ``scipy.signal.wiener``. Mean SNR / SI-SDR improvement in dB, plus PESQ (narrow-band)
  and STOI of the outputs when ``pesq`` / ``pystoi`` are installed.
* ``speed``: denoising inference, seconds of audio processed per second of wall time on
  one CPU thread (``torch.set_num_threads(1)``), whole-file calls on the test clips.
* ``detect``: the DCASE 2020 Task 2 baseline-style detector (log-mel 128 x 5 frames,
  MLP 4 x 128 with an 8-d code) and the conv 2-D variant on log-mel patches, trained on
  generated normal machine clips; ROC-AUC and pAUC (p = 0.1, DCASE's uncorrected
  definition) per fault kind at the chosen fault severities.

Run::

    python benchmarks/audio.py                        # everything
    python benchmarks/audio.py --parts detect --severity 0.3 1.0
    python benchmarks/audio.py --quick                # small smoke run
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
NOISES = ("white", "pink", "brown")


def _md(title: str, header: list[str], rows: list[list[Any]]) -> str:
    fmt = lambda v: f"{v:.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = [f"\n{title}\n", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


# --- denoising ----------------------------------------------------------------------------

def _speech(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    """Asterisk train files + espeak-ng train voices; Asterisk test files + espeak-ng test voices."""
    from aekit.audio.speech import asterisk_split, espeak_split

    a_tr, a_te = asterisk_split()
    e_tr, e_te = espeak_split()
    if args.quick:
        return a_tr[:40] + e_tr[:8], a_te[:6] + e_te[:2]
    return a_tr[: args.train_clips] + e_tr, a_te[: args.test_clips] + e_te


def _methods(den: Any) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    from aekit.audio.baselines import spectral_subtraction, wiener_filter

    return {
        "noisy input": lambda x: x,
        "aekit denoising AE": den.denoise,
        "spectral subtraction": spectral_subtraction,
        "Wiener (STFT, decision-directed)": wiener_filter,
        "Wiener (scipy.signal.wiener)": lambda x: wiener_filter(x, method="scipy"),
    }


def bench_denoise(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from aekit.apps.speech import SpeechDenoiser
    from aekit.audio.io import load_audio
    from aekit.audio.metrics import pesq_score, si_sdr, snr, stoi_score
    from aekit.audio.noise import coloured_noise, mix_at_snr

    train, test = _speech(args)
    t0 = time.perf_counter()
    den = SpeechDenoiser(max_epochs=args.epochs, random_state=0).fit(train)
    fit_s = time.perf_counter() - t0
    print(f"denoiser: trained on {len(train)} clips in {fit_s:.0f} s; testing on {len(test)} held-out clips", flush=True)
    clean = [load_audio(f, sr=8000)[0] for f in test]
    methods = _methods(den)
    rng = np.random.default_rng(123)
    results: dict[str, Any] = {"train_clips": len(train), "test_clips": len(test), "fit_seconds": fit_s, "rows": []}
    for snr_db in SNRS:
        acc: dict[str, list[list[float]]] = {m: [] for m in methods}
        for y in clean:
            for kind in NOISES:
                x = mix_at_snr(y, coloured_noise(kind, len(y), rng), snr_db)
                base_snr, base_sdr = snr(y, x), si_sdr(y, x)
                for name, fn in methods.items():
                    out = fn(x)
                    p = pesq_score(y, out, 8000) if args.pesq else None
                    s = stoi_score(y, out, 8000) if args.pesq else None
                    acc[name].append([snr(y, out) - base_snr, si_sdr(y, out) - base_sdr,
                                      np.nan if p is None else p, np.nan if s is None else s])
        for name, vals in acc.items():
            m = np.nanmean(np.asarray(vals, dtype=float), axis=0)
            results["rows"].append({"snr_db": snr_db, "method": name, "snr_gain": m[0], "si_sdr_gain": m[1],
                                    "pesq": m[2], "stoi": m[3]})
    rows = [[f"{r['snr_db']:.0f}", r["method"], r["snr_gain"], r["si_sdr_gain"], r["pesq"], r["stoi"]]
            for r in results["rows"]]
    print(_md("Denoising held-out speech (mean over clips x {white, pink, brown} noise; gains in dB; PESQ narrow-band)",
              ["input SNR (dB)", "method", "SNR gain", "SI-SDR gain", "PESQ", "STOI"], rows), flush=True)

    # inference speed on one CPU thread
    torch.set_num_threads(1)
    audio_s = sum(len(y) for y in clean) / 8000
    noisy = [mix_at_snr(y, coloured_noise("pink", len(y), rng), 5.0) for y in clean]
    den.denoise(noisy[0])  # warm-up
    t0 = time.perf_counter()
    for x in noisy:
        den.denoise(x)
    wall = time.perf_counter() - t0
    results["speed"] = {"audio_seconds": audio_s, "wall_seconds": wall, "x_realtime": audio_s / wall}
    print(_md("Denoising inference speed (1 CPU thread)", ["audio (s)", "wall (s)", "audio s per s"],
              [[audio_s, wall, audio_s / wall]]), flush=True)
    return results


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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", nargs="+", default=["denoise", "detect"], choices=["denoise", "detect"])
    ap.add_argument("--epochs", type=int, default=10, help="denoiser epochs")
    ap.add_argument("--train-clips", type=int, default=120, help="Asterisk training files (plus all espeak train clips)")
    ap.add_argument("--test-clips", type=int, default=20, help="Asterisk test files (plus all espeak test clips)")
    ap.add_argument("--detect-epochs", type=int, default=30, help="detector epochs")
    ap.add_argument("--n-train", type=int, default=100, help="normal training clips per machine")
    ap.add_argument("--n-test-normal", type=int, default=50, help="normal test clips")
    ap.add_argument("--n-test-fault", type=int, default=20, help="test clips per fault kind")
    ap.add_argument("--models", nargs="+", default=["mlp", "conv"], choices=["mlp", "conv"])
    ap.add_argument("--severity", nargs="+", type=float, default=[0.1, 0.25, 1.0], help="fault severities")
    ap.add_argument("--no-pesq", dest="pesq", action="store_false", help="skip PESQ/STOI")
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
    if "detect" in args.parts:
        results["detect"] = bench_detect(args)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
