"""Mixed-type tables (aekit.data.tables): column roles, the saved preprocessing, and every path that
scores a saved run (Python API, chunked `aekit score`, `aekit serve`), on a tiny synthetic CSV."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.apps.detect import AutoencoderDetector
from aekit.data.tables import TablePreprocessor, column_roles, needs_preprocessing
from aekit.errors import DataError, ModelFileError
from tests.conftest import AEKIT, run_cli

SMALL = dict(model_params={"hidden": [8], "latent_dim": 3}, max_epochs=2, contamination=0.1)


def mixed_table(n: int, seed: int) -> pd.DataFrame:
    """``n`` orders: a string id, a timestamp, numbers with gaps, a category with gaps, a boolean
    with gaps, free text, a constant column and 0/1 labels (the first 5 rows are odd ones)."""
    rng = np.random.default_rng(seed)
    qty = rng.integers(1, 6, n)
    df = pd.DataFrame({
        "order_id": [f"O{seed}-{i:05d}" for i in range(n)],
        "ts": pd.date_range("2024-03-01 08:00", periods=n, freq="5h").strftime("%Y-%m-%d %H:%M"),
        "amount": (qty * 20 + rng.normal(0, 2, n)).round(2),
        "qty": qty,
        "channel": rng.choice(["web", "shop", "phone"], n),
        "member": rng.choice([True, False], n).astype(object),
        "comment": [f"note {i % 60}" for i in range(n)],  # 60 distinct phrases: text, not a category
        "country": "DE",
    })
    df.loc[[i for i in (7, 30, 61) if i < n], "amount"] = np.nan
    df.loc[[i for i in (11, 50) if i < n], "channel"] = None
    df.loc[[i for i in (70, 95) if i < n], "member"] = None  # only in later rows: chunks of the first rows read it as bool
    df["label"] = 0
    df.loc[:4, "label"] = 1
    df.loc[:4, "amount"] = 900.0
    return df


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The training CSV, a CSV to score (new id, unseen category, gaps) and an `aekit detect` run on the first."""
    folder = tmp_path_factory.mktemp("tables")
    train = mixed_table(120, 0)
    train.to_csv(folder / "orders.csv", index=False)
    new = mixed_table(40, 1).drop(columns=["label"])
    new.loc[2, "channel"] = "fax"  # never seen in training
    new.loc[3, "qty"] = np.nan
    new.to_csv(folder / "new.csv", index=False)
    res = run_cli("detect", str(folder / "orders.csv"), "-o", str(folder / "run"), "-e", "2", "-q",
                  "--set", "model.latent_dim=3")
    assert res.returncode == 0, res.stderr
    (folder / "detect.out").write_text(res.stdout)
    return {"train": folder / "orders.csv", "new": folder / "new.csv", "run": folder / "run", "stdout": folder / "detect.out"}


def test_column_roles_from_one_place() -> None:
    df = mixed_table(120, 0).drop(columns=["label"])
    df["row"] = np.arange(len(df))  # row numbers 0, 1, 2, ...: an id
    roles = {r.name: r.role for r in column_roles(df)}
    assert roles == {"order_id": "id", "ts": "date", "amount": "numeric", "qty": "numeric", "channel": "categorical",
                     "member": "categorical", "comment": "text", "country": "constant", "row": "id"}
    assert {r.name: r.role for r in column_roles(pd.DataFrame({"customer_id": [5, 3, 9], "x": [1.0, 2.0, 3.5]}))} == \
        {"customer_id": "id", "x": "numeric"}
    assert needs_preprocessing(df)
    plain = pd.DataFrame(np.random.default_rng(0).standard_normal((20, 3)), columns=list("abc"))
    assert not needs_preprocessing(plain)  # plain numbers go in as they are
    det = AutoencoderDetector(**SMALL).fit(plain)
    assert not hasattr(det, "table_") and list(det.feature_names_in_) == list("abc")


def test_explore_lists_the_same_roles(tmp_path: Path) -> None:
    from aekit.reports.explore import profile_data

    mixed_table(120, 0).to_csv(tmp_path / "orders.csv", index=False)
    notes = " ".join(profile_data(tmp_path / "orders.csv").notes)
    assert "order_id: id" in notes and "ts: date" in notes and "channel: categorical" in notes and "comment: text" in notes


def test_fit_on_a_mixed_table_and_a_json_round_trip_scores_the_same(tmp_path: Path) -> None:
    import aekit

    df = mixed_table(120, 0).drop(columns=["label"])
    det = AutoencoderDetector(**SMALL).fit(df)
    t = det.table_
    assert t.id_column_ == "order_id"
    assert t.date_parts_ == {"ts": ["month", "day", "weekday", "hour"]}
    assert t.feature_names_out_ == ["amount", "qty", "ts_month", "ts_day", "ts_weekday", "ts_hour", "channel_phone",
                                    "channel_shop", "channel_web", "member_False", "member_True"]
    assert det.n_features_in_ == 11 and sum(t.fit_counts_.missing.values()) == 7
    assert "2 categorical -> 5 one-hot" in t.summary() and "id column 'order_id'" in t.summary()
    scores = det.anomaly_score(df)
    assert scores[:5].mean() > np.median(scores)  # the 900.0 orders stand out
    det.save(tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "model.json").read_text())["estimator"]["state"]["table"]
    assert saved["fill"]["channel"] in ("phone", "shop", "web") and saved["columns"][0]["role"] == "id"
    assert not list((tmp_path / "run").glob("*.pkl")) and not list((tmp_path / "run").glob("*.joblib"))
    back = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(back.anomaly_score(df), scores)
    assert back.table_.feature_names_out_ == t.feature_names_out_
    with pytest.raises(DataError, match="this run takes a table"):  # encoded numbers are not the table
        back.anomaly_score(np.zeros((2, 11)))
    # ids and dropped columns are optional at scoring; column order does not matter
    np.testing.assert_array_equal(back.anomaly_score(df.drop(columns=["order_id", "comment", "country"]).iloc[:, ::-1]), scores)


def test_unseen_categories_and_missing_values_at_scoring() -> None:
    df = mixed_table(120, 0).drop(columns=["label"])
    t = TablePreprocessor().fit(df)
    names = t.feature_names_out_
    row = df.iloc[[20]].copy()
    row["channel"] = "fax"  # unseen: all zeros in its block, counted
    row["amount"] = np.nan  # missing: the training median
    row["member"] = None  # missing: the training mode
    row["ts"] = "not a date"  # unparseable: the training medians of the parts, counted as unread (as a bad number)
    out = dict(zip(names, t.transform(row)[0]))
    assert [out[n] for n in names if n.startswith("channel_")] == [0.0, 0.0, 0.0]
    assert out["amount"] == pytest.approx(df["amount"].median())
    assert out[f"member_{t.fill_['member']}"] == 1.0
    assert out["ts_hour"] == t.fill_["ts_hour"]
    assert t.last_counts_.unseen == {"channel": 1} and t.last_counts_.missing == {"amount": 1, "member": 1}
    assert t.last_counts_.unread == {"ts": 1}
    assert not t.rare_ and "encoded as all-zero one-hot (" in t.last_counts_.line() and "pooled" not in t.last_counts_.line()
    pooled = df.assign(channel=[*(f"c{i}" for i in range(4)), *df["channel"][4:]])  # 4 values seen once: pooled
    t = TablePreprocessor().fit(pooled)
    t.transform(row)
    assert t.rare_["channel"] and "unseen in training, encoded as the pooled rare values (" in t.last_counts_.line()


def test_the_unseen_line_says_which_columns_values_went_where() -> None:
    from aekit.data.tables import TableCounts

    both = TableCounts(unseen={"a": 1, "b": 1}, pooled={"a"}).line()
    assert both == "2 category value(s) unseen in training, encoded as all-zero one-hot ('b': 1) and as the pooled rare " \
                   "values ('a': 1)", both
    assert TableCounts(unseen={"b": 2}).line() == "2 category value(s) unseen in training, encoded as all-zero one-hot ('b': 2)"
    assert TableCounts(unseen={"a": 1}, pooled={"a"}).line().endswith("encoded as the pooled rare values ('a': 1)")


def test_bad_tables_at_scoring_are_one_line_errors() -> None:
    df = mixed_table(60, 0).drop(columns=["label"])
    t = TablePreprocessor().fit(df)
    with pytest.raises(DataError, match="column 'qty' is missing"):
        t.transform(df.drop(columns=["qty"]))
    with pytest.raises(DataError, match="unknown column 'discount'"):
        t.transform(df.assign(discount=1.0))
    with pytest.raises(DataError, match="no feature column left"):
        TablePreprocessor().fit(df[["order_id", "country"]])


def test_detect_on_a_mixed_csv_says_what_it_did_and_writes_the_ids(files: dict[str, Path]) -> None:
    out = " ".join(files["stdout"].read_text().split())  # rich wraps long lines
    assert "columns: 2 numeric, 2 categorical -> 5 one-hot" in out
    assert "id column 'order_id' kept as row id" in out and "date column 'ts' -> month/day/weekday/hour" in out
    assert "1 text column(s) dropped ('comment')" in out and "7 missing value(s) imputed" in out
    scores = pd.read_csv(files["run"] / "scores.csv")
    assert list(scores.columns) == ["order_id", "score", "is_anomaly", "label"]
    train = pd.read_csv(files["train"])
    assert scores["order_id"].tolist() == train["order_id"].tolist()
    import aekit

    det = aekit.load(files["run"])
    np.testing.assert_allclose(scores["score"], det.anomaly_score(train.drop(columns=["label"])), rtol=1e-6)
    # ONNX takes float rows only: the export refuses with one line that names the way out
    res = run_cli("export", str(files["run"]), str(files["run"].parent / "x.onnx"))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "mixed-type table" in res.stderr and "aekit serve" in res.stderr
    assert not (files["run"].parent / "x.onnx").exists()


def test_chunked_score_equals_in_memory_and_reports_what_it_filled(files: dict[str, Path], tmp_path: Path) -> None:
    import aekit

    det = aekit.load(files["run"])
    new = pd.read_csv(files["new"])
    expected = det.anomaly_score(new)
    res = run_cli("score", str(files["run"]), str(files["new"]), "-o", str(tmp_path / "s.csv"), "--chunk-rows", "7", "-q")
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(tmp_path / "s.csv")
    assert got["order_id"].tolist() == new["order_id"].tolist()  # the run's id column, copied
    np.testing.assert_allclose(got["score"], expected, rtol=1e-6)
    np.testing.assert_array_equal(got["is_anomaly"], (expected > det.threshold_.value).astype(int))
    out = " ".join(res.stdout.split())
    assert "category value(s) unseen in training" in out and "'channel': 1" in out and "missing value(s) filled" in out
    # a word in a column of numbers: a gap filled with the training value and counted, not the end of the run
    text = new.astype({"qty": object})
    text.loc[12, "qty"] = "three"  # in the third chunk of 5 rows
    text.to_csv(tmp_path / "text.csv", index=False)
    res = run_cli("score", str(files["run"]), str(tmp_path / "text.csv"), "-o", str(tmp_path / "text.out.csv"), "--chunk-rows", "5")
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "1 value(s) not read as numbers or dates in the training style, filled with the training values ('qty': 1)" in out, out
    gap = new.assign(qty=new["qty"].where(new.index != 12))
    np.testing.assert_allclose(pd.read_csv(tmp_path / "text.out.csv")["score"], det.anomaly_score(gap), rtol=1e-6)
    from aekit.stream import score_stream

    new.to_parquet(tmp_path / "new.parquet")  # pyarrow batches type each chunk on their own, too
    score_stream(files["run"], tmp_path / "new.parquet", tmp_path / "p.csv", chunk_rows=6)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["score"], expected, rtol=1e-6)
    new.assign(discount=1.0).to_csv(tmp_path / "extra.csv", index=False)
    new.drop(columns=["amount"]).to_csv(tmp_path / "short.csv", index=False)
    for name, message in (("extra", "unknown column 'discount'"), ("short", "column 'amount' is missing")):
        with pytest.raises(DataError, match=message):
            score_stream(files["run"], tmp_path / f"{name}.csv", tmp_path / f"{name}.out.csv", chunk_rows=5)
        assert not (tmp_path / f"{name}.out.csv").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_takes_rows_with_string_categories(files: dict[str, Path]) -> None:
    import httpx

    import aekit
    from aekit.serve import wait_until_ready

    det = aekit.load(files["run"])
    new = pd.read_csv(files["new"])
    expected = det.anomaly_score(new)
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*AEKIT, "serve", str(files["run"]), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until_ready(base, timeout=60, alive=lambda: proc.poll() is None), proc.stderr.read() if proc.poll() is not None else "no answer"
        meta = httpx.get(f"{base}/v1/metadata").json()
        assert meta["feature_names"] == ["ts", "amount", "qty", "channel", "member"]
        rows = json.loads(new.to_json(orient="records"))  # strings for channel and ts, null for gaps, the id too
        assert rows[2]["channel"] == "fax" and rows[3]["qty"] is None
        r = httpx.post(f"{base}/v1/score", json={"rows": rows})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(r.json()["score"], expected, rtol=1e-5)
        assert r.json()["is_anomaly"] == (np.asarray(r.json()["score"]) > det.threshold_.value).tolist()
        gaps = {c: int(n) for c, n in new[meta["feature_names"]].isna().sum().items() if n}
        assert gaps["qty"] >= 1 and r.json()["filled"] == {"missing": gaps, "unseen": {"channel": 1}}  # said, not hidden
        complete = next(i for i, row in new.iterrows() if not row.isna().any() and row["channel"] != "fax")
        r = httpx.post(f"{base}/v1/score", json={"rows": [rows[complete]]})  # known values, no gaps
        assert r.status_code == 200 and "filled" not in r.json(), r.text
        upload = httpx.post(f"{base}/v1/score", files={"file": ("new.csv", files["new"].read_bytes())})
        assert upload.status_code == 200 and upload.json()["filled"]["unseen"] == {"channel": 1}, upload.text
        r = httpx.post(f"{base}/v1/score", json={"rows": [dict(rows[complete], amount="lots")]})  # a word among numbers: a gap, said
        assert r.status_code == 200 and r.json()["filled"] == {"unread": {"amount": 1}}, r.text
        for body, message in ((dict(rows[0], discount=1.0), "rows.0: unknown feature 'discount'"),
                              ({k: v for k, v in rows[0].items() if k != "qty"}, "rows.0: missing feature 'qty'")):
            r = httpx.post(f"{base}/v1/score", json={"rows": [body]})
            assert r.status_code == 422 and message in r.json()["error"], r.text
    finally:
        proc.kill()
        proc.wait()


def test_integer_codes_keep_their_zeros_and_the_summary_names_them(tmp_path: Path) -> None:
    """Zip codes written with leading zeros are read as text (here a category, scored again in chunks
    with the same codes, nothing unseen); integers named like a code are numbers, and the summary says
    so; an ordinary integer measurement gets no word."""
    import aekit
    from aekit.data.tablefiles import read_table

    rng = np.random.default_rng(4)
    n = 40
    zips = np.array(["02134", "02139", "10001", "90210", "00501", "07030"])
    df = pd.DataFrame({"x": rng.normal(size=n).round(3), "zip": rng.choice(zips, n), "plant_code": rng.integers(1000, 9999, n),
                       "qty": rng.integers(1, 60, n)})
    df.to_csv(tmp_path / "codes.csv", index=False)
    read = read_table(tmp_path / "codes.csv", keep_codes=True)
    assert read["zip"].tolist() == df["zip"].tolist() and read["qty"].dtype.kind == "i"
    roles = {r.name: (r.role, r.note) for r in column_roles(read)}
    assert roles["zip"][0] == "categorical" and roles["zip"][1].startswith("integer codes with leading zeros") and roles["qty"] == ("numeric", "")
    assert roles["plant_code"][0] == "numeric" and "named like a code" in roles["plant_code"][1]
    big = pd.DataFrame({"market_cap": rng.integers(10**6, 10**9, n), "PLZ": rng.integers(10000, 99999, n)})
    assert [r.note != "" for r in column_roles(big)] == [False, True]  # 'cap' is Italy's zip only as the whole name
    res = run_cli("detect", str(tmp_path / "codes.csv"), "-o", str(tmp_path / "run"), "-e", "1", "-q", "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "1 categorical -> 6 one-hot" in out and "'zip': integer codes with leading zeros" in out, out
    assert "'plant_code': integers named like a code, read as numbers" in out and "'qty':" not in out, out
    det = aekit.load(tmp_path / "run")
    expected = det.anomaly_score(read)
    assert det.table_.last_counts_.line() is None  # every zip is a training category
    res = run_cli("score", str(tmp_path / "run"), str(tmp_path / "codes.csv"), "-o", str(tmp_path / "s.csv"), "--chunk-rows", "7", "-q")
    assert res.returncode == 0, res.stderr
    assert "unseen" not in res.stdout, res.stdout  # chunks of only-digit codes keep their zeros too
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"], expected, rtol=1e-6)


def test_rare_values_share_one_column_and_a_saved_run_scores_the_same(tmp_path: Path) -> None:
    """40 values seen once beside one frequent value: two one-hot columns (the value, and the pooled
    rare ones), not 41. A rare training value scores as the pooled column and is not unseen; a value
    never seen scores the same way and is counted; save -> load scores the same."""
    import aekit

    rng = np.random.default_rng(5)
    city = ["Berlin"] * 60 + [f"town {i}" for i in range(40)]
    df = pd.DataFrame({"x": rng.normal(size=100).round(3), "city": city})
    t = TablePreprocessor().fit(df)
    assert [r.role for r in t.roles_] == ["numeric", "categorical"]
    assert t.feature_names_out_ == ["x", "city_Berlin", "city_infrequent"] and len(t.rare_["city"]) == 40
    assert "1 categorical -> 2 one-hot" in t.summary() and "'city': 40 values seen in fewer than 2 rows pooled as 'infrequent'" in t.summary()
    new = pd.DataFrame({"x": [0.0, 0.0, 0.0, 0.0], "city": ["Berlin", "town 7", "Atlantis", None]})
    out = t.transform_frame(new)
    assert out["city_Berlin"].tolist() == [1.0, 0.0, 0.0, 1.0] and out["city_infrequent"].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert t.last_counts_.unseen == {"city": 1} and t.last_counts_.missing == {"city": 1}
    back = TablePreprocessor.from_dict(json.loads(json.dumps(t.to_dict())))
    np.testing.assert_array_equal(back.transform(new), t.transform(new))
    det = AutoencoderDetector(**SMALL).fit(df)
    det.save(tmp_path / "run")
    np.testing.assert_array_equal(aekit.load(tmp_path / "run").anomaly_score(new), det.anomaly_score(new))
    # a "infrequent" value of its own is not merged with the pooled ones
    own = df.assign(city=["infrequent"] * 30 + city[30:])
    assert TablePreprocessor().fit(own).feature_names_out_ == ["x", "city_Berlin", "city_infrequent", "city_infrequent_"]
    # nearly all rows rare: text, dropped
    words = df.assign(city=["Berlin"] * 5 + [f"w{i}" for i in range(95)])
    role = column_roles(words)[1]
    assert (role.role, role.note) == ("text", "96 distinct values in 100 rows, too rare to learn as categories")


def test_a_table_state_saved_before_rare_pooling_scores_as_it_did() -> None:
    """A state in the first format (every training value its own category, rare ones too) loads and
    encodes as it did: one column per value, an unseen value all zeros and counted."""
    old = {"format": "aekit-table/1", "max_categories": 50,
           "columns": [{"name": "x", "role": "numeric"}, {"name": "c", "role": "categorical", "categories": ["a", "b", "c", "d"]}],
           "id_column": None, "fill": {"x": 0.5, "c": "a"}, "feature_names_out": ["x", "c_a", "c_b", "c_c", "c_d"],
           "fit_counts": {"missing": {}, "unseen": {}}}
    t = TablePreprocessor.from_dict(old)
    got = t.transform(pd.DataFrame({"x": [1.0, None, 3.0], "c": ["c", "d", "zzz"]}))
    np.testing.assert_array_equal(got, [[1, 0, 0, 1, 0], [0.5, 0, 0, 0, 1], [3, 0, 0, 0, 0]])
    assert t.last_counts_.unseen == {"c": 1} and t.rare_ == {}
    with pytest.raises(ModelFileError, match="not in format"):
        TablePreprocessor.from_dict(dict(old, format="aekit-table/9"))


def test_given_categories_are_categories_whatever_their_values_and_are_read_back_as_text(tmp_path: Path) -> None:
    """given_categories (what `aekit detect --category-column` does): codes that would be numbers are
    one-hot categories, flagged in the saved state, and a file's chunks read them as text, so
    ``"1.50"`` is the trained ``"1.50"``, not an unseen ``"1.5"``. A pandas category of numbers is not
    "given" (it was never text), and a name that is not a column is one line."""
    from aekit.data.tablefiles import iter_table_chunks, read_table_bytes
    from aekit.data.tables import given_categories

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=30).round(3), "grade": rng.choice(["1.50", "2.00", "0.75"], 30),
                       "k": pd.Categorical(rng.choice([1, 2, 3], 30))})
    assert {r.name: r.role for r in column_roles(df)}["grade"] == "numeric"
    t = TablePreprocessor().fit(given_categories(df, ["grade"]))
    roles = {r.name: r for r in t.roles_}
    assert roles["grade"].role == "categorical" and roles["grade"].given and not roles["k"].given
    assert t.categories_["grade"] == ["0.75", "1.50", "2.00"] and "categories as given: 'grade' -> 3 one-hot" in t.summary()
    loaded = TablePreprocessor.from_dict(json.loads(json.dumps(t.to_dict())))
    assert loaded.text_columns == t.text_columns == ["grade"]
    df.to_csv(tmp_path / "g.csv", index=False)
    chunks = list(iter_table_chunks(tmp_path / "g.csv", 7, loaded.text_columns))
    np.testing.assert_array_equal(np.vstack([loaded.transform(c) for c in chunks]), t.transform(given_categories(df, ["grade"])))
    assert loaded.last_counts_.line() is None
    upload = read_table_bytes((tmp_path / "g.csv").read_bytes(), "g.csv", loaded.text_columns)  # as `aekit serve` reads one
    assert upload["grade"].tolist() == df["grade"].tolist()
    as_numbers = next(iter_table_chunks(tmp_path / "g.csv", 7))  # read as numbers (1.5): the category of equal value
    assert as_numbers["grade"].dtype.kind == "f"
    np.testing.assert_array_equal(loaded.transform(as_numbers), loaded.transform(chunks[0]))
    assert loaded.last_counts_.line() is None
    with pytest.raises(DataError, match="category column 'nope' not found; columns: x, grade, k"):
        given_categories(df, ["nope"])


def test_a_given_category_is_never_a_date_or_an_id() -> None:
    """A column the user names a category (given_categories, `--category-column`) is one, whatever its
    values: a few date strings are one-hot categories, not month/day/weekday; strings unique per row (an id
    if left alone) are categories too many to learn, text, and the summary says so."""
    from aekit.data.tables import given_categories

    rng = np.random.default_rng(4)
    n = 30
    df = pd.DataFrame({"x": rng.normal(size=n).round(3), "when": rng.choice(["2024-01-01", "2024-02-01", "2024-03-01"], n),
                       "key": [f"k{i:03d}" for i in range(n)]})
    roles = {r.name: r.role for r in column_roles(df)}
    assert roles["when"] == "date" and roles["key"] == "id"
    t = TablePreprocessor().fit(given_categories(df, ["when", "key"]))
    roles = {r.name: r.role for r in t.roles_}
    assert roles["when"] == "categorical" and t.categories_["when"] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert roles["key"] == "text" and t.id_column_ is None and "when_month" not in t.feature_names_out_
    summary = " ".join(t.summary().split())
    assert "categories as given: 'when' -> 3 one-hot" in summary and "'key': a category as given but text, not a feature" in summary


def test_explore_shows_the_number_style_detect_reads(tmp_path: Path) -> None:
    """`aekit explore` names each column's number or date style, as the detector's preprocessing reads
    it (the same roles): thousands, percent, currency, '%' on some values only, day-first dates,
    durations; plain numbers get no word."""
    from aekit.reports.explore import profile_data

    n = 30
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"x": rng.normal(size=n).round(3), "price": [f"{v:,}" for v in rng.integers(1000, 9000, n)],
                       "share": [f"{v}%" for v in rng.integers(0, 100, n)], "cost": [f"${v}" for v in rng.integers(1, 99, n)],
                       "mix": ["12%"] * 20 + ["0.42"] * 10,
                       "when": pd.date_range("2024-01-13", periods=n, freq="D").strftime("%d/%m/%Y")})
    df.to_csv(tmp_path / "styles.csv", index=False)
    notes = " ".join(profile_data(tmp_path / "styles.csv").notes)
    assert ("number and date styles (how `aekit detect` reads the text): price: ',' thousands; share: percent; cost: currency; "
            "mix: percent; when: day first (%d/%m/%Y)") in notes, notes
    assert "mix: numeric (some values with '%' ('12%'), some without ('0.42'); each read as written)" in notes, notes
    t = TablePreprocessor().fit(pd.read_csv(tmp_path / "styles.csv"))
    assert "'price' (',' thousands), 'share' (percent), 'cost' (currency), 'mix' (percent; some values" in t.summary()
    pd.DataFrame({"x": df["x"], "wait": pd.to_timedelta(rng.integers(1, 100, n), unit="s")}).to_parquet(tmp_path / "d.parquet")
    assert "wait: duration in seconds" in " ".join(profile_data(tmp_path / "d.parquet").notes)


def _shop(tmp_path: Path, n: int = 80) -> Path:
    """A shop's table (a float, amounts in '1,234.56' style, zero-led store codes, a count, day-first
    dates) fitted by `aekit detect`: the run folder."""
    rng = np.random.default_rng(1)
    pd.DataFrame({"x": rng.normal(size=n).round(3), "amount": [f"{v:,.2f}" for v in rng.uniform(500, 5000, n)],
                  "store": rng.choice(["001", "002", "013", "120"], n), "qty": rng.integers(0, 40, n),
                  "when": pd.date_range("2024-01-01", periods=n, freq="37h").strftime("%d/%m/%Y")}
                 ).to_csv(tmp_path / "train.csv", index=False)
    res = run_cli("detect", str(tmp_path / "train.csv"), "-o", str(tmp_path / "run"), "-q", "-e", "1", "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    return tmp_path / "run"


def test_a_frame_read_by_pandas_scores_as_detect_read_its_codes(tmp_path: Path) -> None:
    """pandas reads store codes '001', '013' as 1 and 13: each is the one zero-led category of its
    value, so the scores are detect's own."""
    import aekit

    run = _shop(tmp_path)
    det = aekit.load(run)
    got = det.anomaly_score(pd.read_csv(tmp_path / "train.csv"))
    assert det.table_.last_counts_.unseen == {}
    np.testing.assert_allclose(got, pd.read_csv(run / "scores.csv")["score"], rtol=1e-6)
    t = det.table_  # a value matching no code stays unseen; one of equal value is the code, however written
    t.transform(pd.read_csv(tmp_path / "train.csv").head(4).assign(store=[7, "0013", 13.0, "13.0"]))
    assert t.last_counts_.unseen == {"store": 1}


def test_an_infinite_value_at_scoring_is_unread_whatever_the_chunk_size(tmp_path: Path) -> None:
    run = _shop(tmp_path)
    df = pd.read_csv(tmp_path / "train.csv", dtype=str).head(12)
    df.loc[1, "x"], df.loc[5, "x"] = "inf", "-Infinity"
    df.to_csv(tmp_path / "inf.csv", index=False)
    outs = []
    for k in ("3", "100"):
        res = run_cli("score", str(run), str(tmp_path / "inf.csv"), "-o", str(tmp_path / f"s{k}.csv"), "--chunk-rows", k)
        assert res.returncode == 0, res.stderr
        assert "2 value(s) not read as numbers or dates in the training style" in " ".join(res.stdout.split()), res.stdout
        outs.append(pd.read_csv(tmp_path / f"s{k}.csv"))
    pd.testing.assert_frame_equal(outs[0], outs[1])


def test_the_row_of_an_unreadable_column_is_its_row_in_the_whole_input(tmp_path: Path) -> None:
    """Parquet batches restart their index at 0: the row named is counted over the whole input, so the
    chunk size does not change the message; over a folder's files, the file is named too."""
    from aekit.stream import score_stream

    run = _shop(tmp_path)
    df = pd.read_csv(tmp_path / "train.csv", dtype=str).head(12)
    df["amount"] = [""] * 7 + ["three", "four", "five", "six", "seven"]  # gaps first, then words only
    df.to_parquet(tmp_path / "words.parquet")
    messages = []
    for k in (3, 100):
        with pytest.raises(DataError) as err:
            score_stream(run, tmp_path / "words.parquet", tmp_path / f"s{k}.csv", chunk_rows=k)
        messages.append(str(err.value))
        assert not (tmp_path / f"s{k}.csv").exists()
    assert messages[0] == messages[1] and "value 'three' at row 7 is not a number" in messages[0], messages
    folder = tmp_path / "parts"
    folder.mkdir()
    df.head(4).to_parquet(folder / "a.parquet")
    df.iloc[4:].to_parquet(folder / "b.parquet")
    for k in (3, 100):
        with pytest.raises(DataError, match=r"value 'three' at row 7 is not a number .* \(in b.parquet; rows counted over"):
            score_stream(run, folder, tmp_path / "f.csv", chunk_rows=k)


def test_a_date_column_of_which_no_value_parses_is_one_line_not_filled(tmp_path: Path) -> None:
    """Every date in ISO form where training wrote day first: schema drift, as a numeric column of words,
    one line naming the column, the value, its row and the training format, exit 2 and no output (the
    API and serve alike); a few dates that parse beside them: filled and counted."""
    import aekit
    from fastapi.testclient import TestClient

    from aekit.serve import create_app, load_for_serving

    run = _shop(tmp_path)
    df = pd.read_csv(tmp_path / "train.csv", dtype=str).head(12)
    df["when"] = [""] + list(pd.date_range("2025-03-01", periods=11, freq="D").strftime("%Y-%m-%d"))
    df.to_csv(tmp_path / "iso.csv", index=False)
    message = "column 'when': value '2025-03-01' at row 1 is not a date in the training format '%d/%m/%Y' (11 such value(s))"
    for k in ("3", "100"):
        res = run_cli("score", str(run), str(tmp_path / "iso.csv"), "-o", str(tmp_path / "s.csv"), "--chunk-rows", k)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and message in res.stderr, res.stderr
        assert not (tmp_path / "s.csv").exists()
    with pytest.raises(DataError, match=re.escape(message)):
        aekit.load(run).anomaly_score(pd.read_csv(tmp_path / "iso.csv"))
    with TestClient(create_app(load_for_serving(run))) as client:
        r = client.post("/v1/score", files={"file": ("iso.csv", (tmp_path / "iso.csv").read_bytes())})
    assert r.status_code == 422 and message in r.json()["error"], r.text
    df.loc[8:, "when"] = pd.read_csv(tmp_path / "train.csv", dtype=str)["when"].head(4).to_numpy()
    det = aekit.load(run)
    det.anomaly_score(df)
    assert det.table_.last_counts_.unread == {"when": 7}


def test_an_all_infinite_column_is_said_to_be_infinite() -> None:
    t = TablePreprocessor().fit(pd.DataFrame({"x": np.arange(20) * 0.5, "c": ["a", "b"] * 10}))
    with pytest.raises(DataError, match=r"column 'x': value 'inf' at row 0 is infinite or not a number in the training "
                                        r"style \(6 such"):
        t.transform(pd.DataFrame({"x": [np.inf] * 5 + ["-Infinity"], "c": ["a"] * 6}))
    with pytest.raises(DataError, match=r"value 'three' at row 0 is not a number in the training style \(6 such"):
        t.transform(pd.DataFrame({"x": ["three", "inf", "four", "five", "six", "seven"], "c": ["a"] * 6}))


def test_a_column_scored_in_another_style_is_one_line_not_filled(tmp_path: Path) -> None:
    """Every amount in '3.912,38' style where training wrote '3,912.38': schema drift, one line and no
    output, whatever the chunk size; with a few amounts that read, the others are filled and counted."""
    import aekit

    run = _shop(tmp_path)
    df = pd.read_csv(tmp_path / "train.csv", dtype=str).head(12)
    df["amount"] = [v.replace(",", " ").replace(".", ",").replace(" ", ".") for v in df["amount"]]
    df.to_csv(tmp_path / "drift.csv", index=False)
    for k in ("3", "100"):
        res = run_cli("score", str(run), str(tmp_path / "drift.csv"), "-o", str(tmp_path / "s.csv"), "--chunk-rows", k)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert f"column 'amount': value '{df['amount'][0]}' at row 0 is not a number in the training style (12 such" \
            in res.stderr, res.stderr
        assert not (tmp_path / "s.csv").exists()
    with pytest.raises(DataError, match="column 'amount': value .* at row 0 is not a number in the training style"):
        aekit.load(run).anomaly_score(df)  # the API: per call
    good = pd.read_csv(tmp_path / "train.csv", dtype=str)["amount"].head(3)
    df.loc[9:, "amount"] = good.to_numpy()
    df.to_csv(tmp_path / "some.csv", index=False)
    res = run_cli("score", str(run), str(tmp_path / "some.csv"), "-o", str(tmp_path / "s.csv"), "--chunk-rows", "3")
    assert res.returncode == 0 and "9 value(s) not read as numbers" in " ".join(res.stdout.split()), res.stdout + res.stderr
    df.loc[4:, "amount"] = ""  # 4 unread and nothing read: under 5, filled and counted
    det = aekit.load(run)
    det.anomaly_score(df)
    assert det.table_.last_counts_.unread == {"amount": 4}
