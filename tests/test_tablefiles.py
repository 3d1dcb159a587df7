"""Table files as people keep them: delimiters, decimal commas, headers, R row names, UCI gaps.

One reader (aekit.data.tablefiles) settles a file's format once; detect, score (chunked),
explore and serve then read the same columns from it.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.data.tablefiles import (ROW_NAMES, TextFormat, is_table_file, iter_table_chunks, read_table,
                                   read_table_bytes, sniff_text_table, text_format)
from aekit.errors import DataError
from tests.conftest import run_cli

RNG = np.random.default_rng(0)
N = 40


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"x": RNG.normal(size=N).round(4), "y": RNG.normal(size=N).round(4),
                         "group": RNG.choice(["ctrl", "trt1", "trt 2"], N)})


def _r_write_table(df: pd.DataFrame) -> str:
    """What R's ``write.table(df)`` writes: quoted names, a header without the row names' field."""
    head = " ".join(f'"{c}"' for c in df.columns)
    rows = [" ".join([f'"{i + 1}"'] + [f'"{v}"' if isinstance(v, str) else repr(v) for v in r])
            for i, r in enumerate(df.itertuples(index=False))]
    return "\n".join([head] + rows) + "\n"


def _uci(df: pd.DataFrame) -> str:
    """A UCI ``.data`` file: no header, ``?`` for a gap."""
    text = df.astype(object).where(df.notna(), "?")
    return text.to_csv(header=False, index=False)


FORMATS = {
    # name: (file name, text of the frame, the format it must be read in)
    "csv": ("t.csv", lambda df: df.to_csv(index=False), TextFormat(",")),
    "semicolon, decimal comma": ("t.csv", lambda df: df.to_csv(index=False, sep=";", decimal=","), TextFormat(";", ",")),
    "tsv": ("t.tsv", lambda df: df.to_csv(index=False, sep="\t"), TextFormat("\t")),
    "pipe": ("t.txt", lambda df: df.to_csv(index=False, sep="|"), TextFormat("|")),
    "R write.table": ("t.tab", _r_write_table, TextFormat(None, header=True, row_names=True)),
    "UCI .data": ("t.data", _uci, TextFormat(",", header=False)),
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_each_layout_is_sniffed_and_read_back_exactly(kind: str, tmp_path: Path) -> None:
    name, write, expected = FORMATS[kind]
    df = _frame()
    df.loc[3, "x"] = np.nan  # a gap, written as the format writes gaps
    path = tmp_path / name
    path.write_text(write(df))
    assert text_format(path) == expected
    got = read_table(path)
    if not expected.header:  # no names in the file: R's V1, V2, ...
        assert list(got.columns) == ["V1", "V2", "V3"]
        got.columns = list(df.columns)
    if expected.row_names:
        assert got[ROW_NAMES].tolist() == list(range(1, N + 1))
        got = got.drop(columns=[ROW_NAMES])
    if kind == "UCI .data":  # the reader leaves '?' as text (it can be a category); aekit.data.tables reads it as a gap
        assert got.loc[3, "x"] == "?"
        got["x"] = pd.to_numeric(got["x"].replace("?", np.nan))
    pd.testing.assert_frame_equal(got, df, check_dtype=False)
    # chunk by chunk (aekit score), from uploaded bytes (aekit serve), gzipped: the same table
    chunks = pd.concat(list(iter_table_chunks(path, 7)), ignore_index=True)
    if kind == "UCI .data":  # a chunk without the '?' holds floats where the whole file holds text: the same values
        pd.testing.assert_frame_equal(chunks.astype(str), read_table(path).astype(str), check_dtype=False)
    else:
        pd.testing.assert_frame_equal(chunks, read_table(path))
    pd.testing.assert_frame_equal(read_table_bytes(path.read_bytes(), name), read_table(path))
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert is_table_file(gz)
    pd.testing.assert_frame_equal(read_table(gz), read_table(path))


def test_headers_that_are_numbers_or_empty() -> None:
    X = RNG.normal(size=(6, 3)).round(3)
    # pandas' to_csv with its index: an empty first name over a full column
    assert sniff_text_table(pd.DataFrame(X).to_csv().splitlines()).header
    # pandas' integer column names over decimals
    assert sniff_text_table(pd.DataFrame(X).to_csv(index=False).splitlines()).header
    # numbers over numbers: no header
    assert not sniff_text_table(pd.DataFrame(X).to_csv(index=False, header=False).splitlines()).header
    # integers over integers with a word header, and an all-text table, keep their header
    assert sniff_text_table(["a,b", "1,2", "3,4"]).header
    assert sniff_text_table(["name,city", "ann,oslo", "bob,rome"]).header
    # one column, a single line, an empty file
    assert sniff_text_table(["x", "1.5", "2.5"]) == TextFormat(",")
    assert sniff_text_table(["a,b,c"]) == TextFormat(",")
    assert sniff_text_table([]) == TextFormat(",")
    # a comma inside quotes is not a delimiter, and a decimal comma needs a delimiter other than the comma
    assert sniff_text_table(['a;b', '"x,y";1,5', '"z";2,5']) == TextFormat(";", ",")
    assert sniff_text_table(["a;b", "1.5;2", "2,5;3"]).decimal == "."  # a point anywhere: decimal point


def test_explore_says_how_it_reads_a_file(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(_frame().to_csv(index=False, sep=";", decimal=","))
    res = run_cli("explore", str(tmp_path / "t.csv"), "-o", str(tmp_path / "ex"))
    assert res.returncode == 0, res.stderr
    assert "file: ';'-separated, decimal comma" in " ".join(res.stdout.split())


def test_latin1_and_bom_files_read_as_their_text(tmp_path: Path) -> None:
    rows = "city;temp\nZürich;3,5\nKöln;4,0\nParis;5,5\n"
    (tmp_path / "latin.csv").write_bytes(rows.encode("latin-1"))  # an older spreadsheet's export
    (tmp_path / "bom.csv").write_bytes(rows.encode("utf-8-sig"))  # Excel's "CSV UTF-8"
    for name, encoding in (("latin.csv", "latin-1"), ("bom.csv", "utf-8")):
        assert text_format(tmp_path / name) == TextFormat(";", ",", encoding=encoding)
        got = read_table(tmp_path / name)
        assert list(got.columns) == ["city", "temp"] and got["city"].tolist() == ["Zürich", "Köln", "Paris"]
        assert got["temp"].tolist() == [3.5, 4.0, 5.5]
        pd.testing.assert_frame_equal(read_table_bytes((tmp_path / name).read_bytes(), name), got)
        pd.testing.assert_frame_equal(pd.concat(list(iter_table_chunks(tmp_path / name, 2)), ignore_index=True), got)


def test_unreadable_and_unknown_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n1,"2\n')  # an unclosed quote
    with pytest.raises(DataError, match="bad.csv: cannot parse table"):
        read_table(bad)
    bad_gz = tmp_path / "bad.csv.gz"
    bad_gz.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="bad.csv.gz: cannot"):
        read_table(bad_gz)
    assert not is_table_file("x.json") and is_table_file("X.CSV") and is_table_file("x.dat.gz")


def test_detect_and_score_read_an_r_table_and_a_uci_file(tmp_path: Path) -> None:
    df = _frame()
    df.loc[5, "y"] = np.nan
    (tmp_path / "plants.tab").write_text(_r_write_table(df))
    run = tmp_path / "run"
    res = run_cli("detect", str(tmp_path / "plants.tab"), "-o", str(run), "-q", "--epochs", "2", "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert f"id column '{ROW_NAMES}' kept as row id" in out and "1 missing value(s) imputed" in out
    assert f"file: space-separated, R's row names (column '{ROW_NAMES}')" in out  # says how it read the file
    scores = pd.read_csv(run / "scores.csv")
    assert scores[ROW_NAMES].tolist() == list(range(1, N + 1))
    res = run_cli("score", str(run), str(tmp_path / "plants.tab"), "-o", str(tmp_path / "s.csv"), "--chunk-rows", "9", "-q")
    assert res.returncode == 0, res.stderr
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"], scores["score"], rtol=1e-6)
    # a header-less UCI file: columns V1.., labels named by --label-column, '?' a gap
    uci = pd.DataFrame({"a": RNG.normal(size=N).round(3), "b": RNG.normal(size=N).round(3),
                        "cls": (np.arange(N) % 10 == 0).astype(int)})
    uci.loc[2, "a"] = np.nan
    (tmp_path / "u.data").write_text(_uci(uci))
    res = run_cli("detect", str(tmp_path / "u.data"), "--label-column", "V3", "-o", str(tmp_path / "u"), "-q",
                  "--epochs", "2", "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "1 missing value(s) imputed" in out and "roc_auc" in out.lower().replace("-", "_")
    assert "file: ','-separated, no header (columns V1, V2, ...)" in out
    assert list(pd.read_csv(tmp_path / "u" / "scores.csv").columns) == ["row", "score", "is_anomaly", "label"]


def test_detection_labels_are_two_values_with_the_rarer_one_the_anomaly() -> None:
    from aekit.data.loaders import split_anomaly_labels

    x = RNG.normal(size=10)
    # a regression target named y: a feature, and the note says so
    got = split_anomaly_labels(pd.DataFrame({"x": x, "y": RNG.normal(size=10)}), "t")
    assert got.y is None and list(got.features.columns) == ["x", "y"] and "read as a feature" in got.note
    # 0/1 as they are, even when 1 is the common value
    got = split_anomaly_labels(pd.DataFrame({"x": x, "label": [1] * 7 + [0] * 3}), "t")
    assert got.y.tolist() == [1] * 7 + [0] * 3 and got.column == "label" and got.note is None
    # two other values: the rarer one is the anomaly, whatever it sorts as
    for normal, rare in ((2, 4), ("normal", "attack"), (1, -1), ("b", "a")):
        got = split_anomaly_labels(pd.DataFrame({"x": x, "class": [normal] * 8 + [rare] * 2}), "t")
        assert got.y.tolist() == [0] * 8 + [1] * 2 and f"{rare!r} -> anomaly" in got.note
    # named by the user: more than two values is a one-line error
    with pytest.raises(DataError, match="'g' has 3 distinct values; detection needs two"):
        split_anomaly_labels(pd.DataFrame({"x": x, "g": list("abc") * 3 + ["a"]}), "t", "g")
    # one value: training rows all normal
    got = split_anomaly_labels(pd.DataFrame({"x": x, "class": ["normal"] * 10}), "t")
    assert got.y.tolist() == [0] * 10 and "every row read as normal" in got.note
    # a many-valued y before the real labels: y is a feature, the labels are found
    got = split_anomaly_labels(pd.DataFrame({"x": x, "y": RNG.normal(size=10), "label": [0] * 9 + [1]}), "t")
    assert got.column == "label" and list(got.features.columns) == ["x", "y"] and got.y.sum() == 1
    # 0/1 written as text or floats or booleans mean 0/1, even when 1 is the common value
    for zero, one in (("0", "1"), (0.0, 1.0), (False, True)):
        got = split_anomaly_labels(pd.DataFrame({"x": x, "target": [one] * 7 + [zero] * 3}), "t")
        assert got.y.tolist() == [1] * 7 + [0] * 3 and got.note is None


def test_score_leaves_out_the_label_column_detect_was_told(tmp_path: Path) -> None:
    uci = pd.DataFrame({"a": RNG.normal(size=N).round(3), "b": RNG.normal(size=N).round(3),
                        "c": RNG.normal(size=N).round(3), "cls": np.where(np.arange(N) % 8 == 0, 4, 2)})
    (tmp_path / "u.data").write_text(_uci(uci))
    run = tmp_path / "run"
    res = run_cli("detect", str(tmp_path / "u.data"), "--label-column", "V4", "-o", str(run), "-q",
                  "--epochs", "2", "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    assert "labels: column 'V4', 4 -> anomaly (the rarer value, 5 of 40 rows), 2 -> normal" in " ".join(res.stdout.split())
    assert pd.read_csv(run / "scores.csv")["label"].sum() == 5
    res = run_cli("score", str(run), str(tmp_path / "u.data"), "-o", str(tmp_path / "s.csv"), "-q")
    assert res.returncode == 0, res.stderr
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"], pd.read_csv(run / "scores.csv")["score"],
                               rtol=1e-6)


def test_detect_id_column_is_kept_out_of_the_features_and_written_beside_the_scores(tmp_path: Path) -> None:
    df = pd.DataFrame({"code": [f"{v:07d}" for v in RNG.integers(0, 10**6, N)], "a": RNG.normal(size=N).round(3),
                       "b": RNG.normal(size=N).round(3)})
    df.loc[1, "code"] = df.loc[0, "code"]  # a sample code repeated: not unique, so no id by itself
    df.to_csv(tmp_path / "t.csv", index=False)
    run = tmp_path / "run"
    res = run_cli("detect", str(tmp_path / "t.csv"), "--id-column", "code", "-o", str(run), "-q", "--epochs", "2",
                  "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    assert "2 features" in " ".join(res.stdout.split())
    scores = pd.read_csv(run / "scores.csv", dtype={"code": str})
    assert list(scores.columns) == ["code", "score", "is_anomaly"] and scores["code"].tolist() == df["code"].tolist()
    res = run_cli("score", str(run), str(tmp_path / "t.csv"), "-o", str(tmp_path / "s.csv"), "-q", "--chunk-rows", "7")
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(tmp_path / "s.csv", dtype={"code": str})  # leading zeros kept, chunk by chunk too
    assert got["code"].tolist() == df["code"].tolist()
    np.testing.assert_allclose(got["score"], scores["score"], rtol=1e-6)
    res = run_cli("detect", str(tmp_path / "t.csv"), "--id-column", "nope", "-o", str(tmp_path / "r2"), "-q")
    assert res.returncode == 2 and "id column 'nope' not found" in res.stderr and not (tmp_path / "r2").exists()


ZIPS = {"no leading zeros": ["94110", "94103", "10001", "90210", "60614", "73301", "30301", "98101", "80202", "55401",
                             "19103", "63101"],
        "leading zeros": ["02134", "02139", "00501", "07030", "10001", "90210", "06510", "08540", "60614", "01002",
                          "03101", "05401"]}


@pytest.mark.parametrize("kind", list(ZIPS))
def test_detect_category_column_fits_zip_codes_as_a_category_and_score_gives_the_same_scores(kind: str, tmp_path: Path) -> None:
    """--category-column zip: read as text, one-hot (two codes seen once pooled), said in the summary;
    the saved run reads it as text per chunk, so `aekit score` on the same file gives detect's scores
    whole and in chunks of 7, and a zip never seen is scored as the pooled rare codes and counted (an
    `aekit serve` upload too)."""
    import aekit
    from aekit.data.tables import column_roles

    rng = np.random.default_rng(7)
    codes = ZIPS[kind]
    zips = [codes[i % len(codes)] for i in range(N - 2)] + ["33101", "33102"]  # each code 3 or 4 times, two once
    df = pd.DataFrame({"x": rng.normal(size=N).round(3), "zip": rng.permutation(zips), "y": rng.normal(size=N).round(3)})
    df.to_csv(tmp_path / "t.csv", index=False)
    if kind == "no leading zeros":  # left alone, zips are numbers, and the summary names the flag
        role = {r.name: r for r in column_roles(read_table(tmp_path / "t.csv", keep_codes=True))}["zip"]
        assert role.role == "numeric" and "aekit detect --category-column zip" in role.note
    run = tmp_path / "run"
    res = run_cli("detect", str(tmp_path / "t.csv"), "--category-column", "zip", "-o", str(run), "-q", "--epochs", "1",
                  "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "categories as given: 'zip' -> 13 one-hot" in out and "'zip': 2 values seen in fewer than 2 rows pooled" in out, out
    table = aekit.load(run).table_
    assert "zip" in table.text_columns and table.categories_["zip"] == sorted(codes)
    expected = pd.read_csv(run / "scores.csv")["score"].to_numpy()
    res = run_cli("score", str(run), str(tmp_path / "t.csv"), "-o", str(tmp_path / "whole.csv"), "-q")
    assert res.returncode == 0 and "unseen" not in res.stdout, res.stderr + res.stdout
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "whole.csv")["score"].to_numpy(), expected)
    new = pd.concat([df, pd.DataFrame({"x": [0.1], "zip": ["09999" if kind == "leading zeros" else "99999"], "y": [0.2]})])
    new.to_csv(tmp_path / "new.csv", index=False)
    res = run_cli("score", str(run), str(tmp_path / "new.csv"), "-o", str(tmp_path / "chunks.csv"), "-q", "--chunk-rows", "7")
    assert res.returncode == 0, res.stderr
    assert "1 category value(s) unseen in training" in res.stdout and "'zip': 1" in res.stdout, res.stdout
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "chunks.csv")["score"].to_numpy()[:N], expected)
    from fastapi.testclient import TestClient

    from aekit.serve import create_app, load_for_serving

    with TestClient(create_app(load_for_serving(run))) as client:  # an upload reads the zips as `aekit score` does
        r = client.post("/v1/score", files={"file": ("new.csv", (tmp_path / "new.csv").read_bytes())})
    assert r.status_code == 200 and r.json()["filled"] == {"unseen": {"zip": 1}}, r.text
    np.testing.assert_allclose(r.json()["score"][:N], expected, rtol=1e-5)


def test_detect_category_column_that_is_not_a_feature_column_is_one_line(tmp_path: Path) -> None:
    df = pd.DataFrame({"key": [f"k{i}" for i in range(N)], "zip": RNG.choice(ZIPS["leading zeros"], N),
                       "a": RNG.normal(size=N).round(3), "label": [0] * (N - 4) + [1] * 4})
    df.to_csv(tmp_path / "t.csv", index=False)
    for flags, message in ((["--category-column", "nope"], "category column 'nope' not found; columns: key, zip, a, label"),
                           (["--category-column", "key", "--id-column", "key"],
                            "column 'key' is given both as --id-column and as --category-column"),
                           (["--category-column", "zip", "--category-column", "label"], "column 'label' holds the labels")):
        res = run_cli("detect", str(tmp_path / "t.csv"), *flags, "-o", str(tmp_path / "r"), "-q")
        assert res.returncode == 2 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert not (tmp_path / "r").exists() and not (tmp_path / "runs").exists()


LAYOUTS = {
    # name: (file text, rows, columns) as they must be read
    "integer names over integers": ("0,1,2,3\n5,6,7,8\n9,10,11,12\n", 2, ["0", "1", "2", "3"]),
    "years over counts": ("2019,2020,2021\n5,6,7\n9,10,11\n", 2, ["2019", "2020", "2021"]),
    "headerless, a whole number among decimals": ("0,0.53,1.25\n0.25,0.5,2.5\n0.75,1.5,3.5\n0.5,0.7,1.1\n", 4,
                                                  ["V1", "V2", "V3"]),
    "headerless text (UCI car)": ("vhigh,vhigh,2,small\nhigh,vhigh,2,big\nvhigh,low,4,small\nlow,vhigh,2,big\n", 4,
                                  ["V1", "V2", "V3", "V4"]),
    "text with a header": ("buying,maint,size\nvhigh,vhigh,small\nhigh,low,big\n", 2, ["buying", "maint", "size"]),
    "a blank line before R's header": ('\n"a" "b"\n"1" 1.5 2\n"2" 2.5 3\n', 2, [ROW_NAMES, "a", "b"]),
    "a delimiter ending each data line": ("a,b,c\n1.5,2,3,\n4.5,5,6,\n", 2, ["a", "b", "c"]),
    "one line of numbers": ("1.5,2,3\n", 1, ["V1", "V2", "V3"]),
    "spaces after the delimiter stay": ("a, b\n1, 2\n3, 4\n", 2, ["a", " b"]),
}


@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_headers_row_names_and_delimiters_as_they_come(kind: str, tmp_path: Path) -> None:
    text, rows, columns = LAYOUTS[kind]
    path = tmp_path / "t.csv"
    path.write_text(text)
    got = read_table(path)
    assert (len(got), [str(c) for c in got.columns]) == (rows, columns)
    pd.testing.assert_frame_equal(read_table_bytes(text.encode(), "t.csv"), got)


def test_a_semicolon_file_reads_decimal_commas_that_come_late(tmp_path: Path) -> None:
    lines = ["a;b"] + [f"{i};{i % 5}" for i in range(100)] + ["100;0,532", "101;-1,25"]  # whole numbers first
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    assert text_format(tmp_path / "t.csv") == TextFormat(";", ",")
    got = read_table(tmp_path / "t.csv")
    assert got["b"].tolist()[-2:] == [0.532, -1.25]
    assert pd.concat(list(iter_table_chunks(tmp_path / "t.csv", 30)))["b"].tolist() == got["b"].tolist()


def test_question_marks_stay_a_category_and_codes_stay_text_in_chunks(tmp_path: Path) -> None:
    from aekit.data.tables import TablePreprocessor

    n = 60
    df = pd.DataFrame({"a": RNG.normal(size=n).round(3), "shade": RNG.choice(["red", "?", "blue"], n),
                       "code": RNG.choice(["01", "02", "03"], n)})
    df.loc[n - 1, "code"] = "A1"  # the only word, in the last chunk
    df.to_csv(tmp_path / "t.csv", index=False)
    whole = read_table(tmp_path / "t.csv")
    assert "?" in set(whole["shade"]) and whole["code"].iloc[0] in ("01", "02", "03")
    table = TablePreprocessor().fit(whole)
    assert set(table.text_columns) == {"shade", "code"}
    chunks = list(iter_table_chunks(tmp_path / "t.csv", 7, table.text_columns))
    assert chunks[0]["code"].iloc[0] in ("01", "02", "03")  # not the number 1
    np.testing.assert_array_equal(np.vstack([table.transform(c) for c in chunks]), table.transform(whole))


def test_short_latin1_utf16_and_a_line_end_inside_a_value(tmp_path: Path) -> None:
    (tmp_path / "cafe.csv").write_bytes("name,x\ncafé,1\n".encode("latin-1"))  # the odd byte at the very end
    assert read_table(tmp_path / "cafe.csv")["name"].tolist() == ["café"]
    (tmp_path / "u16.txt").write_bytes("a\tb\n1,5\t2\n3\t4\n".encode("utf-16"))  # Excel's "Unicode text"
    got = read_table(tmp_path / "u16.txt")
    assert list(got.columns) == ["a", "b"] and got["b"].tolist() == [2, 4]
    # U+0085 is a line end to str.splitlines, not to a file: an upload reads as the file does
    data = "note;v\nx\u0085y;1,5\nz;2,5\n".encode("latin-1", errors="replace").replace(b"?", b"\x85")
    (tmp_path / "n.csv").write_bytes(data)
    pd.testing.assert_frame_equal(read_table_bytes(data, "n.csv"), read_table(tmp_path / "n.csv"))
    assert read_table(tmp_path / "n.csv").shape == (2, 2)


def test_styled_numbers_dates_and_ids_read_alike_whole_and_in_chunks(tmp_path: Path) -> None:
    """A chunk read on its own must not re-type a column: '6.428' in a column of '1.234,5' is 6428."""
    from aekit.data.tables import TablePreprocessor

    n = 50
    eu = [f"{v:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".") for v in RNG.uniform(1000, 9000, n)]
    eu[-5:] = ["6.428", "5.866", "6.235", "7.001", "8.500"]  # the last chunk: all look like plain decimals
    days = pd.date_range("2024-01-01", periods=n, freq="D").strftime("%d/%m/%Y").tolist()
    days[0] = "?"  # a gap first: the format comes from the others
    df = pd.DataFrame({"eu": eu, "when": days, "cust": [f"{i:06d}" for i in range(n)], "x": RNG.normal(size=n)})
    df.to_csv(tmp_path / "t.csv", index=False)
    whole = read_table(tmp_path / "t.csv")
    table = TablePreprocessor().fit(whole)
    roles = {r.name: (r.role, r.number_format, r.date_format) for r in table.roles_}
    assert roles["eu"][:2] == ("numeric", "decimal_comma") and roles["when"] == ("date", None, "%d/%m/%Y")
    assert table.id_column_ == "cust" and set(table.text_columns) == {"eu", "when", "cust"}
    chunks = list(iter_table_chunks(tmp_path / "t.csv", 5, table.text_columns))
    assert chunks[-1]["cust"].iloc[0] == "000045"
    np.testing.assert_array_equal(np.vstack([table.transform(c) for c in chunks]), table.transform(whole))


def test_a_unique_column_of_mostly_numbers_is_not_taken_for_the_id() -> None:
    from aekit.data.tables import column_roles

    balance = [f"({v:.2f})" if i % 3 == 0 else f"{v:.2f}" for i, v in enumerate(RNG.uniform(1, 100, 30))]
    roles = {r.name: r for r in column_roles(pd.DataFrame({"balance": balance, "customer_id": range(100, 130)}))}
    assert roles["balance"].role == "text" and "format not read" in roles["balance"].note
    assert roles["customer_id"].role == "id"


def test_integer_codes_keep_their_leading_zeros(tmp_path: Path) -> None:
    """A spreadsheet's ';' file with German postal codes (01067 Dresden), a gap among them, decimal
    commas and an integer count: the codes come back as their text, the rest as numbers, from a file
    and from an upload alike."""
    text = "plz;preis;anzahl\n01067;12,5;3\n80331;7,25;12\n;3,0;5\n10115;1,5;7\n"
    (tmp_path / "orte.csv").write_text(text)
    for df in (read_table(tmp_path / "orte.csv", keep_codes=True), read_table_bytes(text.encode(), "orte.csv", keep_codes=True)):
        assert df["plz"].tolist()[:2] == ["01067", "80331"] and pd.isna(df["plz"][2]) and df["plz"][3] == "10115"
        assert df["preis"].tolist() == [12.5, 7.25, 3.0, 1.5] and df["anzahl"].dtype.kind == "i"
    plain = "plz,n\n1067,3\n80331,12\n"  # no leading zero in the text: numbers, as pandas reads them
    (tmp_path / "plain.csv").write_text(plain)
    assert read_table(tmp_path / "plain.csv", keep_codes=True)["plz"].dtype.kind == "i"


def test_codes_are_kept_only_where_asked_so_train_reads_numbers(tmp_path: Path) -> None:
    """Keeping zero-led integer codes as text is detect's reading (``keep_codes=True``: detect, explore,
    serve uploads); ``aekit train``'s ``load_dataset`` reads the same file as numbers, as it always did."""
    from aekit.data import load_dataset

    rows = "".join(f"{0.1 * i:.1f},{i % 7},{i % 3:04d}\n" for i in range(12))
    text = "a,b,plant\n" + rows
    (tmp_path / "num.csv").write_text(text)
    assert read_table(tmp_path / "num.csv")["plant"].dtype.kind == "i"
    assert read_table(tmp_path / "num.csv", keep_codes=True)["plant"].tolist()[:3] == ["0000", "0001", "0002"]
    assert read_table_bytes(text.encode(), "num.csv", keep_codes=True)["plant"][1] == "0001"
    assert read_table_bytes(text.encode(), "num.csv")["plant"][1] == 1
    ds = load_dataset(str(tmp_path / "num.csv"))
    assert ds.X.shape == (12, 3) and float(ds.X[2, 2]) == 2.0


def test_codes_are_whole_numbers_of_one_width_of_three_digits_or_more(tmp_path: Path) -> None:
    """A column is codes only when every value has one width, of at least 3 digits, and one starts
    with 0: an age with one stray "07" and minutes "00".."59" stay numbers; zip codes stay codes, and so do
    fixed-width numbers such as "022576" (the rule cannot tell them from product codes "000123")."""
    from aekit.data.tables import column_roles, zero_led

    rng = np.random.default_rng(2)
    n = 40
    age = [str(v) for v in rng.integers(18, 90, n)]
    age[5] = "07"
    df = pd.DataFrame({"age": age, "minute": [f"{v:02d}" for v in rng.integers(0, 60, n)],
                       "amount": [f"{v:06d}" for v in rng.integers(0, 99999, n)],
                       "zip": [["02134", "00501", "94110"][i % 3] for i in range(n)], "x": rng.normal(size=n).round(3)})
    df.to_csv(tmp_path / "f.csv", index=False)
    got = read_table(tmp_path / "f.csv", keep_codes=True)
    assert got["age"].dtype.kind == "i" and got["age"][5] == 7 and got["minute"].dtype.kind == "i"
    assert got["zip"].tolist()[:2] == ["02134", "00501"] and got["amount"][0] == df["amount"][0]
    roles = {r.name: r.role for r in column_roles(df)}  # strings in a DataFrame, by the same rule
    assert roles["age"] == roles["minute"] == "numeric" and roles["zip"] == "categorical"
    assert zero_led(["02134", None, "NA", "94110"]) == "02134" and zero_led(["04", "11"]) == ""
    assert zero_led(["007", "13"]) == "" and zero_led(["123", "456"]) == ""


def test_codes_past_the_sniffed_head_are_kept_and_mixed_widths_are_numbers(tmp_path: Path) -> None:
    """The head lines only rule columns out: zip codes whose first leading zero comes after them stay
    codes, a zip column with a gap stays codes, and integers of mixed widths stay numbers."""
    n = 150
    zips = ["94110"] * 100 + ["02134"] * (n - 100)
    gappy = ["" if i == 3 else ["00501", "94110"][i % 2] for i in range(n)]
    text = "zip,gappy,count,x\n" + "".join(f"{z},{g},{i * 37 % 1000},{i * 0.5}\n" for i, (z, g) in enumerate(zip(zips, gappy)))
    (tmp_path / "z.csv").write_text(text)
    for got in (read_table(tmp_path / "z.csv", keep_codes=True), read_table_bytes(text.encode(), "z.csv", keep_codes=True)):
        assert got["zip"][0] == "94110" and got["zip"][n - 1] == "02134"
        assert got["gappy"][0] == "00501" and pd.isna(got["gappy"][3]) and got["count"].dtype.kind == "i"


def _four_paths(run: Path, f: Path, tmp_path: Path) -> dict[str, tuple[np.ndarray, str]]:
    """Scores of file ``f`` by the 4 paths a saved run is scored by, each with what it said was unseen:
    ``aekit score`` whole and in chunks of 3, ``aekit.load(run).anomaly_score(pd.read_csv(f))`` and a serve upload."""
    import aekit
    from fastapi.testclient import TestClient

    from aekit.serve import create_app, load_for_serving

    out: dict[str, tuple[np.ndarray, str]] = {}
    for name, flags in (("whole", []), ("chunks", ["--chunk-rows", "3"])):
        res = run_cli("score", str(run), str(f), "-o", str(tmp_path / f"{f.stem}-{name}.csv"), *flags)
        assert res.returncode == 0, res.stderr
        out[name] = (pd.read_csv(tmp_path / f"{f.stem}-{name}.csv")["score"].to_numpy(), res.stdout)
    det = aekit.load(run)
    out["api"] = (det.anomaly_score(pd.read_csv(f)), str(det.table_.last_counts_.unseen or ""))
    with TestClient(create_app(load_for_serving(run))) as client:
        r = client.post("/v1/score", files={"file": (f.name, f.read_bytes())})
    assert r.status_code == 200, r.text
    out["serve"] = (np.asarray(r.json()["score"]), str(r.json().get("filled", "")))
    return out


def test_given_categories_and_codes_written_as_other_numbers_are_the_training_categories(tmp_path: Path) -> None:
    """--category-column price on "1.50"-style prices: pd.read_csv's 1.5 and a file's "1.5" are "1.50"; zips
    written "2134.0" (a pandas round trip with a gap) are "02134": the 4 paths score alike, nothing unseen."""
    rng = np.random.default_rng(3)
    n = 30
    df = pd.DataFrame({"x": rng.normal(size=n).round(3), "price": rng.choice(["1.50", "2.00", "3.25"], n),
                       "zip": [["02134", "00501", "94110"][i % 3] for i in range(n)], "y": rng.normal(size=n).round(3)})
    df.to_csv(tmp_path / "t.csv", index=False)
    run = tmp_path / "run"
    res = run_cli("detect", str(tmp_path / "t.csv"), "--category-column", "price", "-o", str(run), "-q", "--epochs", "1",
                  "--n-estimators", "2")
    assert res.returncode == 0, res.stderr
    expected = pd.read_csv(run / "scores.csv")["score"].to_numpy()
    for path, scores in _four_paths(run, tmp_path / "t.csv", tmp_path).items():
        assert "unseen" not in scores[1] and "price" not in scores[1], (path, scores[1])
        np.testing.assert_allclose(scores[0], expected, rtol=1e-5, err_msg=path)
    other = df.assign(price=df["price"].astype(float).astype(str), zip=df["zip"].astype(float).astype(str))
    other.loc[[4], "zip"] = ""  # "2134.0", "1.5", "2.0" as a pandas round trip writes them
    other.to_csv(tmp_path / "other.csv", index=False)
    assert "2134.0" in (tmp_path / "other.csv").read_text() and "1.5," in (tmp_path / "other.csv").read_text()
    got = _four_paths(run, tmp_path / "other.csv", tmp_path)
    for path, scores in got.items():
        assert "unseen" not in scores[1] and "price" not in scores[1] and "zip" not in scores[1].split("missing")[0], (path, scores[1])
        np.testing.assert_allclose(scores[0], got["whole"][0], rtol=1e-5, err_msg=path)
    keep = np.arange(n) != 4
    np.testing.assert_allclose(got["whole"][0][keep], expected[keep], rtol=1e-5)


def test_a_number_matching_two_categories_or_none_stays_unseen() -> None:
    from aekit.data.tables import TablePreprocessor, given_categories

    df = given_categories(pd.DataFrame({"p": ["1.50", "1.500", "2", "x"] * 5, "a": np.arange(20) % 7 * 1.0}), ["p"])
    table = TablePreprocessor().fit(df)
    table.transform(pd.DataFrame({"p": [1.5, "2.0", 2, "3", " 2.00 "], "a": [1.0] * 5}))
    assert table.last_counts_.unseen == {"p": 2}  # 1.5 matches two, "3" none; "2.0", 2 and " 2.00 " are "2"
