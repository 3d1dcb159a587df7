"""Look at the data first: ``aekit explore DATA``.

:func:`profile_data` measures a data source (shape, types, missing values, per-feature
ranges, class balance) and lists its problems plainly (NaN columns, constant columns,
duplicate rows, label imbalance, clipped or silent audio). :func:`write_explore_report`
renders that with a sample grid, series plot or spectrogram as a self-contained page.

Tables (CSV/Parquet) and ``.npy``/``.npz`` arrays are read raw here, not through
:func:`aekit.data.load_dataset`, because the loader rightly refuses NaNs: exploring is
where they must be found. Everything else (built-in names, idx, image folders) goes
through the loader.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aekit.data.tablefiles import is_table_file
from aekit.errors import DataError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
IMBALANCE_RATIO = 3.0  # largest class / smallest class above this is flagged
MAX_FEATURE_ROWS = 40  # per-feature rows shown in the page's table


@dataclass
class DataProfile:
    """What :func:`profile_data` found. ``features`` rows: name, dtype, missing, min, max, mean, std, unique."""

    name: str
    kind: str  # "table", "image", "series" or "audio"
    shape: tuple[int, ...]  # (N, *one example)
    dtypes: dict[str, int]  # dtype name -> number of columns/arrays of that type
    missing: int  # missing (NaN/None) values in total
    features: list[dict[str, Any]] = field(default_factory=list)
    class_counts: dict[str, int] | None = None
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    X: np.ndarray | None = field(default=None, repr=False)  # numeric examples for the figures
    audio: list[tuple[str, np.ndarray, int]] = field(default_factory=list, repr=False)  # (file, signal, rate)


def _class_counts(y: Any) -> dict[str, int]:
    values, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return {str(values[i]): int(counts[i]) for i in order}


def _label_problems(counts: dict[str, int]) -> list[str]:
    if len(counts) < 2:
        return [f"only one label value ({next(iter(counts), '-')}): nothing to separate or evaluate against"] if counts else []
    big, small = max(counts.values()), min(counts.values())
    if big / max(small, 1) > IMBALANCE_RATIO:
        rare = min(counts, key=counts.__getitem__)
        share = small / sum(counts.values())
        return [f"label imbalance: class {rare!r} has {small} examples ({share:.1%}), the largest class {big} "
                f"(ratio {big / max(small, 1):.1f}); use stratified splits and AUC/AP rather than accuracy"]
    return []


def _duplicate_rows(flat: np.ndarray) -> int:
    """Rows identical to an earlier row (bitwise, NaN-safe), counted once per extra copy."""
    rows = np.ascontiguousarray(flat).view(np.dtype((np.void, flat.dtype.itemsize * flat.shape[1])))
    return int(len(rows) - len(np.unique(rows)))


def _numeric_features(flat: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are reported as problems instead
        finite = np.where(np.isfinite(flat), flat, np.nan)
        mins, maxs = np.nanmin(finite, 0), np.nanmax(finite, 0)
        means, stds = np.nanmean(finite, 0), np.nanstd(finite, 0)
    missing = np.isnan(flat).sum(0)
    return [
        {"name": n, "dtype": str(flat.dtype), "missing": int(missing[i]), "min": float(mins[i]), "max": float(maxs[i]),
         "mean": float(means[i]), "std": float(stds[i])}
        for i, n in enumerate(names)
    ]


def _feature_problems(features: list[dict[str, Any]], n_rows: int, what: str = "column") -> list[str]:
    problems = []
    all_nan = [f["name"] for f in features if f["missing"] == n_rows]
    some_nan = [f"{f['name']} ({f['missing']})" for f in features if 0 < f["missing"] < n_rows]
    constant = [f["name"] for f in features if f["missing"] < n_rows and f["min"] == f["max"]]
    if all_nan:
        problems.append(f"{len(all_nan)} {what}(s) entirely missing: {', '.join(all_nan[:10])}; drop them")
    if some_nan:
        problems.append(f"NaN values in {len(some_nan)} {what}(s): {', '.join(some_nan[:10])}; impute or drop before training")
    if constant:
        problems.append(f"{len(constant)} constant {what}(s): {', '.join(map(str, constant[:10]))}; they carry no information (drop them; min-max scaling divides by zero range)")
    return problems


def _profile_table(path: Path, label_column: str | None) -> DataProfile:
    from aekit.data.loaders import label_column_of
    from aekit.data.tablefiles import layout_note, read_table

    df = read_table(path, keep_codes=True)  # as aekit detect reads it
    if df.shape[0] == 0:
        raise DataError(f"{path}: table has no rows")
    label = label_column_of(df, str(path), label_column)
    feats = df.drop(columns=[label]) if label is not None else df
    numeric = [c for c in feats.columns if feats[c].dtype.kind in "iufb"]
    other = [c for c in feats.columns if c not in numeric]
    flat = feats[numeric].to_numpy(dtype=np.float64)
    features = _numeric_features(flat, [str(c) for c in numeric])
    for c in other:
        features.append({"name": str(c), "dtype": str(feats[c].dtype), "missing": int(feats[c].isna().sum()),
                         "min": np.nan, "max": np.nan, "mean": np.nan, "std": np.nan})
    dtypes: dict[str, int] = {}
    for c in df.columns:
        dtypes[str(df[c].dtype)] = dtypes.get(str(df[c].dtype), 0) + 1
    prof = DataProfile(path.stem, "table", (len(df), feats.shape[1]), dtypes, int(df.isna().sum().sum()), features,
                       X=flat.astype(np.float32))
    prof.problems += _feature_problems(features, len(df))
    if other:
        prof.problems.append(f"non-numeric column(s) {', '.join(map(str, other[:10]))}: `aekit detect` encodes them by their column "
                             "role (see the note); for other commands encode or drop them before training")
    from aekit.data.tables import column_roles, read_style  # the one place column roles and number styles are decided

    layout = layout_note(path)
    if layout is not None:
        prof.notes.append(f"file: {layout}")  # how every command reads it
    every = column_roles(feats)
    roles = [r for r in every if r.role != "numeric" or r.note]
    if roles:
        prof.notes.append("column roles (how `aekit detect` treats them; numeric otherwise): " + "; ".join(
            f"{r.name}: {r.role}" + (f" ({r.note})" if r.note else "") for r in roles[:20]))
    styles = [(r.name, read_style(r)) for r in every if read_style(r)]
    if styles:
        prof.notes.append("number and date styles (how `aekit detect` reads the text): " + "; ".join(
            f"{name}: {style}" for name, style in styles[:20]) + ("; ..." if len(styles) > 20 else ""))
    prof.duplicates = int(df.duplicated().sum())
    if label is not None:
        prof.class_counts = _class_counts(df[label].astype(str))
        prof.notes.append(f"label column: {label!r}")
        if df[label].isna().any():
            prof.problems.append(f"{int(df[label].isna().sum())} rows without a label")
    return prof


def _profile_array(name: str, X: np.ndarray, y: np.ndarray | None, kind: str) -> DataProfile:
    X = np.asarray(X)
    flat = X.reshape(len(X), -1).astype(np.float64, copy=False)
    prof = DataProfile(name, kind, tuple(X.shape), {str(X.dtype): 1}, int(np.isnan(flat).sum()), X=X.astype(np.float32))
    if kind == "image":
        # per channel rather than per pixel: 784 pixel rows would hide the picture
        chans = X.reshape(len(X), X.shape[1], -1).transpose(1, 0, 2).reshape(X.shape[1], -1).T
        prof.features = _numeric_features(chans.astype(np.float64), [f"channel {c}" for c in range(X.shape[1])])
        prof.problems += _feature_problems(prof.features, len(chans), "channel")
        pix = _numeric_features(flat, [str(i) for i in range(flat.shape[1])])
        const = sum(1 for f in pix if f["min"] == f["max"])
        if const:
            prof.notes.append(f"{const} of {flat.shape[1]} pixels never change (e.g. empty borders); harmless for autoencoders")
    else:
        names = [f"f{i}" for i in range(flat.shape[1])]
        prof.features = _numeric_features(flat, names)
        prof.problems += _feature_problems(prof.features, len(flat), "feature" if kind == "table" else "time step")
    prof.duplicates = _duplicate_rows(flat)
    if y is not None:
        prof.class_counts = _class_counts(y)
    return prof


def _profile_audio(path: Path) -> DataProfile:
    import soundfile as sf

    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
    rates, durations, clips, silent, audio = [], [], [], [], []
    for f in files:
        try:
            sig, rate = sf.read(str(f), dtype="float32", always_2d=True)
        except Exception as err:  # soundfile raises LibsndfileError / RuntimeError
            raise DataError(f"{f}: not readable as audio ({err})") from None
        if len(sig) == 0:
            raise DataError(f"{f}: zero-length audio")
        mono = sig.mean(1)
        rates.append(rate)
        durations.append(len(mono) / rate)
        if np.mean(np.abs(sig) >= 0.999) > 1e-3:
            clips.append(f.name)
        if np.sqrt(np.mean(mono**2)) < 1e-4:
            silent.append(f.name)
        if len(audio) < 3:
            audio.append((f.name, mono, rate))
    prof = DataProfile(path.stem or path.name, "audio", (len(files),), {"float32": len(files)}, 0, audio=audio)
    d = np.array(durations)
    prof.features = [{"name": "duration (s)", "dtype": "float", "missing": 0, "min": float(d.min()), "max": float(d.max()),
                      "mean": float(d.mean()), "std": float(d.std())}]
    prof.notes.append(f"{len(files)} file(s), sample rate(s): {', '.join(f'{r} Hz' for r in sorted(set(rates)))}, total {d.sum():.1f} s")
    if len(set(rates)) > 1:
        prof.problems.append(f"mixed sample rates {sorted(set(rates))}: resample to one rate before feature extraction")
    if clips:
        prof.problems.append(f"clipping in {len(clips)} file(s): {', '.join(clips[:5])}")
    if silent:
        prof.problems.append(f"silent file(s): {', '.join(silent[:5])}")
    return prof


def profile_data(source: str | Path, label_column: str | None = None, limit: int | None = None) -> DataProfile:
    """Measure a data source (built-in name, table, array file, image/idx folder or audio)."""
    prof = _profile(source, label_column, limit)
    if prof.duplicates:
        prof.problems.append(f"{prof.duplicates} duplicate row(s): copies can land in both train and test splits; drop them")
    if prof.class_counts:
        prof.problems += _label_problems(prof.class_counts)
    return prof


def _profile(source: str | Path, label_column: str | None, limit: int | None) -> DataProfile:
    key = str(source)
    path = Path(key).expanduser()
    suffix = path.suffix.lower()
    if path.exists() and (suffix in AUDIO_SUFFIXES or (path.is_dir() and any(p.suffix.lower() in AUDIO_SUFFIXES for p in path.iterdir()))):
        return _profile_audio(path)
    if path.is_file() and is_table_file(path):
        return _profile_table(path, label_column)
    if path.is_file() and suffix in (".npy", ".npz"):
        try:
            with np.load(path, allow_pickle=False) as raw:  # type: ignore[union-attr]
                X, y = raw["X"], (raw["y"] if "y" in raw.files else None)
        except (AttributeError, TypeError):  # a plain .npy (np.load returns the array itself)
            X, y = np.load(path, allow_pickle=False), None
        except (KeyError, ValueError, OSError) as err:
            raise DataError(f"{path}: cannot read array file ({err}); .npz needs an 'X' array") from None
        X = np.asarray(X)
        if X.dtype.kind not in "iufb" or X.ndim == 0 or len(X) == 0:
            raise DataError(f"{path}: expected a non-empty numeric array, got dtype {X.dtype} shape {X.shape}")
        X = X[:, None] if X.ndim == 1 else X
        kind = "image" if X.ndim == 4 or X.ndim == 3 and X.shape[1] > 8 else ("series" if X.ndim == 3 else "table")
        if X.ndim == 3 and kind == "image":
            X = X[:, None]
        return _profile_array(path.stem, X[:limit], None if y is None else y[:limit], kind)
    from aekit.data import load_dataset

    ds = load_dataset(key, limit=limit, **({"label_column": label_column} if label_column else {}))
    prof = _profile_array(ds.name or path.stem, ds.X, ds.y, ds.kind)
    if ds.feature_names and len(ds.feature_names) == len(prof.features):
        for f, n in zip(prof.features, ds.feature_names):
            f["name"] = n
    if ds.X_test is not None:
        prof.notes.append(f"official test split: {len(ds.X_test)} examples (not profiled)")
    return prof


def write_explore_report(prof: DataProfile, out: str | Path, fig_dir: str | Path | None = None) -> Path:
    """Render the profile as a self-contained HTML page; figures also saved as PNG in ``fig_dir``."""
    from aekit.reports.html import Section, embed_png, simple_table
    from aekit.reports import plots

    out = Path(out)
    figs = Path(fig_dir) if fig_dir is not None else out.parent / f"{out.stem}_figures"
    overview = [["examples", prof.shape[0]], ["shape of one example", str(prof.shape[1:]) if len(prof.shape) > 1 else "-"],
                ["kind", prof.kind], ["types", ", ".join(f"{k} x{v}" for k, v in prof.dtypes.items())],
                ["missing values", prof.missing], ["duplicate rows", prof.duplicates]]
    problems = Section("problems", "Problems found", warnings=list(prof.problems),
                       oks=[] if prof.problems else ["no problems found"], notes=list(prof.notes))
    sections = [problems, Section("overview", "Overview", tables=[simple_table(["", ""], overview)])]
    cols = ["feature", "type", "missing", "min", "max", "mean", "std"]
    rows = [[f["name"], f["dtype"], f["missing"], f["min"], f["max"], f["mean"], f["std"]] for f in prof.features[:MAX_FEATURE_ROWS]]
    ranges = Section("features", "Per-feature ranges", tables=[simple_table(cols, rows)])
    if len(prof.features) > MAX_FEATURE_ROWS:
        ranges.notes.append(f"first {MAX_FEATURE_ROWS} of {len(prof.features)} shown")
    if prof.kind == "table" and prof.features:
        f = prof.features
        ranges.figures.append(embed_png(plots.feature_ranges(np.array([x["min"] for x in f]), np.array([x["max"] for x in f]),
                                                             np.array([x["mean"] for x in f]), [x["name"] for x in f], figs / "feature_ranges.png")))
    sections.append(ranges)
    if prof.class_counts:
        total = sum(prof.class_counts.values())
        sections.append(Section("labels", "Class balance", tables=[simple_table(["label", "examples", "share"], [[k, v, f"{v / total:.1%}"] for k, v in prof.class_counts.items()])],
                                figures=[embed_png(plots.class_balance(prof.class_counts, figs / "class_balance.png"))]))
    samples = Section("samples", "Samples")
    if prof.kind == "image" and prof.X is not None:
        from aekit.plotting import image_sheet

        X = prof.X[:32]
        lo, hi = float(np.nanmin(X)), float(np.nanmax(X))
        samples.figures.append(embed_png(image_sheet(X, 8, figs / "samples.png", vmin=lo, vmax=hi if hi > lo else lo + 1), "The first 32 examples."))
    elif prof.kind == "series" and prof.X is not None:
        samples.figures.append(embed_png(plots.series_plot(prof.X, figs / "samples.png", title="first channel of the first series"), "The first series."))
    elif prof.kind == "audio":
        for i, (name, sig, rate) in enumerate(prof.audio):
            samples.figures.append(embed_png(plots.spectrogram(sig, rate, figs / f"spectrogram_{i}.png", title=name), f"{name}: waveform and spectrogram."))
    if samples.figures:
        sections.append(samples)
    from aekit.reports.html import render_page

    return render_page(out, f"aekit explore: {prof.name}", sections, subtitle=f"{prof.kind} data, {prof.shape[0]} examples")
