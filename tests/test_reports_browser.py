"""Reports opened in a real headless Chromium (Debian's, driven by Playwright).

For an MLP run, a conv run, a VAE run and a detector run: no console errors, every
image decoded (naturalWidth > 0), the expected sections present; a screenshot of each
page is written to the test's temporary folder.
"""

from __future__ import annotations

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
}


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
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = (rng.random(300) < 0.1).astype(int)
    X[y == 1] += 3.0
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(label=y)
    df.to_csv(out / "table.csv", index=False)
    assert cli("detect", str(out / "table.csv"), "--out", str(out / "detector"), "-e", "3") == 0
    return out / "detector"


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
    shot = tmp_path / f"report-{kind}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert errors == []
    assert widths and all(w > 0 for w in widths), widths
    assert [s for s in EXPECTED[kind] if s not in sections] == [], sections
    assert shot.stat().st_size > 10_000
