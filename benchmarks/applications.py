"""Measured tables of docs/applications.md: AE vs PCA, denoiser vs classic filters, few-shot accuracy.

Each section runs the `aekit` commands listed below (the exact commands quoted in the
docs) and then prints one markdown table from the JSON files they write.

    python benchmarks/applications.py [reduce|denoise|fewshot|all] [--out runs/bench] [--skip-run]

``--skip-run`` only re-prints the tables from an earlier run's JSON files.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

COMMANDS: dict[str, list[list[str]]] = {
    "reduce": [
        ["reduce", "--data", "mnist", "--dims", "2,8,32", "--epochs", "100", "--curves", "--out", "{out}/reduce-mnist"],
        ["reduce", "--data", "fashion-mnist", "--dims", "2,8,32", "--epochs", "30", "--out", "{out}/reduce-fashion-mnist"],
    ],
    "denoise": [
        ["denoise", "--data", "mnist", "--noise", "gaussian:sigma=0.3,clip=true", "--noise", "salt_pepper:fraction=0.2",
         "--epochs", "15", "--out", "{out}/denoise-mnist"],
    ],
    "fewshot": [
        ["fewshot", "--data", "mnist", "--seeds", "0,1,2", "--epochs", "20", "--out", "{out}/fewshot-mnist"],
        ["fewshot", "--data", "fashion-mnist", "--seeds", "0,1,2", "--epochs", "10", "--limit", "20000",
         "--test-limit", "5000", "--out", "{out}/fewshot-fashion-mnist"],
    ],
}


def run(section: str, out: str) -> None:
    for argv in COMMANDS[section]:
        args = [a.format(out=out) for a in argv]
        print(f"$ aekit {' '.join(args)}", flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "aekit.cli.main", *args], check=True)
        print(f"({time.perf_counter() - start:.0f} s)", flush=True)


def tables(section: str, out: Path) -> None:
    if section == "reduce":
        print("| data | dims | PCA MSE | AE MSE |\n|---|---|---|---|")
        for name in ("mnist", "fashion-mnist"):
            f = out / f"reduce-{name}" / "reduce.json"
            if f.is_file():
                res = json.loads(f.read_text())
                for r in res["results"]:
                    print(f"| {res['data']} | {r['dims']} | {r['pca_mse']:.5f} | {r['ae_mse']:.5f} |")
        f = out / "reduce-mnist" / "reduce.json"
        if f.is_file() and "curves" in json.loads(f.read_text()):
            print("\n| function | PCA MSE (1-d) | AE MSE (1-d) |\n|---|---|---|")
            for r in json.loads(f.read_text())["curves"]:
                print(f"| y = mx^{r['power']} + c | {r['pca_mse']:.6f} | {r['ae_mse']:.6f} |")
    elif section == "denoise":
        f = out / "denoise-mnist" / "denoise.json"
        if f.is_file():
            res = json.loads(f.read_text())
            print("| noise | method | PSNR (dB) | SSIM |\n|---|---|---|---|")
            for c in res["conditions"]:
                label = ", ".join(f"{k}={v}" for k, v in c["noise"].items() if k != "kind")
                for m, v in c["metrics"].items():
                    print(f"| {c['noise']['kind']} {label} | {m} | {v['psnr']:.2f} | {v['ssim']:.3f} |")
    else:
        for name in ("mnist", "fashion-mnist"):
            f = out / f"fewshot-{name}" / "fewshot.json"
            if not f.is_file():
                continue
            res = json.loads(f.read_text())
            shots = sorted({r["n"] for r in res["summary"]})
            print(f"\n{res['data']}\n| method | " + " | ".join(f"N={n}" for n in shots) + " |")
            print("|---" * (len(shots) + 1) + "|")
            methods = list(dict.fromkeys(r["method"] for r in res["summary"]))
            cell = {(r["method"], r["n"]): f"{r['mean']:.3f} ± {r['std']:.3f}" for r in res["summary"]}
            for m in methods:
                print(f"| {m} | " + " | ".join(cell[(m, n)] for n in shots) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("section", nargs="?", default="all", choices=[*COMMANDS, "all"])
    p.add_argument("--out", default="runs/bench")
    p.add_argument("--skip-run", action="store_true")
    a = p.parse_args()
    for section in COMMANDS if a.section == "all" else [a.section]:
        if not a.skip_run:
            run(section, a.out)
        tables(section, Path(a.out))


if __name__ == "__main__":
    main()
