"""Table files as people keep them: one reader for every command that takes a table.

Text tables come with many conventions: commas (``.csv``), semicolons and decimal commas
(spreadsheets in much of Europe), tabs (``.tsv``), spaces with R's row names (``.tab``,
``.txt`` as ``write.table`` leaves them), no header at all (UCI's ``.data`` files, with
``?`` for a gap, which :mod:`aekit.data.tables` reads as one in a column of numbers).
:func:`sniff_text_table` reads the first lines once and settles the format;
:func:`read_table` and :func:`iter_table_chunks` then read the whole file, or chunk by
chunk, with exactly that format, so ``aekit detect``, ``aekit score``, ``aekit explore``
and ``aekit serve`` see the same columns. Parquet carries its own schema.

Every failure is a one-line :class:`~aekit.errors.DataError` naming the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from aekit.data.tables import CODE_WIDTH, MISSING_MARKERS, NUMBER_FORMATS, zero_led
from aekit.errors import DataError

TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".data", ".dat")  # each also read gzipped (".csv.gz")
TABLE_SUFFIXES = TEXT_SUFFIXES + tuple(s + ".gz" for s in TEXT_SUFFIXES) + (".parquet",)
LABEL_COLUMNS = ("label", "labels", "class", "target", "y")  # names taken as labels, not features
ROW_NAMES = "rownames"  # the column that R's write.table row names become
SNIFF_LINES = 64  # lines read to settle a text table's format
SNIFF_BYTES = 1 << 16  # bytes read to settle its encoding
_DELIMITERS = (",", "\t", ";", "|")  # tried in this order; ties go to the earlier one
_NUMBER = re.compile(NUMBER_FORMATS["number"])  # a plain number, as the table step reads one
_COMMA_NUMBER = re.compile(r"[+-]?\d+,\d+")


@dataclass(frozen=True)
class TextFormat:
    """How a text table is laid out.

    ``sep``: the field delimiter (``None``: runs of white space); ``decimal``: ``"."`` or
    ``","``; ``header``: whether the first line names the columns (without one, columns are
    named ``V1``, ``V2``, ... as R names them); ``row_names``: whether each line starts with a
    row name that the header does not name (R's ``write.table``), read as column
    :data:`ROW_NAMES`; ``trailing_sep``: whether every data line ends in a delimiter the header
    does not (an empty last field, dropped); ``encoding``: ``"utf-8"``, ``"utf-16"`` (with its
    byte-order mark), or ``"latin-1"`` when the file's first :data:`SNIFF_BYTES` are not UTF-8
    (older spreadsheets and R/UCI files).

    Gaps are pandas' markers (empty, ``NA``, ``NaN``, ``null``, ...). UCI's ``?`` is left as
    text, where it can be a category; :mod:`aekit.data.tables` reads it as a gap in a column
    of numbers.
    """

    sep: str | None = ","
    decimal: str = "."
    header: bool = True
    row_names: bool = False
    encoding: str = "utf-8"
    trailing_sep: bool = False

    def describe(self) -> str:
        """A few words for messages, e.g. ``"';'-separated, decimal comma, no header (columns V1, V2, ...)"``."""
        sep = {None: "space", "\t": "tab"}.get(self.sep, repr(self.sep))
        parts = [f"{sep}-separated"] + (["decimal comma"] if self.decimal == "," else [])
        parts += ["no header (columns V1, V2, ...)"] if not self.header else \
            ([f"R's row names (column '{ROW_NAMES}')"] if self.row_names else [])
        parts += ["a delimiter ending each line"] if self.trailing_sep else []
        parts += [self.encoding] if self.encoding != "utf-8" else []
        return ", ".join(parts)

    @property
    def plain(self) -> bool:
        """Whether this is the layout a plain CSV has (comma, decimal point, a header, UTF-8)."""
        return self == TextFormat()


def table_suffix(path: str | Path) -> str:
    """The table suffix of ``path`` (``".csv.gz"`` for ``x.csv.gz``), or ``""`` when it is none of
    :data:`TABLE_SUFFIXES`."""
    name = Path(path).name.lower()
    return next((s for s in sorted(TABLE_SUFFIXES, key=len, reverse=True) if name.endswith(s)), "")


def is_table_file(path: str | Path) -> bool:
    """Whether ``path`` names a table file (by its suffix; the file need not exist)."""
    return table_suffix(path) != ""


def _split(lines: list[str], sep: str | None) -> list[list[str]]:
    if sep is None:  # white space, with R's quoting of names that contain spaces
        return [next(csv.reader([re.sub(r"\s+", " ", ln.strip())], delimiter=" ", skipinitialspace=True)) for ln in lines]
    return list(csv.reader(lines, delimiter=sep))


def _consistent(rows: list[list[str]]) -> tuple[int, bool]:
    """``(k, same)``: the common field count ``k`` of the data lines, 0 when they disagree or
    have a single field; ``same`` when the first line has ``k`` fields too (not one fewer, as
    R's row names leave it)."""
    body = {len(r) for r in rows[1:]} or {len(rows[0])}
    if len(body) != 1:
        return 0, False
    k = body.pop()
    return (k, len(rows[0]) == k) if k > 1 and len(rows[0]) in (k, k - 1) else (0, False)


def _is_number(field: str, decimal: str) -> bool:
    text = field.strip()
    return bool((_COMMA_NUMBER if decimal == "," else _NUMBER).fullmatch(text)) or \
        (decimal == "," and bool(re.fullmatch(r"[+-]?\d+", text)))


def _integer_steps(fields: list[str]) -> bool:
    """Whether ``fields`` (at least 3) are integers in steady steps: names such as pandas' and
    numpy's ``0,1,2,...``, R's ``1,2,3,...`` or years, rarely a row of data."""
    values = [f.strip().lstrip("+") for f in fields]
    if len(values) < 3 or not all(re.fullmatch(r"-?\d+", v) for v in values):
        return False
    steps = {int(b) - int(a) for a, b in zip(values, values[1:])}
    return len(steps) == 1 and steps != {0}


def _first_row_is_data(first: list[str], body: list[list[str]]) -> bool:
    """For a table of text columns (nothing numeric to tell by): the first row is data when it
    repeats a value (names are unique) or each of its values appears again in its column below
    (UCI's header-less ``car.data``: ``vhigh,vhigh,2,2,small,...``)."""
    values = [f.strip() for f in first]
    if len(set(values)) < len(values):
        return True
    below = [{r[j].strip() for r in body if j < len(r)} for j in range(len(values))]
    return bool(body) and all(v in seen for v, seen in zip(values, below))


def _has_header(rows: list[list[str]], decimal: str) -> bool:
    """Whether the first row names the columns.

    Integers in steady steps (``0,1,2``, years) are names. Otherwise each number column votes:
    for a header when its first field is not a number over the numbers below (a word, an empty
    name over a full column, an integer over decimals), for data when it is one; the majority
    wins (a tie: a header). With no number column, the first row is a header unless it looks
    like data (:func:`_first_row_is_data`).
    """
    first, body = rows[0], rows[1:]
    if _integer_steps(first):
        return True
    votes_header = votes_data = 0
    for j, head in enumerate(first):
        below = [r[j].strip() for r in body if j < len(r) and r[j].strip().lower() not in MISSING_MARKERS]
        if not below or sum(_is_number(v, decimal) for v in below) < 0.9 * len(below):
            continue  # a text column says nothing about the first row
        head = head.strip()
        if not head and len(below) == len(body):  # pandas' to_csv leaves its index column unnamed
            votes_header += 1
        elif _is_number(head, decimal):
            # a bare integer over numbers that all have decimals is a column name (pandas' 0, 1, 2)
            integer_name = head.lstrip("+-").isdigit() and not any(v.lstrip("+-").isdigit() for v in below)
            votes_header += integer_name
            votes_data += not integer_name
        elif head.lower() not in MISSING_MARKERS:
            votes_header += 1
    if votes_header or votes_data:
        return votes_header >= votes_data
    return not _first_row_is_data(first, body)


def sniff_encoding(head: bytes, whole: bool = True) -> str:
    """``"utf-16"`` for a UTF-16 byte-order mark (Excel's "Unicode text"); ``"utf-8"`` when
    ``head`` (a file's first bytes; ``whole``: the whole file) decodes as UTF-8, else
    ``"latin-1"`` (which decodes any byte). When ``head`` is only the file's start, a UTF-8
    character cut at its end does not count."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if whole or err.start < len(head) - 3:  # not merely a multi-byte character cut by the read
            return "latin-1"
    return "utf-8"


def sniff_text_table(lines: list[str], encoding: str = "utf-8") -> TextFormat:
    """The :class:`TextFormat` of a text table from its first lines (blank lines skipped).

    The delimiter is the one of ``, TAB ; |`` that splits every data line into the same number
    (at least 2) of fields, the most fields winning, then a header of as many fields; failing all, runs of white space when
    they do so; failing that, the file is one column. A decimal comma is taken when the
    delimiter is not a comma, no number is written ``1.5``, and numbers are written ``1,5`` or
    the delimiter is a semicolon.
    """
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return TextFormat(encoding=encoding)
    best: tuple[tuple[int, bool], str | None] = ((0, False), ",")
    for sep in _DELIMITERS:
        fit = _consistent(_split(lines, sep))
        if fit > best[0]:
            best = (fit, sep)
    if best[0][0] == 0 and _consistent(_split(lines, None))[0]:
        best = ((1, True), None)
    sep = best[1]
    rows = _split(lines, sep)
    fields = [f.strip() for r in rows for f in r]
    # a semicolon is the delimiter where the comma is the decimal mark: there, even before a
    # "1,5" shows up (a column of whole numbers in the first lines), unless "1.5" does
    points = any(re.fullmatch(r"[+-]?\d*\.\d+", f) for f in fields)
    comma = sep != "," and not points and (sep == ";" or any(_COMMA_NUMBER.fullmatch(f) for f in fields))
    decimal = "," if comma else "."
    shorter = len(rows) > 1 and len(rows[0]) == len(rows[1]) - 1  # a header one field short
    trailing = shorter and all(not r[-1].strip() for r in rows[1:])  # ...of data lines ending in a delimiter
    row_names = shorter and not trailing
    if len(rows) < 2:  # one line: data when it is all numbers, else a header of an empty table
        header = not all(_is_number(f, decimal) for f in rows[0])
    else:
        header = row_names or _has_header(rows, decimal)
    return TextFormat(sep=sep, decimal=decimal, header=header, row_names=row_names, encoding=encoding,
                      trailing_sep=trailing)


def _open_binary(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _open_text(path: Path, encoding: str) -> Any:
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                            errors="replace", newline="")


def _head(handle: Any) -> list[str]:
    lines = []
    for line in handle:
        lines.append(line)
        if len(lines) >= SNIFF_LINES:
            break
    return lines


def text_format(path: str | Path) -> TextFormat:
    """The :class:`TextFormat` of the text table at ``path`` (its first :data:`SNIFF_LINES` lines)."""
    return _sniff(Path(path))[0]


def layout_note(path: str | Path) -> str | None:
    """How the table file at ``path`` is laid out, in a few words (:meth:`TextFormat.describe`),
    when it is not a plain CSV; ``None`` for a plain CSV and for Parquet (what commands print)."""
    if table_suffix(path) == ".parquet":
        return None
    fmt = text_format(path)
    return None if fmt.plain else fmt.describe()


def _sniff(path: Path) -> tuple[TextFormat, str, list[str]]:
    """The file's :class:`TextFormat`, its first non-blank line (the header's width and names) and
    its first :data:`SNIFF_LINES` lines, from one read of its head."""
    try:
        with _open_binary(path) as raw:
            head = raw.read(SNIFF_BYTES)
            encoding = sniff_encoding(head, whole=len(head) < SNIFF_BYTES)
        with _open_text(path, encoding) as handle:
            lines = _head(handle)
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read table ({err})") from None
    return sniff_text_table(lines, encoding), next((ln for ln in lines if ln.strip()), ""), lines


def _csv_options(fmt: TextFormat, first_line: str, text_columns: Sequence[str] = ()) -> dict[str, Any]:
    """``pandas.read_csv`` keywords for ``fmt``; ``first_line`` gives the header's width;
    ``text_columns`` are read as text whatever they hold (``"01"`` stays ``"01"``)."""
    # a stray byte past the sniffed head is replaced rather than ending the read
    opts: dict[str, Any] = {"decimal": fmt.decimal, "encoding": fmt.encoding, "encoding_errors": "replace",
                            "sep": r"\s+" if fmt.sep is None else fmt.sep}
    width = len(_split([first_line], fmt.sep)[0]) if first_line.strip() else 0
    if not fmt.header:
        opts.update(header=None, names=[f"V{i + 1}" for i in range(width)])
    elif fmt.row_names:  # name the unnamed first field explicitly instead of relying on pandas' implicit index
        names = _split([first_line], fmt.sep)[0]
        opts.update(header=0, names=[ROW_NAMES] + [n.strip() for n in names])
    if fmt.trailing_sep:
        opts["index_col"] = False  # the empty last field is dropped, not taken for row names
    if text_columns:
        opts["dtype"] = {c: str for c in text_columns}
    return opts


def _parse_error(path: Path | str, err: Exception) -> DataError:
    msg = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return DataError(f"{path}: cannot parse table ({msg[:200]})")


def _read_text(source: Any, fmt: TextFormat, first_line: str, chunk_rows: int | None = None,
               text_columns: Sequence[str] = (), columns: Sequence[str] | None = None) -> Any:
    import pandas as pd

    opts = _csv_options(fmt, first_line, text_columns)
    if chunk_rows is not None:
        opts["chunksize"] = chunk_rows
    if columns is not None:
        opts["usecols"] = list(columns)
    return pd.read_csv(source, **opts)


def _head_text(lines: list[str], fmt: TextFormat, first_line: str, columns: Sequence[str] | None = None) -> Any:
    """The table's first ``lines`` (the sniffed head) read in ``fmt`` with every column as text, or
    ``None`` when they do not parse on their own (a quoted line end cut by the head)."""
    import pandas as pd

    try:
        opts = _csv_options(fmt, first_line)
        opts.update(dtype=str, **({"usecols": list(columns)} if columns is not None else {}))
        return pd.read_csv(io.StringIO("".join(lines)), **{k: v for k, v in opts.items() if not k.startswith("encoding")})
    except Exception:  # noqa: BLE001 - only a shortcut: without it every whole-number column is looked at
        return None


def _code_candidates(df: Any, head: Any) -> list[str]:
    """The columns of ``df`` that can be integer codes (:func:`aekit.data.tables.zero_led`), by a test
    that cannot miss one: whole numbers >= 0 (pandas' integers, or floats beside gaps) whose values in
    ``head`` (the head lines as text, :func:`_head_text`; ``None``: not known) are digits of one width
    ``w`` >= :data:`CODE_WIDTH` with the column's largest value under ``10**w`` and its smallest under
    ``10**(w-1)`` (some value has a leading zero). Plain numbers of mixed widths are ruled out by the head
    alone, so the text of the file is read again only for columns that may really be codes."""
    import numpy as np

    out = []
    for c in df.columns:
        s = df[c]
        if s.dtype.kind not in "iuf":
            continue
        width = None
        if head is not None and c in head.columns:
            shown = head[c].dropna().str.strip()
            shown = shown[~shown.str.lower().isin(MISSING_MARKERS)]
            widths = set(shown.str.len())
            if len(widths) > 1 or not bool(shown.str.fullmatch(r"\d+").all()) or (widths and widths.pop() < CODE_WIDTH):
                continue
            width = int(shown.str.len().iloc[0]) if len(shown) else None
        values = s.to_numpy() if s.dtype.kind in "iu" else s.dropna().to_numpy()
        if len(values) == 0 or values.min() < 0:
            continue
        if width is not None and (values.max() >= 10**width or values.min() >= 10 ** (width - 1)):
            continue
        if s.dtype.kind == "f" and not bool(np.all(np.mod(values, 1) == 0)):
            continue
        out.append(c)
    return out


def _keep_zero_led(df: Any, head: Any, reread: Any) -> Any:
    """``df`` with each column pandas read as whole numbers whose text is integer codes
    (:func:`aekit.data.tables.zero_led`: ``"00123"``, zip and sample codes) as that text: a code's
    zeros are part of it. ``head``: the head lines as text (:func:`_head_text`), which rule out most
    columns without reading the file again (:func:`_code_candidates`); ``reread(columns)`` reads the
    others again, as text (the cost: ``benchmarks/tables.py``)."""
    candidates = _code_candidates(df, head)
    if not candidates:
        return df
    try:
        text = reread(candidates)
    except Exception:  # noqa: BLE001 - the file read once already: a second look that fails keeps that read
        return df
    for c in candidates:
        if zero_led(text[c]):
            df[c] = text[c].to_numpy(dtype=object)  # (df is this read's own frame: no copy)
    return df


def read_table(path: str | Path, text_columns: Sequence[str] = (), columns: Sequence[str] | None = None,
               keep_codes: bool = False) -> Any:
    """The table at ``path`` (any of :data:`TABLE_SUFFIXES`) as a pandas DataFrame, read in
    the format :func:`text_format` finds (``text_columns`` as text: ids keep leading zeros;
    ``columns``: only these). ``keep_codes``: integer codes written with leading zeros
    (``"00123"``, :func:`aekit.data.tables.zero_led`) come back as their text, as ``aekit detect``,
    ``aekit explore`` and ``aekit serve`` read a table; without it (``load_dataset``, ``aekit train``)
    they are numbers. One-line :class:`DataError` when it does not parse."""
    import pandas as pd

    path = Path(path)
    try:
        if table_suffix(path) == ".parquet":
            return pd.read_parquet(path, columns=None if columns is None else list(columns))
        fmt, first, head = _sniff(path)
        df = _read_text(path, fmt, first, text_columns=text_columns, columns=columns)
        if not keep_codes:
            return df
        return _keep_zero_led(df, _head_text(head, fmt, first, columns),
                              lambda cols: _read_text(path, fmt, first, text_columns=cols, columns=cols))
    except DataError:
        raise
    except Exception as err:  # pandas/pyarrow raise many parser error types
        raise _parse_error(path, err) from None


def read_table_bytes(data: bytes, name: str, text_columns: Sequence[str] = (), keep_codes: bool = False) -> Any:
    """An uploaded table (``name`` gives the suffix) as a DataFrame, read like :func:`read_table`
    (``text_columns`` as text: a served run's, as `aekit score` reads them; ``keep_codes``: as there)."""
    import pandas as pd

    suffix = table_suffix(name or "")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(io.BytesIO(data))
        if suffix.endswith(".gz"):
            data = gzip.decompress(data)
        encoding = sniff_encoding(data[:SNIFF_BYTES], whole=len(data) <= SNIFF_BYTES)
        text = data.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
        lines = io.StringIO(text, newline="").readlines()  # line ends as a file's: not str.splitlines' \x85
        fmt = sniff_text_table(lines[:SNIFF_LINES])  # the text is decoded already: no encoding for pandas
        first = next((ln for ln in lines if ln.strip()), "")
        df = _read_text(io.StringIO(text), fmt, first, text_columns=text_columns)
        if not keep_codes:
            return df
        return _keep_zero_led(df, _head_text(lines[:SNIFF_LINES], fmt, first),
                              lambda cols: _read_text(io.StringIO(text), fmt, first, text_columns=cols, columns=cols))
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001 - parsers raise many types; all mean "unreadable upload"
        raise _parse_error(name or "upload", err) from None


def iter_table_chunks(path: str | Path, chunk_rows: int, text_columns: Sequence[str] = ()) -> Iterator[Any]:
    """The table at ``path`` as DataFrames of at most ``chunk_rows`` rows, in the format
    :func:`read_table` reads it in (memory holds one chunk). pandas types each chunk on its own,
    so a column of codes (``01``, ``02``, ``A1``) can come back as numbers in a chunk without
    ``A1``: ``text_columns`` (a fitted run's categories, dates and ids) are read as text."""
    path = Path(path)
    try:
        if table_suffix(path) == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        fmt, first, _ = _sniff(path)
        with _read_text(path, fmt, first, chunk_rows, text_columns) as reader:
            yield from reader
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001 - pandas/pyarrow parser errors of many types
        raise _parse_error(path, err) from None
