"""Image denoising: the autoencoder beats the noisy input, classic filters, metrics, PNG folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aekit.apps.denoise import ImageDenoiser, classic_filters, corrupt, denoise_folder, psnr, read_pngs, ssim, write_pngs
from aekit.errors import DataError, ShapeError


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().images[:, None].astype(np.float32)  # 0..16


@pytest.fixture(scope="module")
def denoiser(digits) -> ImageDenoiser:
    return ImageDenoiser(noise=[{"kind": "gaussian", "sigma": 0.3, "clip": True}], max_epochs=12, batch_size=64, random_state=0).fit(digits[:1400])


def test_denoiser_improves_psnr_on_held_out_digits(denoiser, digits) -> None:
    report = denoiser.evaluate(digits[1400:], seed=5)
    m = report.metrics
    assert set(m) == {"noisy", "mean", "median", "closing-opening", "autoencoder"}
    assert m["autoencoder"]["psnr"] > m["noisy"]["psnr"] + 2.0
    assert m["autoencoder"]["ssim"] > m["noisy"]["ssim"]
    assert report.outputs["autoencoder"].shape == digits[1400:].shape


def test_transform_keeps_units_and_checks_shape(denoiser, digits) -> None:
    out = denoiser.transform(digits[:5])
    assert out.shape == (5, 1, 8, 8) and out.min() >= -0.01 and out.max() <= 16.01
    with pytest.raises(ShapeError, match="trained on"):
        denoiser.transform(np.zeros((2, 1, 9, 9)))


def test_folder_of_pngs_round_trip(denoiser, digits, tmp_path: Path) -> None:
    denoiser.save(tmp_path / "model")
    noisy = corrupt(digits[1400:1404] / 16, [{"kind": "gaussian", "sigma": 0.3}], seed=2)
    write_pngs(noisy, [f"img{i}.png" for i in range(4)], tmp_path / "in")
    out = denoise_folder(tmp_path / "model", tmp_path / "in", tmp_path / "out")
    assert [p.name for p in out] == [f"img{i}.png" for i in range(4)]
    _, clean_out = read_pngs(tmp_path / "out")
    _, noisy_in = read_pngs(tmp_path / "in")
    clean = digits[1400:1404] / 16
    assert psnr(clean, clean_out).mean() > psnr(clean, noisy_in).mean()
    write_pngs(np.zeros((1, 1, 5, 5)), ["small.png"], tmp_path / "bad")
    with pytest.raises(ShapeError, match="expects 8x8"):
        denoise_folder(tmp_path / "model", tmp_path / "bad", tmp_path / "out2")
    with pytest.raises(DataError, match="no .png"):
        denoise_folder(tmp_path / "model", tmp_path / "model", tmp_path / "out3")


def test_classic_filters(rng) -> None:
    X = np.zeros((2, 1, 9, 9), dtype=np.float32)
    X[0, 0, 4, 4] = 1.0  # an isolated "salt" pixel on black
    X[1] = 1.0
    X[1, 0, 2, 6] = 0.0  # an isolated "pepper" pixel on white
    f = classic_filters(X)
    assert set(f) == {"mean", "median", "closing-opening"}
    assert all(v.shape == X.shape for v in f.values())
    assert f["median"][0].max() == 0.0 and f["median"][1].min() == 1.0
    assert f["mean"][0, 0, 4, 4] == pytest.approx(1 / 9)
    # one filter removes both kinds of speck: the closing fills the pepper, the opening then removes the salt
    assert f["closing-opening"][0].max() == 0.0 and f["closing-opening"][1].min() == 1.0
    from scipy import ndimage

    from aekit.apps.denoise import closing_opening

    img = rng.random((3, 1, 12, 12)).astype(np.float32)  # grey levels: the same as scipy's closing, then opening
    win = (1, 1, 5, 5)
    expected = ndimage.grey_opening(ndimage.grey_closing(img, size=win, mode="reflect"), size=win, mode="reflect")
    np.testing.assert_allclose(closing_opening(img, 5), expected)


def test_metrics_match_scikit_image(rng) -> None:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    a = rng.random((3, 1, 16, 16))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    expected = [peak_signal_noise_ratio(a[i, 0], b[i, 0], data_range=1.0) for i in range(3)]
    np.testing.assert_allclose(psnr(a, b), expected, rtol=1e-10)
    expected_ssim = np.mean([structural_similarity(a[i, 0], b[i, 0], data_range=1.0) for i in range(3)])
    assert ssim(a, b) == pytest.approx(expected_ssim, rel=1e-10)
    assert ssim(a, a) == pytest.approx(1.0)
