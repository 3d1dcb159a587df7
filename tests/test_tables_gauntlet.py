"""The DataFrames people (and R / UCI data sets) bring, through AutoencoderDetector's table path:
each kind of column either works (fit and score the same frame, a save -> load round trip that
scores the same, a frame with gaps and unseen categories, a summary line that is true) or is
one DataError naming the column. Tiny frames, one epoch, two small members."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit.apps.detect import AutoencoderDetector
from aekit.data.tables import TablePreprocessor, column_roles
from aekit.errors import DataError
from tests.conftest import run_cli

SMALL = dict(model_params={"hidden": [8], "latent_dim": 2}, max_epochs=1, n_estimators=2)
N = 30


def _base(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n).round(3), "y": rng.normal(size=n).round(3)})


def _rng() -> np.random.Generator:
    return np.random.default_rng(1)


# name -> (training frame, what the summary line says, the roles of the added columns)
WORKS: dict[str, tuple[Callable[[], pd.DataFrame], list[str], dict[Any, str]]] = {
    "category unordered, unused levels": (
        lambda: _base().assign(c=pd.Categorical(_rng().choice(["a", "b"], N), categories=["a", "b", "zz"])),
        ["1 categorical -> 2 one-hot"], {"c": "categorical"}),
    "category ordered, unused levels": (
        lambda: _base().assign(c=pd.Categorical(_rng().choice(["lo", "mid", "hi"], N), categories=["lo", "mid", "hi", "max"],
                                                ordered=True)),
        ["1 categorical -> 3 one-hot"], {"c": "categorical"}),
    "category of integer codes": (
        lambda: _base().assign(c=pd.Categorical(_rng().choice([1, 2, 3], N))), ["1 categorical -> 3 one-hot"], {"c": "categorical"}),
    "nullable Int64 with NA": (
        lambda: _base().assign(k=pd.array([1, 2, pd.NA, 4, 3] * 6, dtype="Int64")), ["3 numeric", "6 missing value(s) imputed"],
        {"k": "numeric"}),
    "nullable Float64 with NA": (
        lambda: _base().assign(k=pd.array([1.5, pd.NA, 2.5] * 10, dtype="Float64")), ["3 numeric", "10 missing value(s) imputed"],
        {"k": "numeric"}),
    "nullable boolean with NA": (
        lambda: _base().assign(b=pd.array([True, False, pd.NA] * 10, dtype="boolean")),
        ["1 categorical -> 2 one-hot", "10 missing value(s) imputed"], {"b": "categorical"}),
    "object True/False/None (an R logical)": (
        lambda: _base().assign(b=pd.Series([True, False, None] * 10, dtype=object)),
        ["1 categorical -> 2 one-hot", "10 missing value(s) imputed"], {"b": "categorical"}),
    "object of numbers and words (1, 2, 'x')": (
        lambda: _base().assign(m=pd.Series([1, 2, "x"] * 10, dtype=object)), ["1 categorical -> 3 one-hot"], {"m": "categorical"}),
    "object of integers and None": (
        lambda: _base().assign(m=pd.Series([1, 4, None, 2, 3] * 6, dtype=object)), ["3 numeric", "read as numbers: 'm'"],
        {"m": "numeric"}),
    "thousands separators ('1,234')": (
        lambda: _base().assign(s=[f"{v:,}" for v in _rng().integers(500, 5000, N)]),
        ["3 numeric", "read as numbers: 's' (',' thousands)"], {"s": "numeric"}),
    "percentages ('12%')": (
        lambda: _base().assign(s=[f"{v}%" for v in _rng().integers(0, 100, N)]), ["read as numbers: 's' (percent)"], {"s": "numeric"}),
    "'%' on some values only ('12%' beside '0.42')": (
        lambda: _base().assign(s=["12%"] * 12 + ["0.42"] * 10 + ["30%"] * 4 + ["0.5"] * 4),
        ["read as numbers: 's' (percent; some values with '%' ('12%'), some without ('0.42'); each read as written)"], {"s": "numeric"}),
    "currency ('$7')": (
        lambda: _base().assign(s=[f"${v}" for v in _rng().integers(0, 100, N)]), ["read as numbers: 's' (currency)"], {"s": "numeric"}),
    "padded numbers (' 3.5 ')": (
        lambda: _base().assign(s=[f" {v:.1f} " for v in _rng().normal(size=N)]), ["read as numbers: 's'"], {"s": "numeric"}),
    "decimal commas ('12,5') and UCI's '?' for a gap": (
        lambda: _base().assign(s=["12,5", "3,25", "?", "7,0", "1.200,5"] * 6), ["read as numbers: 's' (',' decimal)",
                                                                                 "6 missing value(s) imputed"],
        {"s": "numeric"}),
    "all-NaN column": (lambda: _base().assign(e=np.nan), ["1 empty column(s) dropped ('e')"], {"e": "empty"}),
    "column with one value": (
        lambda: _base().assign(o=[np.nan] * 4 + [3.0] + [np.nan] * (N - 5)), ["1 constant column(s) dropped ('o')"],
        {"o": "constant"}),
    "integer column names": (
        lambda: pd.DataFrame(_rng().normal(size=(N, 2))).assign(**{"2": _rng().choice(["a", "b"], N)}).set_axis([0, 1, 2], axis=1),
        ["2 numeric, 1 categorical -> 2 one-hot"], {"0": "numeric", "2": "categorical"}),
    "MultiIndex column names": (
        lambda: _base().assign(c=_rng().choice(["a", "b"], N)).set_axis(pd.MultiIndex.from_tuples([("m", "x"), ("m", "y"), ("", "c")]), axis=1),
        ["2 numeric, 1 categorical -> 2 one-hot"], {"m_x": "numeric", "c": "categorical"}),
    "tz-aware datetimes": (
        lambda: _base().assign(t=pd.date_range("2024-03-25", periods=N, freq="7h", tz="Europe/Berlin")),
        ["date column 't' -> month/day/weekday/hour"], {"t": "date"}),
    "day-first date strings ('31/01/2024')": (
        lambda: _base().assign(t=pd.date_range("2024-01-01", periods=N).strftime("%d/%m/%Y")), ["date column 't' (read as %d/%m/%Y) -> month/day/weekday"],
        {"t": "date"}),
    "timedeltas": (
        lambda: _base().assign(d=pd.to_timedelta(_rng().integers(1, 100, N), unit="min")),
        ["3 numeric", "read as numbers: 'd' (duration in seconds)"], {"d": "numeric"}),
    "two rows": (lambda: _base(2).assign(c=["a", "b"]), ["2 numeric, 1 categorical -> 2 one-hot"], {"c": "categorical"}),
    "300 columns": (
        lambda: pd.DataFrame(_rng().normal(size=(N, 300)), columns=[f"v{i}" for i in range(300)]).assign(c=_rng().choice(["a", "b"], N)),
        ["300 numeric, 1 categorical -> 2 one-hot"], {"v0": "numeric", "c": "categorical"}),
    "45 distinct values in 60 rows, 30 of them once": (
        lambda: _base(60).assign(h=[f"level{i % 45}" for i in range(60)]),
        ["1 categorical -> 16 one-hot", "'h': 30 values seen in fewer than 2 rows pooled as 'infrequent'"], {"h": "categorical"}),
    "58 distinct values in 60 rows": (
        lambda: _base(60).assign(h=[f"level{i % 58}" for i in range(60)]),
        ["1 text column(s) dropped ('h')"], {"h": "text"}),
    "R row names kept as a column": (
        lambda: _base().assign(rownames=[f"Car {i}" for i in range(N)], cyl=_rng().choice([4, 6, 8], N)),
        ["3 numeric", "id column 'rownames' kept as row id"], {"rownames": "id", "cyl": "numeric"}),
}


def _scoring_frame(df: pd.DataFrame, det: AutoencoderDetector) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """The first 4 rows as objects (as JSON or a CSV chunk brings them) with a gap in every column of
    row 0 and an unseen value in every categorical column of row 1; the counts that should say so
    (those gaps, and the ones rows 1-3 had already)."""
    t = det.table_
    features = [r for r in t.roles_ if r.role in ("numeric", "categorical", "date")]
    t.transform(df.iloc[1:4])
    had_1_3 = t.last_counts_.missing
    t.transform(df.iloc[2:4])
    had_2_3 = t.last_counts_.missing
    new = df.head(4).astype(object)
    new.iloc[0, :] = None
    for i, r in enumerate(t.roles_):  # one role per column, in order
        if r.role == "categorical":
            new.iloc[1, i] = "never seen"
    missing = {r.name: 1 + (had_2_3 if r.role == "categorical" else had_1_3).get(r.name, 0) for r in features}
    return new, missing, {r.name: 1 for r in features if r.role == "categorical"}


@pytest.mark.parametrize("case", list(WORKS))
def test_frames_that_work(case: str, tmp_path: Path) -> None:
    make, says, roles = WORKS[case]
    df = make()
    det = AutoencoderDetector(**SMALL).fit(df)
    found = {r.name: r.role for r in det.table_.roles_}
    assert {str(k): v for k, v in roles.items()} == {str(k): found[str(k)] for k in roles}
    summary = det.table_.summary()
    for part in says:
        assert part in summary, summary
    d, p = det.decision_function(df), det.predict(df)
    assert d.shape == (len(df),) and np.isfinite(d).all() and set(np.unique(p)) <= {-1, 1}
    scores = det.anomaly_score(df)
    np.testing.assert_array_equal(det.anomaly_score(df.astype(object)), scores)  # the values decide, not the dtypes
    det.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(back.anomaly_score(df), scores)
    assert back.table_.summary() == summary  # the saved state says the same
    new, missing, unseen = _scoring_frame(df, det)
    got = back.anomaly_score(new)
    assert np.isfinite(got).all() and got.shape == (len(new),)
    assert back.table_.last_counts_.missing == missing and back.table_.last_counts_.unseen == unseen


# name -> (training frame, frame to score or None to fail at fit, the message)
FAILS: dict[str, tuple[Callable[[], pd.DataFrame], Callable[[pd.DataFrame], pd.DataFrame] | None, str]] = {
    "repeated column names": (lambda: _base().assign(c="a").set_axis(["x", "x", "c"], axis=1), None,
                              "table has repeated column names: 'x'"),
    "repeated names of plain numbers": (lambda: _base().set_axis(["x", "x"], axis=1), None, "repeated column names: 'x'"),
    "1 and '1' as column names": (lambda: _base().set_axis([1, "1"], axis=1), None, "repeated column names: '1'"),
    "one row": (lambda: _base(1).assign(c="a"), None, "need at least 2 samples to fit, got 1"),
    "inf in plain numbers": (lambda: _base().assign(x=lambda d: d["x"].where(d.index != 2, np.inf)), None,
                             "column 'x': infinite value at row 2"),
    "inf beside a category": (lambda: _base().assign(c=["a", "b"] * 15, x=lambda d: d["x"].where(d.index != 2, np.inf)), None,
                              "column 'x': infinite value at row 2"),
    "a number beyond float32": (lambda: _base().assign(x=lambda d: d["x"].where(d.index != 3, 1e300)), None,
                                "column 'x': value 1e\\+300 at row 3 is beyond float32's range"),
    "numbers with one stray word": (lambda: _base().assign(m=pd.Series([*np.arange(N - 1) * 1.5, "x"], dtype=object)), None,
                                    "column 'm': value 'x' at row 29 is not a number"),
    "lists in cells": (lambda: _base().assign(l=[[1, 2], [3]] * 15), None, "column 'l' holds list values"),
    "complex numbers": (lambda: _base().assign(z=np.ones(N) * 1j), None, "column 'z': complex numbers are not supported"),
    "no columns": (lambda: pd.DataFrame(index=range(5)), None, "table has no columns"),
    "a word where training had numbers (plain)": (
        _base, lambda d: d.head(3).astype({"x": object}).assign(x=[0.1, "abc", 0.2]), "column 'x': value 'abc' at row 1 is not a number"),
    "inf at scoring (plain)": (_base, lambda d: d.head(3).assign(y=[0.0, -np.inf, 1.0]), "column 'y': infinite value at row 1"),
    "a gap at scoring, fitted without gaps (plain)": (
        _base, lambda d: d.head(3).assign(y=[0.0, np.nan, 1.0]), "column 'y': missing value at row 1 .*no value to fill in"),
}


@pytest.mark.parametrize("case", list(FAILS))
def test_frames_that_fail_say_which_column(case: str) -> None:
    make, later, message = FAILS[case]
    df = make()
    with pytest.raises(DataError, match=message) as err:
        det = AutoencoderDetector(**SMALL).fit(df)
        if later is not None:
            det.anomaly_score(later(df))
    assert "\n" not in str(err.value)
    if later is not None:  # the fit itself went through, with finite scores
        assert np.isfinite(AutoencoderDetector(**SMALL).fit(df).anomaly_score(df)).all()


def test_numbers_written_as_text_are_read_as_numbers() -> None:
    df = pd.DataFrame({"k": ["1,234", "12", "?", "2,000.5"], "p": ["12%", " 3.5 ", "$7", "NA"], "d": ["12,5", "1.200,5", "3", "."]})
    t = TablePreprocessor().fit(df)
    assert [(r.role, r.number_format) for r in t.roles_] == [("numeric", "thousands"), ("numeric", "number"), ("numeric", "decimal_comma")]
    # '12%' beside ' 3.5 ': each read as written (12 and 3.5), and said, not guessed
    assert t.roles_[1].signs == "percent, currency" and t.roles_[1].note.startswith("some values with '%' ('12%'), some without")
    out = t.transform_frame(df)
    np.testing.assert_array_equal(out["k"], [1234.0, 12.0, t.fill_["k"], 2000.5])
    np.testing.assert_array_equal(out["p"], [12.0, 3.5, 7.0, t.fill_["p"]])
    np.testing.assert_array_equal(out["d"], [12.5, 1200.5, 3.0, t.fill_["d"]])
    assert t.fit_counts_.missing == {"k": 1, "p": 1, "d": 1}  # the markers are gaps, and counted as such
    # a CSV chunk of plain numbers reads as floats: the same values; the state survives JSON
    back = TablePreprocessor.from_dict(t.to_dict())
    np.testing.assert_array_equal(back.transform(pd.DataFrame({"k": [1234.0], "p": [12.0], "d": [12.5]})), [[1234.0, 12.0, 12.5]])


def test_only_row_numbers_are_ids_so_sorted_features_stay() -> None:
    # R's `women`: 15 rows, both columns strictly increasing integers; both are features
    women = pd.DataFrame({"height": np.arange(58, 73), "weight": [115, 117, 120, 123, 126, 129, 132, 135, 139, 142, 146, 150, 154,
                                                                  159, 164]})
    assert [r.role for r in column_roles(women)] == ["numeric", "numeric"]
    det = AutoencoderDetector(**SMALL).fit(women)
    assert np.isfinite(det.anomaly_score(women)).all()
    rows = pd.DataFrame({"n": np.arange(1, 16), "year": np.arange(1990, 2005), "w": women["weight"], "order_no": women["weight"] * 7})
    assert [(r.role, r.note) for r in column_roles(rows)] == [("id", "row numbers"), ("numeric", ""), ("numeric", ""),
                                                              ("id", "unique per row, named like an id")]


def test_values_decide_not_dtypes_when_scoring() -> None:
    """A category scored as plain strings, an int column scored as floats, a boolean column scored as
    'True'/'False' text or 1/0, datetimes and durations scored as strings (and date strings scored as
    datetimes), a nullable Int64 column scored as text: the same encoding as in training."""
    rng = _rng()
    df = _base().assign(c=pd.Categorical(rng.choice(["a", "b"], N)), k=rng.integers(0, 5, N), b=rng.choice([True, False], N),
                        t=pd.date_range("2024-01-01", periods=N, freq="7h", tz="UTC"),
                        d=pd.to_timedelta(rng.integers(1, 100, N), unit="min"), n=pd.array(rng.integers(0, 9, N), dtype="Int64"))
    det = AutoencoderDetector(**SMALL).fit(df)
    as_text = df.assign(c=df["c"].astype(str), k=df["k"].astype(float), b=df["b"].astype(str), t=df["t"].astype(str),
                        d=df["d"].astype(str), n=df["n"].astype(str))
    np.testing.assert_array_equal(det.anomaly_score(as_text), det.anomaly_score(df))
    assert det.table_.last_counts_.line() is None
    # the other way round: date strings trained, datetimes scored; a yes/no column scored as 1/0 or 'TRUE'/'false'
    text = df.assign(t=df["t"].dt.strftime("%d/%m/%Y"))
    det = AutoencoderDetector(**SMALL).fit(text)
    for b in (df["b"].astype(int), df["b"].map({True: "TRUE", False: "false"})):
        np.testing.assert_array_equal(det.anomaly_score(text.assign(t=df["t"].dt.tz_localize(None), b=b)), det.anomaly_score(text))
        assert det.table_.last_counts_.line() is None


def test_detect_cli_on_an_r_style_csv(tmp_path: Path) -> None:
    """A data set as R's write.csv leaves it: row names in the first column, a factor, a logical
    with NA, integer codes, numbers with thousands separators (quoted) and '?' gaps; scored
    again in chunks, with the same scores."""
    rng = np.random.default_rng(3)
    n = 40
    df = pd.DataFrame({"rownames": [f"Model {i}" for i in range(n)], "mpg": rng.normal(20, 4, n).round(1), "cyl": rng.choice([4, 6, 8], n),
                       "am": rng.choice(["auto", "manual"], n), "vs": pd.Series(rng.choice([True, False], n), dtype=object),
                       "price": [f"{v:,}" for v in rng.integers(900, 9000, n)]})
    df.loc[[3, 9], "vs"] = None
    df.loc[[12, 30], "price"] = "?"  # UCI's gap: in the third chunk of 5 rows below, the others read as plain numbers
    df.to_csv(tmp_path / "cars.csv", index=False, na_rep="NA")
    res = run_cli("detect", str(tmp_path / "cars.csv"), "-o", str(tmp_path / "run"), "-e", "1", "-q", "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "id column 'rownames' kept as row id" in out and "read as numbers: 'price' (',' thousands)" in out, out
    scores = pd.read_csv(tmp_path / "run" / "scores.csv")
    assert scores["rownames"].tolist() == df["rownames"].tolist() and np.isfinite(scores["score"]).all()
    det = aekit.load(tmp_path / "run")
    np.testing.assert_allclose(det.anomaly_score(pd.read_csv(tmp_path / "cars.csv")), scores["score"], rtol=1e-6)
    res = run_cli("score", str(tmp_path / "run"), str(tmp_path / "cars.csv"), "-o", str(tmp_path / "s.csv"), "--chunk-rows", "5", "-q")
    assert res.returncode == 0, res.stderr
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"], scores["score"], rtol=1e-6)
    # scored later: a word and a number in another style in the ',' thousands column, a word among plain
    # numbers; each is a gap filled with the training value and counted apart from the empty cells
    odd = df.astype({"mpg": object})
    odd.loc[7, "price"], odd.loc[21, "price"], odd.loc[22, "mpg"] = "n/a-ish", "1.234,5", "twenty"
    odd.to_csv(tmp_path / "odd.csv", index=False, na_rep="NA")
    res = run_cli("score", str(tmp_path / "run"), str(tmp_path / "odd.csv"), "-o", str(tmp_path / "o.csv"), "--chunk-rows", "5", "-q")
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "3 value(s) not read as numbers or dates in the training style, filled with the training values ('price': 2, 'mpg': 1)" in out, out
    assert "4 missing value(s) filled with the training values ('vs': 2, 'price': 2)" in out, out  # the '?' and NA gaps only
    gaps = pd.read_csv(tmp_path / "cars.csv")
    gaps.loc[[7, 21], "price"], gaps.loc[22, "mpg"] = "?", np.nan
    expected = det.anomaly_score(gaps)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "o.csv")["score"], expected, rtol=1e-6)
    np.testing.assert_array_equal(det.anomaly_score(pd.read_csv(tmp_path / "odd.csv")), expected)
    assert det.table_.last_counts_.unread == {"price": 2, "mpg": 1}



def test_explore_describes_what_detect_refuses(tmp_path: Path) -> None:
    """A column of numbers with a stray word: `aekit explore` lists why (role 'invalid'), the fit says the same line."""
    from aekit.reports.explore import profile_data

    df = _base().assign(m=[*(f"{v:.1f}" for v in np.arange(N - 1) * 1.5), "x"])
    df.to_csv(tmp_path / "t.csv", index=False)
    notes = " ".join(profile_data(tmp_path / "t.csv").notes)
    assert "m: invalid (column 'm': value 'x' at row 29 is not a number" in notes, notes
    with pytest.raises(DataError, match="column 'm': value 'x' at row 29 is not a number"):
        AutoencoderDetector(**SMALL).fit(df)


def test_plain_numbers_match_columns_by_name() -> None:
    """A DataFrame of plain numbers (no preprocessing fitted) is matched by column name at scoring,
    as a table is: any order scores the same, an unknown or a missing column is one line."""
    df = _base().assign(z=np.arange(N) % 7 * 1.0)
    det = AutoencoderDetector(**SMALL).fit(df)
    assert not hasattr(det, "table_")
    np.testing.assert_array_equal(det.anomaly_score(df[["z", "y", "x"]]), det.anomaly_score(df))
    for other, message in ((df.assign(w=1.0), "unknown column 'w': the run was fitted without it"),
                           (df[["x", "y"]], "column 'z' is missing")):
        with pytest.raises(DataError, match=message) as err:
            det.anomaly_score(other)
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("backend", ["numpy_nullable", "pyarrow"])
def test_dtype_backends_encode_alike(backend: str) -> None:
    """pandas' nullable and pyarrow dtypes (read_csv(dtype_backend=...), convert_dtypes()) give the
    roles and scores of the numpy frame: Float64/double, Int64/int64, string, boolean/bool,
    datetimes with and without a zone, durations."""
    rng = _rng()
    df = _base().assign(k=rng.integers(0, 5, N), c=rng.choice(["a", "b", None], N), b=pd.Series(rng.choice([True, False], N), dtype=object),
                        t=pd.date_range("2024-01-01", periods=N, freq="7h"), s=[f"{v:,}" for v in rng.integers(500, 5000, N)],
                        d=pd.to_timedelta(rng.integers(1, 100, N), unit="min"),
                        tz=pd.date_range("2024-03-30", periods=N, freq="5h", tz="Europe/Berlin"))
    df.loc[2, "x"], df.loc[4, "b"] = np.nan, None
    ref = AutoencoderDetector(**SMALL).fit(df)
    other = df.convert_dtypes(dtype_backend=backend)
    det = AutoencoderDetector(**SMALL).fit(other)
    assert det.table_.to_dict() == ref.table_.to_dict()
    np.testing.assert_allclose(det.anomaly_score(other), ref.anomaly_score(df), rtol=1e-6)
    np.testing.assert_allclose(det.anomaly_score(df), ref.anomaly_score(df), rtol=1e-6)


def test_day_first_dates_are_read_day_first() -> None:
    """'31/01/2024' can only be day first; '01/02/2024' .. '09/02/2024' could be either: read as the
    nine days they most likely are (dates closer together), not as nine months."""
    for days in (30, 9):
        df = _base(days).assign(t=pd.date_range("2024-02-01", periods=days).strftime("%d/%m/%Y"))
        t = TablePreprocessor().fit(df)
        out = t.transform_frame(df)
        assert out["t_month"].tolist() == [2.0] * min(days, 29) + [3.0] * (days - 29)
        assert out["t_day"].tolist()[:9] == [float(d) for d in range(1, 10)]
    iso = _base().assign(t=["2024-01-05 10:00:00+00:00", "2024-06-01 10:00:00+02:00"] * 15)  # never year-day-month
    assert TablePreprocessor().fit(iso).transform_frame(iso)["t_month"].tolist()[:2] == [1.0, 6.0]


KINDS: dict[str, Callable[[int, np.random.Generator], Any]] = {
    "float": lambda n, r: r.normal(size=n),
    "int": lambda n, r: r.integers(0, 10, n),
    "Int64": lambda n, r: pd.array([pd.NA if r.random() < .2 else int(v) for v in r.integers(0, 5, n)], dtype="Int64"),
    "boolean": lambda n, r: pd.array([pd.NA if r.random() < .2 else bool(v) for v in r.integers(0, 2, n)], dtype="boolean"),
    "logical": lambda n, r: pd.Series([None if r.random() < .2 else bool(v) for v in r.integers(0, 2, n)], dtype=object),
    "factor": lambda n, r: pd.Categorical(r.choice(["a", "b", "c"], n), categories=["a", "b", "c", "d"], ordered=bool(r.integers(2))),
    "text": lambda n, r: r.choice(["x", "y", "z", None], n),
    "mixed": lambda n, r: pd.Series(r.choice([1, 2, "x", None, 2.5], n), dtype=object),
    "numtext": lambda n, r: [r.choice(["?", f"{v:,}", f" {v} ", f"{v}%"]) for v in r.integers(0, 5000, n)],
    "empty": lambda n, r: np.full(n, np.nan),
    "tz": lambda n, r: pd.date_range("2024-03-30", periods=n, freq="5h", tz="Europe/Berlin"),
    "dates": lambda n, r: pd.date_range("2024-01-01", periods=n, freq="D").strftime("%d/%m/%Y"),
    "durations": lambda n, r: pd.to_timedelta(r.integers(0, 100, n), unit="s"),
    "rare": lambda n, r: [f"v{i % max(1, n * 3 // 4)}" for i in range(n)],
}


@pytest.mark.parametrize("seed", range(12))
def test_random_mixed_frames_score_alike_every_way(seed: int, tmp_path: Path) -> None:
    """A frame of random column kinds (2 to 30 rows) either fits, and then scores the same as it is,
    as objects, written to CSV and read back, and after save -> load, with finite scores for a row of
    gaps; or it is one DataError line (here: no feature column left in a tiny frame)."""
    r = np.random.default_rng(seed)
    n = int(r.choice([2, 3, 12, 30]))
    kinds = list(r.choice(list(KINDS), int(r.integers(2, 5))))
    df = pd.DataFrame({f"{k}{i}": KINDS[k](n, r) for i, k in enumerate(kinds)})
    try:
        det = AutoencoderDetector(**SMALL).fit(df)
    except DataError as err:
        assert "no feature column left" in str(err) and "\n" not in str(err)
        return
    scores = det.anomaly_score(df)
    assert np.isfinite(scores).all()
    np.testing.assert_array_equal(det.anomaly_score(df.astype(object)), scores)
    df.to_csv(tmp_path / "t.csv", index=False)
    np.testing.assert_allclose(det.anomaly_score(pd.read_csv(tmp_path / "t.csv")), scores, rtol=1e-5, atol=1e-6)
    det.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(back.anomaly_score(df), scores)
    gaps = df.head(1).astype(object)
    gaps.iloc[0, :] = None
    if hasattr(det, "table_"):
        assert np.isfinite(back.anomaly_score(gaps)).all()


def test_a_category_in_another_case_or_with_spaces_is_the_training_category() -> None:
    """'Yes' and ' YES' scored against a fitted yes/no column are 'yes'; a value that folds onto
    two training categories ('A' and 'a') or onto none stays unseen, and is counted."""
    from aekit.data.tables import TablePreprocessor

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40), "ans": rng.choice(["yes", "no"], 40), "g": rng.choice(["A", "a", "b"], 40)})
    table = TablePreprocessor().fit(df)
    new = pd.DataFrame({"x": [0.0] * 5, "ans": ["Yes", " YES", "no ", "maybe", "yes"], "g": ["A", "B", "a", "Á", "b"]})
    ref = pd.DataFrame({"x": [0.0] * 5, "ans": ["yes", "yes", "no", "maybe", "yes"], "g": ["A", "b", "a", "Á", "b"]})
    np.testing.assert_array_equal(table.transform(new), table.transform(ref))
    assert table.last_counts_.unseen == {"ans": 1, "g": 1}
