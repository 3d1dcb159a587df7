"""Reports opened in a real headless Chromium (Debian's, driven by Playwright).

For every kind of run (training runs of an MLP, a conv model and a VAE; a table detector
and a series detector from `aekit detect`; the reducer, image denoiser and few-shot
classifier saved by their estimators; a speech denoiser and a machine-sound detector from
the `aekit audio` commands): no console errors, every image decoded
(naturalWidth > 0), the expected sections present, no overview cell empty or a
placeholder; a screenshot of each page is written to the test's temporary folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from test_reports import cli, tiny_run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


COMMON = ["overview", "model", "curves", "metrics"]
EXPECTED = {
    "mlp": COMMON + ["reconstructions", "latent"],
    "conv": COMMON + ["reconstructions", "latent"],
    "vae": COMMON + ["reconstructions", "latent", "generative"],
    "detector": ["overview", "model", "detector"],
    "series_detector": ["overview", "config", "model", "detector"],
    "reducer": ["overview", "model", "curves"],
    "image_denoiser": ["overview", "model", "curves"],
    "fewshot": ["overview", "model"],
    "speech_denoiser": ["overview", "model"],
    "sound_detector": ["overview", "model", "sound_detection"],
}
PLACEHOLDERS = re.compile(r"^\s*(-|\(\)|none|nan)?\s*$|input shape \(\)|\s-\s\(|\(-\)", re.IGNORECASE)


def test_every_run_kind_is_covered() -> None:
    from aekit.apps.base import estimator_kinds

    assert set(estimator_kinds()) <= set(EXPECTED), sorted(estimator_kinds())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # scripts/setup.sh installs Debian's chromium and playwright; a missing browser is a failure, not a skip.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)"
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def make_run(kind: str, out: Path) -> Path:
    if kind == "mlp":
        return tiny_run(out, kind, {"family": "mlp", "hidden": [32], "latent_dim": 4})
    if kind == "conv":
        return tiny_run(out, kind, {"family": "conv", "channels": [8, 16], "latent_dim": 4})
    if kind == "vae":
        return tiny_run(out, kind, {"family": "vae", "latent_dim": 2})
    if kind in ("reducer", "image_denoiser", "fewshot"):
        return _estimator_run(kind, out)
    if kind == "speech_denoiser":  # the built-in speakers, a few clips, one epoch
        assert cli("audio", "train-denoiser", str(out / kind), "--epochs", "1", "--limit", "6", "--mixes", "1") == 0
        return out / kind
    if kind == "sound_detector":
        assert cli("audio", "make-machines", str(out / "fan"), "--n-train", "8", "--n-test-normal", "4",
                   "--n-test-per-fault", "2", "--seconds", "1") == 0
        assert cli("audio", "detect", "--audio", str(out / "fan"), "--epochs", "1", "--out", str(out / kind)) == 0
        return out / kind
    rng = np.random.default_rng(0)
    if kind == "series_detector":  # a 1-D array is a series: windows from --window/--stride
        t = np.sin(np.linspace(0, 60, 1200)) + 0.05 * rng.standard_normal(1200)
        t[600:606] += 3.0
        np.save(out / "series.npy", t.astype(np.float32))
        assert cli("detect", str(out / "series.npy"), "--window", "32", "--stride", "8", "-e", "1", "--quiet",
                   "-o", str(out / "series_detector")) == 0
        return out / "series_detector"
    import pandas as pd

    X = rng.standard_normal((300, 5))
    y = (rng.random(300) < 0.1).astype(int)
    X[y == 1] += 3.0
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(label=y)
    df.to_csv(out / "table.csv", index=False)
    assert cli("detect", str(out / "table.csv"), "--out", str(out / "detector"), "-e", "3") == 0
    return out / "detector"


def _estimator_run(kind: str, out: Path) -> Path:
    """A run folder saved by an application estimator, trained for one or two epochs on 8x8 digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.images[:300, None].astype(np.float32), digits.target[:300]
    if kind == "reducer":
        from aekit.apps.reduce import AutoencoderReducer

        est = AutoencoderReducer(n_components=2, hidden=(16,), max_epochs=2).fit(X.reshape(300, -1))
    elif kind == "image_denoiser":
        from aekit.apps.denoise import ImageDenoiser

        est = ImageDenoiser(max_epochs=1, batch_size=64).fit(X)
    else:
        from aekit.apps.fewshot import FewShotClassifier

        est = FewShotClassifier(max_epochs=1, head_steps=5, finetune_steps=0, model={"latent_dim": 4, "hidden": [16]})
        est.fit(X[:40].reshape(40, -1), y[:40], X_unlabelled=X[40:].reshape(260, -1))
    est.save(out / kind)
    return out / kind


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_report_renders_in_chromium(kind: str, browser: Any, tmp_path: Path) -> None:
    from aekit.reports.html import write_report

    page_path = write_report(make_run(kind, tmp_path))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: errors.append(f"network request: {req.url}") if not req.url.startswith(("file:", "data:")) else None)
    page.goto(page_path.resolve().as_uri())
    page.wait_for_load_state("load")
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
    sections = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
    overview = page.eval_on_selector_all("#overview td", "els => els.map(e => e.innerText)")
    shot = tmp_path / f"report-{kind}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert errors == []
    # a few-shot classifier's run keeps no per-epoch history or examples: nothing to draw
    assert (widths or kind == "fewshot") and all(w > 0 for w in widths), widths
    assert [s for s in EXPECTED[kind] if s not in sections] == [], sections
    assert len(overview) >= 8 and [c for c in overview if PLACEHOLDERS.search(c)] == [], overview
    assert shot.stat().st_size > 10_000
