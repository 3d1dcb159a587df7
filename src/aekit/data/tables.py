"""Real-world tables: text, categories, dates, ids and missing values in, numbers out.

A CSV as people keep them has more than numbers. :func:`column_roles` gives every column
one role, the one place this is decided (``aekit explore`` shows the roles, ``aekit
detect`` and :class:`~aekit.apps.detect.AutoencoderDetector` act on them):

* ``numeric``: numbers (gaps are filled with the training median), numbers written as text
  under one of :data:`NUMBER_FORMATS` (``"1,234"``, ``"12,5"``, ``" 3.5 "``, ``"12%"``, ``"$7"``;
  ``"?"``, ``"NA"``, ``"."`` and the other :data:`MISSING_MARKERS` are gaps) and durations (seconds);
* ``categorical``: strings, booleans or a pandas ``category`` (ordered or not; a category of
  strings is "given": :func:`given_categories`, ``aekit detect --category-column``); one-hot encoded,
  one column per value seen in at least :data:`MIN_CATEGORY_ROWS` training rows (at most
  :data:`MAX_CATEGORIES` of them), and the rarer values, when there are two or more, pooled into
  one column (:data:`RARE_LABEL`, scikit-learn's infrequent category); gaps filled with the
  training mode. A column of over :data:`RARE_CATEGORIES` distinct values with over :data:`RARE_SHARE`
  of its rows in rare values is ``text``;
* ``date``: strings that parse as dates under one format (or a datetime column), expanded
  to month, day of month, weekday and (when the times are not all midnight) hour. The year
  is left out on purpose: data scored later comes from later years, and a year the model
  never saw would flag every new row;
* ``id``: unique per row and named like an id (``id``, ``customer_id``, ``CustomerID``,
  ``order_no``, ``rownames``, ...), or (over at least :data:`ID_MIN_ROWS` rows) row numbers (0, 1, 2, ... or
  1, 2, 3, ...) or strings unique per row. Not a feature (other increasing integers, a year or
  a sorted measurement, are); the first one is kept as the row identifier (``aekit detect``
  writes it beside the scores);
* ``text``: strings with more distinct values than a category may have, but not unique:
  dropped (free text needs a text model, not a one-hot column per phrase);
* integer codes: whole numbers written in one width of at least :data:`CODE_WIDTH` digits, some
  with a leading zero (``"00123"``: zip, sample and product codes; :func:`zero_led`) are text, so a category, an id or dropped text, never a magnitude (the
  file reader keeps their zeros); integers named like a code (:data:`CODE_NAMES`: ``zip``,
  ``postal_code``, ``PLZ``) without such zeros stay numbers, and the summary says so and how to
  make them a category (:func:`given_categories`);
* ``constant`` (one value) and ``empty`` (no value at all): dropped, they carry nothing;
* ``invalid``: what no role can encode (below); its note is the error :meth:`TablePreprocessor.fit` raises.

:class:`TablePreprocessor` is built on scikit-learn: a ``ColumnTransformer`` of a
``SimpleImputer`` for the numbers and a ``SimpleImputer`` + ``OneHotEncoder(handle_unknown=
"ignore")`` for the categories. Scaling stays with the estimator's one
:class:`~aekit.data.Scaler`. Its whole fitted state (roles, date formats and parts,
fill values, categories, output names) is plain JSON (:meth:`TablePreprocessor.to_dict`),
saved in the run's ``model.json``; the scikit-learn transformer is rebuilt from that state,
at fit time and at load time alike, so a saved run transforms exactly as the fitted one.

Every row is transformed on its own (fixed categories, fill values and date formats), so
a table scored in chunks gives the same numbers as the whole table at once. At scoring:

* a category value never seen in training encodes as the column's pooled rare values where it
  has them (scikit-learn's ``handle_unknown="infrequent_if_exist"``), else as all zeros in its
  one-hot block, and is counted (:attr:`TablePreprocessor.last_counts_`); a rare training value
  is its pooled column, and not counted;
* a missing value gets the training fill value and is counted (``missing``);
* a value of a numeric column that does not read as a number in the column's training style (a
  word, ``"1.234,5"`` in a column fitted on ``"1,234.5"``, ``"12,5"`` in a column of plain numbers),
  or is infinite (``inf``, ``"-Infinity"``, however a chunk's reader typed it), and a date that does
  not parse with the training format, get the training fill value too and are counted apart
  (``unread``): one odd cell does not stop
  the scoring of a file, and is not taken for an empty one. A numeric or date column of which no value
  reads, over at least :data:`UNREAD_ALL` values (all words, all in another style or date format: the
  input changed, not a cell), is a one-line :class:`~aekit.errors.DataError` naming it, its first value
  and its row (``aekit score`` decides this on the whole stream's counts, so the chunk size does not matter);
* a feature column missing from the input and a column the run never saw are
  :class:`~aekit.errors.DataError`\\ s naming the column.

What no role can encode is a :class:`~aekit.errors.DataError` naming the column at fit: two
columns with one name, lists or complex numbers in cells, infinite values, and a word among
numbers (a column that is 90 % numbers with over 10 distinct values: a typo, not a category).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from aekit.errors import DataError, ModelFileError

MAX_CATEGORIES = 50  # distinct values a string column may have and still be one-hot encoded
DATE_SHARE = 0.9  # share of a column's non-empty values that must parse as dates under one format
DATE_PARTS = ("month", "day", "weekday")  # plus "hour" when training times are not all midnight
RARE_CATEGORIES = 10  # over this many distinct values, a column can be too rare to learn, and numbers with a stray word are an error
MIN_CATEGORY_ROWS = 2  # a category value seen in fewer training rows is rare: rare values share one one-hot column
RARE_SHARE = 0.9  # a column with more than this share of its rows in rare values is text, too rare to learn
UNREAD_ALL = 5  # a numeric column scored with at least this many values, none read as a number: an error, not gaps
RARE_LABEL = "infrequent"  # the pooled rare values' category (feature "city_infrequent"), as scikit-learn's infrequent category
ID_MIN_ROWS = 10  # an unnamed column is an id only when it is unique over at least this many rows
FEATURE_ROLES = ("numeric", "categorical", "date")  # roles that become model inputs
ID_NAMES = {"id", "uuid", "guid", "key", "index", "rowid", "row_id", "rownames", "unnamed: 0"}
SAMPLE_VALUES = 1000  # distinct values of a text column tried first when telling numbers from words
NUMBER_SHARE = 0.9  # a text column whose values are this share numbers but not all is an error, not a category
# strings that mean "no value" in a column of numbers written as text (R writes NA, UCI files ?, SAS .)
MISSING_MARKERS = {"", "?", "na", "n/a", "nan", "<na>", "nat", "null", "none", "-", "--", ".", "#n/a", "missing"}
# how a column of numbers written as text is read (the strings may carry spaces, a leading currency
# sign or a trailing %, which are dropped: "12%" is 12.0); "timedelta": durations, in seconds
NUMBER_FORMATS = {
    "number": r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?",  # 3.5, -2, 1e5
    "thousands": r"[+-]?([1-9]\d{0,2}(,\d{3})+|\d+)(\.\d*)?",  # 1,234.5 (never 0,541: that is a decimal comma)
    "decimal_comma": r"[+-]?([1-9]\d{0,2}(\.\d{3})+|\d+)(,\d*)?",  # 1.234,5 (most of Europe)
}
ZERO_LED = r"0\d+"  # an integer written with a leading zero ("00123"): a code (zip, sample, product), not a magnitude
CODE_WIDTH = 3  # integer codes are written in one width of at least this many digits (zero_led): "04" is an hour
# names of integer columns that are codes more often than measurements (zip_code, PostalCode, PLZ, product_code)
CODE_NAMES = {"zip", "zipcode", "postal", "postcode", "plz", "code", "cap"}
_BOOL_TEXT = {"true": "True", "false": "False", "1": "True", "0": "False"}  # a boolean column's values as other tools write them
FORMAT_NOTES = {"thousands": "',' thousands", "decimal_comma": "',' decimal", "timedelta": "duration in seconds"}
STATE_FORMAT = "aekit-table/2"  # /2 adds the pooled rare values ("rare" of a categorical column)
OLD_STATE_FORMATS = ("aekit-table/1",)  # read as they were written: every training value its own category


@dataclass
class ColumnRole:
    """What one column is (see the module docstring); ``note`` says why when it is dropped,
    ``date_format`` is the strftime format a string date column parses with (``None``: datetimes),
    ``number_format`` how a numeric column held as text or durations is read (a key of
    :data:`NUMBER_FORMATS` or ``"timedelta"``; ``None``: numbers), ``signs`` the signs its text
    carried beside the numbers, which are dropped (``"percent"``, ``"currency"``, both comma-joined;
    ``""``: none). ``given``: the column was a pandas ``category`` of strings (:func:`given_categories`),
    a category by the user's choice whatever its values; a file's reader takes it as text, so the
    strings scored are the ones trained on (``"94110"``, ``"1.50"`` and ``"007"`` as written)."""

    name: str
    role: str
    note: str = ""
    date_format: str | None = None
    number_format: str | None = None
    signs: str = ""
    given: bool = False


@dataclass
class TableCounts:
    """Values a transform filled in (``missing``, per column: empty cells), category values it had
    never seen (``unseen``, per column; encoded as all zeros, or as the column's pooled rare values
    where it has them: ``pooled``) and values it could not read (``unread``, per column: a word or
    ``"1.234,5"`` where training wrote ``"1,234.5"`` in a numeric column, an infinite number, a
    date that does not parse with the training format; filled in like a gap, and counted here
    only, not under ``missing``)."""

    missing: dict[str, int] = field(default_factory=dict)
    unseen: dict[str, int] = field(default_factory=dict)
    unread: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)  # numbers read or dates parsed, per column scored (0 included)
    first_unread: dict[str, tuple[str, Any]] = field(default_factory=dict)  # per column: its first unread value, row
    pooled: set[str] = field(default_factory=set)  # columns whose unseen values encode as their pooled rare values
    date_formats: dict[str, str | None] = field(default_factory=dict)  # date columns scored (read: dates parsed): their format

    def add(self, other: "TableCounts") -> None:
        for mine, theirs in ((self.missing, other.missing), (self.unseen, other.unseen), (self.unread, other.unread),
                             (self.read, other.read)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        for k, first in other.first_unread.items():
            self.first_unread.setdefault(k, first)
        self.pooled |= other.pooled
        self.date_formats.update(other.date_formats)

    def unreadable(self) -> str | None:
        """One line naming the first numeric or date column of which no value read as a number or
        parsed as a date, over at least :data:`UNREAD_ALL` values (a column written in another style or
        date format than training's, or words: schema drift, not odd cells to fill), with its first
        value and row; ``None`` when there is none."""
        col = self.unreadable_column()
        if col is None:
            return None
        (value, row), n = self.first_unread[col], self.unread[col]
        if col in self.date_formats:
            fmt = self.date_formats[col]
            what = f"a date in the training format {fmt!r}" if fmt is not None else "a date"
            return f"column {col!r}: value {value!r} at row {row} is not {what} ({n} such value(s))"
        what = "infinite or not a number" if _is_infinite(value) else "not a number"  # inf: say so, it reads as a number
        return f"column {col!r}: value {value!r} at row {row} is {what} in the training style ({n} such value(s))"

    def unreadable_column(self) -> str | None:
        """The column :meth:`unreadable` names, or ``None``."""
        return next((c for c, n in self.unread.items() if n >= UNREAD_ALL and self.read.get(c) == 0), None)

    def line(self) -> str | None:
        """One line for a person, or ``None`` when nothing was filled in or unseen."""
        parts = []
        n_missing, n_unseen, n_unread = sum(self.missing.values()), sum(self.unseen.values()), sum(self.unread.values())
        if n_missing:
            parts.append(f"{n_missing} missing value(s) filled with the training values ({_top(self.missing)})")
        if n_unread:
            parts.append(f"{n_unread} value(s) not read as numbers or dates in the training style, filled with the training "
                         f"values ({_top(self.unread)})")
        if n_unseen:  # which columns' values went where: a clause per encoding that occurred
            how = []
            for pooled, words in ((False, "as all-zero one-hot"), (True, "as the pooled rare values")):
                these = {c: n for c, n in self.unseen.items() if n and (c in self.pooled) == pooled}
                if these:
                    how.append(f"{words} ({_top(these)})")
            parts.append(f"{n_unseen} category value(s) unseen in training, encoded {' and '.join(how)}")
        return "; ".join(parts) or None


def _is_infinite(text: str) -> bool:
    """Whether ``text`` is an infinite number as Python reads one (``"inf"``, ``"-Infinity"``)."""
    try:
        return bool(np.isinf(float(text.strip())))
    except ValueError:
        return False


def _top(counts: dict[str, int], n: int = 3) -> str:
    items = sorted(((v, k) for k, v in counts.items() if v), reverse=True)
    return ", ".join(f"{k!r}: {v}" for v, k in items[:n]) + (", ..." if len(items) > n else "")


def is_frame(X: Any) -> bool:
    """Whether ``X`` is a pandas DataFrame (without importing pandas)."""
    return type(X).__module__.startswith("pandas") and hasattr(X, "columns") and hasattr(X, "dtypes")


# --- roles -------------------------------------------------------------------------------

def _id_name(name: str) -> bool:
    """Named like an id: ``id``, ``customer_id``, ``CustomerID``, ``order_no``, ``Invoice Number``, ``rownames``, ..."""
    low = name.strip().lower()
    return (low in ID_NAMES or bool(re.search(r"[_\s.\-](id|no|nr|num|number)$", low))
            or name.endswith(("Id", "ID", "No", "Nr", "Number")))


def _code_name(name: str) -> bool:
    """Named like a code: a word of the name is one of :data:`CODE_NAMES` (``zip``, ``Zip Code``,
    ``productCode``, ``PLZ``; ``cap``, Italy's postal code, only as the whole name: ``market_cap`` is a measurement)."""
    words = {w.lower() for w in re.findall(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|[A-Z]+", name)}
    return bool(words & (CODE_NAMES - {"cap"})) or name.strip().lower() == "cap"


def zero_led(values: Any) -> str:
    """The first of ``values`` (strings; gaps, missing-value markers and other objects skipped) written
    with a leading zero when they are integer codes, else ``""``. Codes: every one is digits only, all of
    one width of at least :data:`CODE_WIDTH`, and one or more starts with ``0`` (zip codes ``"02134"``,
    ``"00501"``, product codes ``"000123"``): a number would lose their zeros. Hours ``"04"``, minutes
    ``"00"``..``"59"`` and an age with one stray ``"07"`` among ``"35"`` and ``"101"`` are magnitudes."""
    import pandas as pd

    t = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object), dtype=object)
    if not isinstance(t.dtype, pd.StringDtype):  # (a file's text columns are; the vectorised string methods need it)
        t = t[t.map(lambda v: isinstance(v, str))].astype(pd.StringDtype())
    t = t.dropna().str.strip()
    t = t[~t.str.lower().isin(MISSING_MARKERS)]
    if t.empty or not bool(t.str.fullmatch(r"\d+").all()):
        return ""
    width = t.str.len()
    if int(width.iloc[0]) < CODE_WIDTH or bool((width != width.iloc[0]).any()):
        return ""
    lead = t[t.str.startswith("0")]
    return str(lead.iloc[0]) if len(lead) else ""


def as_text(values: Any) -> np.ndarray:
    """A column's values as strings, object array ``(N,)`` with ``nan`` where empty.

    The same cell gives the same string however the reader typed its chunk: ``True`` read as
    a bool or as an object is ``"True"``, ``3`` read as an int or (beside a gap) as ``3.0`` is ``"3"``.
    """
    import pandas as pd

    series = pd.Series(values)
    raw = np.asarray(series.to_numpy(dtype=object, na_value=np.nan), dtype=object)
    if pd.api.types.infer_dtype(series, skipna=True) == "string":  # the common case: text and gaps, no cell to convert
        return raw
    out = np.empty(len(raw), dtype=object)
    for i, v in enumerate(raw):
        if v is None or (isinstance(v, float) and v != v) or v is pd.NaT or v is pd.NA:
            out[i] = np.nan
        elif isinstance(v, (bool, np.bool_)):
            out[i] = "True" if v else "False"
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v)
    return out


def _date_format(text: np.ndarray) -> str | None:
    """The one strftime format most non-empty strings of ``text`` parse with, or ``None``."""
    import pandas as pd
    from pandas.tseries.api import guess_datetime_format

    values = [v for v in text if isinstance(v, str) and v.strip().lower() not in MISSING_MARKERS][:2000]
    if not values or all(re.fullmatch(r"[+-]?\d+(\.\d*)?", v.strip()) for v in values[:50]):
        return None  # numbers stored as text are not dates
    best, best_key = None, (0.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # month first as pandas guesses it, then day first ("31/01/2024"): the one most values parse
        # with; when both read them all (every day <= 12), the one whose dates lie closer together
        # (01/01 .. 09/01 is nine days, not nine months)
        # guessed from a few values, not the first alone (it may carry a time the others lack)
        guesses = []
        for v in dict.fromkeys(values[:3] + values[len(values) // 2 : len(values) // 2 + 1] + values[-1:]):
            day_first = guess_datetime_format(v, dayfirst=True)
            guesses += [guess_datetime_format(v), day_first if day_first is not None and day_first.startswith("%d") else None]
        for fmt in dict.fromkeys(guesses):  # (never year-day-month)
            if fmt is None:
                continue
            try:  # offsets (%z) that differ between rows (summer time) need utc=True, as at transform
                stamps = pd.to_datetime(pd.Series(values), format=fmt, errors="coerce", utc="%z" in fmt)
            except (ValueError, TypeError):
                continue
            span = (stamps.max() - stamps.min()).total_seconds() if stamps.notna().any() else 0.0
            key = (float(stamps.notna().mean()), -span)
            if best is None or key > best_key:
                best, best_key = fmt, key
    return best if best_key[0] >= DATE_SHARE else None


def _unread_number(text: np.ndarray) -> str:
    """The first string of ``text`` that no :data:`NUMBER_FORMATS` reads (``""`` when every one is read)."""
    import pandas as pd

    return next((v for v in text if _number_format(pd.Series([1], index=[v]))[0] is None), "")


def _plain_number(text: str) -> float | None:
    """``text`` as a number when it is one written plainly (``"1.50"``, ``" 2134.0 "``, ``"02134"``,
    ``"-3"``, ``"1e3"``; :data:`NUMBER_FORMATS` ``"number"``), else ``None`` (words, ``"1,5"``, ``"inf"``)."""
    t = text.strip()
    return float(t) if re.fullmatch(NUMBER_FORMATS["number"], t) else None


def _read_text_numbers(text: Any, fmt: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strings ``(N,)`` read as numbers under ``fmt`` (a key of :data:`NUMBER_FORMATS`): the values
    (float64, NaN where not read), where a string is a number, and where it is a missing-value marker."""
    import pandas as pd

    t = pd.Series(np.asarray(text, dtype=object), dtype=object).str.strip()
    gap = t.str.lower().isin(MISSING_MARKERS).to_numpy()
    t = t.str.replace(r"^[$€£¥]\s*|\s*%$", "", regex=True)
    ok = t.str.fullmatch(NUMBER_FORMATS[fmt]).fillna(False).to_numpy(dtype=bool) & ~gap
    if fmt == "thousands":
        t = t.str.replace(",", "", regex=False)
    elif fmt == "decimal_comma":
        t = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    values = pd.to_numeric(t.where(ok), errors="coerce").to_numpy(dtype=np.float64)
    return values, ok, gap


def _number_format(counts: Any) -> tuple[str | None, float, str]:
    """The first of :data:`NUMBER_FORMATS` that reads every string of ``counts`` (a value_counts
    Series of a column's non-empty strings) other than missing-value markers (``None``: none does),
    the largest share of those rows a format reads, and that format."""
    best, best_fmt = 0.0, "number"
    strings, weights = counts.index.to_numpy(dtype=object), counts.to_numpy(dtype=np.float64)
    for fmt in NUMBER_FORMATS:
        # the most frequent values first: a word among them rules the format out without reading every value
        n_read = min(len(strings), SAMPLE_VALUES)
        _, ok, gap = _read_text_numbers(strings[:n_read], fmt)
        if n_read < len(strings) and bool((ok | gap).all()):
            n_read = len(strings)
            _, ok, gap = _read_text_numbers(strings, fmt)
        w = weights[:n_read]
        n = w[~gap].sum()
        if n == 0:
            return "number", 1.0, "number"  # only markers: an empty column of numbers
        share = float(w[ok].sum() / n)  # of the rows (an estimate from the frequent values when a word was among them)
        if share == 1.0:
            return fmt, 1.0, fmt
        if share > best:
            best, best_fmt = share, fmt
    return None, best, best_fmt


def _signs(strings: Any) -> tuple[str, str]:
    """The signs a column of numbers written as text carries (``strings``: its distinct non-empty
    values): ``"percent"``, ``"currency"``, both comma-joined or ``""``; and, when some values carry
    a ``%`` and others not (``"12%"`` beside ``"0.42"``), a short note saying so (else ``""``)."""
    text = [v.strip() for v in strings if isinstance(v, str) and v.strip().lower() not in MISSING_MARKERS]
    percent = [v for v in text if v.endswith("%")]
    plain = [v for v in text if not v.endswith("%")]
    signs = (["percent"] if percent else []) + (["currency"] if any(re.match(r"[$€£¥]", v) for v in text) else [])
    mixed = f"some values with '%' ({percent[0]!r}), some without ({plain[0]!r}); each read as written" if percent and plain else ""
    return ", ".join(signs), mixed


def read_style(role: ColumnRole) -> str:
    """How :class:`TablePreprocessor` reads column ``role``'s text, in a few words (what ``aekit
    explore`` shows and the summary line says): ``"',' thousands"``, ``"',' decimal, percent"``,
    ``"currency"``, ``"duration in seconds"``, ``"day first (%d/%m/%Y)"``; ``""`` for plain numbers,
    ISO dates and every other role."""
    if role.role == "date" and role.date_format is not None and role.date_format.startswith(("%d", "%m")):
        return f"{'day' if role.date_format.startswith('%d') else 'month'} first ({role.date_format})"
    if role.role != "numeric":
        return ""
    return ", ".join(p for p in (FORMAT_NOTES.get(role.number_format or ""), role.signs) if p)


def _is_number_dtype(dtype: Any) -> bool:
    """Real numbers (numpy or pandas nullable), not booleans, complex numbers or durations."""
    from pandas.api import types

    return types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype) and not types.is_complex_dtype(dtype)


def _is_duration(dtype: Any) -> bool:
    """Durations: numpy ``timedelta64`` and pyarrow ``duration`` alike (their dtype kind is ``"m"``)."""
    return getattr(dtype, "kind", "") == "m"


def parse_numbers(s: Any, fmt: str | None, name: str, unread: TableCounts | None = None) -> Any:
    """Column ``s`` as float64 numbers (a Series on ``s``'s index, NaN where empty): numbers (and
    booleans, as 1 and 0) as they are, strings read under ``fmt`` (a key of :data:`NUMBER_FORMATS`;
    ``None``: ``"number"``) with missing-value markers as gaps, durations (``fmt="timedelta"``) in
    seconds. A value that is not a number is a one-line :class:`DataError` naming the column and
    the row, unless ``unread`` is given (scoring a fitted table): then it is a gap, counted in
    ``unread.unread[name]`` (the first in ``unread.first_unread``; the numbers read in ``unread.read``), and so is an infinite value (``inf``, ``"-Infinity"``), a :class:`DataError` otherwise."""
    import pandas as pd
    from pandas.api import types

    # booleans where numbers were trained are 1 and 0, as numpy and scikit-learn take them
    plain = _is_number_dtype(s.dtype) or types.is_bool_dtype(s.dtype)
    raw = None if plain else s.to_numpy(dtype=object, na_value=np.nan)
    if raw is None:
        out = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.zeros(len(out), dtype=bool)
    elif fmt == "timedelta" or _is_duration(s.dtype):
        stamps = s if _is_duration(s.dtype) else pd.to_timedelta(pd.Series(raw), errors="coerce")
        out = stamps.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(out) & s.notna().to_numpy()
    else:
        out, bad = np.full(len(raw), np.nan), np.zeros(len(raw), dtype=bool)
        kind = pd.api.types.infer_dtype(raw, skipna=True)
        if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
            out = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=np.float64)
        else:
            is_text = np.fromiter((isinstance(v, str) for v in raw), dtype=bool, count=len(raw))
            for i in np.flatnonzero(~is_text):  # numbers kept in an object column beside strings
                v = raw[i]
                if isinstance(v, (int, float, np.integer, np.floating, np.bool_)):
                    out[i] = float(v)
                elif not (v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)):
                    bad[i] = True
            if is_text.any():
                values, ok, gap = _read_text_numbers(raw[is_text], fmt or "number")
                out[is_text] = values
                bad[is_text] = ~ok & ~gap
    if unread is not None:  # scoring: inf however the reader typed the chunk (a float, or "inf" beside words) is unread
        bad |= np.isinf(out)
    if bad.any() and unread is not None:  # a word or another style than training's: a gap, counted
        out = np.where(bad, np.nan, out)
        unread.unread[name] = unread.unread.get(name, 0) + int(bad.sum())
        i = int(np.flatnonzero(bad)[0])
        unread.first_unread.setdefault(name, (str(s.iloc[i])[:40], s.index[i]))
    if unread is not None:
        unread.read[name] = unread.read.get(name, 0) + int(np.count_nonzero(~np.isnan(out)))
    if bad.any() and unread is None:
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"column {name!r}: value {str(s.iloc[i])[:40]!r} at row {s.index[i]} is not a number "
                        f"({int(bad.sum())} such value(s))")
    if np.isinf(out).any():
        i = int(np.flatnonzero(np.isinf(out))[0])
        raise DataError(f"column {name!r}: infinite value at row {s.index[i]}")
    return pd.Series(out, index=s.index, dtype=np.float64)


def _check_cells(name: str, s: Any) -> None:
    """Values no role can encode (complex numbers, lists, dicts, arrays): one-line :class:`DataError`."""
    from pandas.api import types

    if types.is_complex_dtype(s.dtype):
        raise DataError(f"column {name!r}: complex numbers are not supported; split them into a real and an imaginary column")
    if s.dtype == object:
        kinds = {type(v) for v in s.to_numpy()}
        odd = sorted(k.__name__ for k in kinds if issubclass(k, (list, tuple, dict, set, np.ndarray, complex)))
        if odd:
            raise DataError(f"column {name!r} holds {odd[0]} values; a cell must be one number, string or date")


def _numeric_role(name: str, values: Any, n_rows: int, fmt: str | None) -> ColumnRole:
    """The role of a column of numbers: ``values`` its non-empty numbers (in table order)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.min() == arr.max():
        return ColumnRole(name, "constant", f"always {values.iloc[0]!r}")
    # only integer-valued or id-named columns pay for counting distinct values (wide float tables stay cheap)
    complete = len(arr) == n_rows and n_rows > 1
    if complete and (_id_name(name) or bool(np.all(arr == np.round(arr)))) and len(np.unique(arr)) == n_rows:
        if _id_name(name):
            return ColumnRole(name, "id", "unique per row, named like an id")
        if n_rows >= ID_MIN_ROWS and arr[0] in (0.0, 1.0) and bool(np.all(np.diff(arr) == 1)):
            return ColumnRole(name, "id", "row numbers")
    if fmt in (None, "number") and _code_name(name) and bool(np.all(arr == np.round(arr))) and len(np.unique(arr)) > RARE_CATEGORIES:
        return ColumnRole(name, "numeric", "integers named like a code, read as numbers (if it is a code: "
                          f"aekit detect --category-column {name}, or a pandas category)", number_format=fmt)
    return ColumnRole(name, "numeric", number_format=fmt)


def _role(name: str, s: Any, n_rows: int, max_categories: int) -> ColumnRole:
    """The column's role, or ``"invalid"`` with the one-line reason as its note (``aekit explore``
    lists it; :meth:`TablePreprocessor.fit` raises it)."""
    try:
        return _valid_role(name, s, n_rows, max_categories)
    except DataError as err:
        return ColumnRole(name, "invalid", str(err))


def _valid_role(name: str, s: Any, n_rows: int, max_categories: int) -> ColumnRole:
    import pandas as pd
    from pandas.api import types

    _check_cells(name, s)
    nonnull = s.dropna()
    if len(nonnull) == 0:
        return ColumnRole(name, "empty", "no values")
    if types.is_datetime64_any_dtype(s):
        return ColumnRole(name, "constant", "one value") if nonnull.nunique() == 1 else ColumnRole(name, "date")
    if _is_duration(s.dtype) or (s.dtype == object and types.infer_dtype(nonnull) == "timedelta"):
        return _numeric_role(name, parse_numbers(nonnull, "timedelta", name), n_rows, "timedelta")
    if _is_number_dtype(s.dtype):
        return _numeric_role(name, nonnull, n_rows, None)
    text = as_text(nonnull)
    counts = pd.Series(text, dtype=object).value_counts()
    code = zero_led(counts.index)  # "00123": kept as text (a category, an id), as the file's reader keeps it
    # a category of strings is the user's word for it (numbers would have stayed numbers): never a date or an id
    given = isinstance(s.dtype, pd.CategoricalDtype) and types.infer_dtype(s.dtype.categories, skipna=True) == "string"
    role = _text_role(name, s, nonnull, text, counts, n_rows, max_categories, read_numbers=not code, given=given)
    if code and role.role != "numeric":
        role.note = f"integer codes with leading zeros ({code!r}), kept as text" + (f"; {role.note}" if role.note else "")
    role.given = given
    return role


def _text_role(name: str, s: Any, nonnull: Any, text: np.ndarray, counts: Any, n_rows: int, max_categories: int,
               read_numbers: bool, given: bool = False) -> ColumnRole:
    """The role of a column of text (``text``: its non-empty values as strings, ``counts`` their
    value_counts); ``read_numbers``: whether numbers written as text are read as numbers; ``given``: a
    category by the user's word (:func:`given_categories`), so neither a date nor an id (too many values
    still make it ``text``)."""
    import pandas as pd
    from pandas.api import types

    share = 0.0  # of the values that are numbers under the format that reads the most
    if read_numbers and not types.is_bool_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):  # a category is what it says
        fmt, share, best = _number_format(counts)
        if fmt is not None:  # numbers written as text ("1,234", "12%", " 3.5 ", "?" for a gap)
            values = parse_numbers(nonnull, fmt, name).dropna()
            if len(values) == 0:
                return ColumnRole(name, "empty", f"only missing-value markers ({_top(counts.to_dict())})")
            role = _numeric_role(name, values, n_rows, fmt)
            role.signs, mixed = _signs(counts.index)
            if mixed and role.role == "numeric":  # "12%" beside "0.42": which scale is meant is not guessed
                role.note = mixed
            return role
        if share >= NUMBER_SHARE and len(counts) > RARE_CATEGORIES:  # numbers with a stray word: not a category per number
            try:
                parse_numbers(nonnull, best, name)
            except DataError as err:
                raise DataError(f"{err}, in a column {share:.0%} numbers; make it a number or leave it empty") from None
    distinct = len(counts)
    if distinct == 1:
        return ColumnRole(name, "constant", f"always {text[0]!r}")
    if not types.is_bool_dtype(s) and not given:
        fmt = _date_format(text)
        if fmt is not None:
            return ColumnRole(name, "date", date_format=fmt)
        if len(nonnull) == n_rows and distinct == n_rows and (n_rows >= ID_MIN_ROWS or _id_name(name)):
            if share >= 0.5 and not _id_name(name):  # mostly numbers in a style not read ("(22.87)"): not an id
                return ColumnRole(name, "text", f"{share:.0%} numbers, the rest in a format not read "
                                  f"({_unread_number(text)!r})")
            return ColumnRole(name, "id", "a different string in every row")
    if distinct > RARE_CATEGORIES and counts[counts < MIN_CATEGORY_ROWS].sum() > RARE_SHARE * len(nonnull):
        return ColumnRole(name, "text", f"{distinct} distinct values in {len(nonnull)} rows, too rare to learn as categories")
    frequent = len(_split_rare(counts)[0])
    if frequent > max_categories:
        return ColumnRole(name, "text", f"{distinct} distinct values, {frequent} of them in {MIN_CATEGORY_ROWS} rows or "
                          f"more: more than {max_categories} categories")
    return ColumnRole(name, "categorical")


def _split_rare(counts: Any) -> tuple[list[Any], list[Any]]:
    """A categorical column's values (``counts``: their value_counts) as ``(frequent, rare)``:
    rare are the values seen in fewer than :data:`MIN_CATEGORY_ROWS` rows, when there are two of them
    or more (one rare value pooled alone would only be renamed) and they are not all the values (a
    tiny table's); frequent, all the others."""
    rare = [v for v, n in counts.items() if n < MIN_CATEGORY_ROWS]
    rare = rare if 1 < len(rare) < len(counts) else []
    return [v for v in counts.index if v not in set(rare)], rare


def column_roles(df: Any, max_categories: int = MAX_CATEGORIES) -> list[ColumnRole]:
    """The role of every column of ``df`` (a pandas DataFrame of features, labels removed), in order."""
    df = named_frame(df, strings=True)
    return [_role(c, df.iloc[:, i], len(df), max_categories) for i, c in enumerate(df.columns)]


def named_frame(df: Any, strings: bool = False) -> Any:
    """``df`` with names aekit can match columns by: a MultiIndex's levels joined with ``_``, every
    name a string when ``strings`` or when string and other names are mixed (integer names alone
    stay as they are for plain numbers). No columns, or two with one name: one-line :class:`DataError`."""
    import pandas as pd

    cols = df.columns
    if len(cols) == 0:
        raise DataError("table has no columns")
    if isinstance(cols, pd.MultiIndex):
        names = ["_".join(str(p) for p in c if str(p) != "") for c in cols]
    elif strings or not all(isinstance(c, str) for c in cols) and any(isinstance(c, str) for c in cols):
        names = [str(c) for c in cols]
    else:
        names = list(cols)
    seen: dict[Any, int] = {}
    for c in names:
        seen[str(c)] = seen.get(str(c), 0) + 1
    twice = [c for c, n in seen.items() if n > 1]
    if twice:
        raise DataError(f"table has repeated column names: {', '.join(map(repr, twice[:5]))}; rename them so each column has its own")
    return df if names == list(cols) and not isinstance(cols, pd.MultiIndex) else df.set_axis(names, axis=1)


def needs_preprocessing(df: Any) -> bool:
    """Whether a DataFrame needs :class:`TablePreprocessor`: it has a column other than numbers
    (text, categories, booleans, dates, durations, an id) or a missing value. A table of plain
    numbers without gaps goes to the estimators as it is (its constant columns included)."""
    if not is_frame(df):
        return False
    if not all(_is_number_dtype(t) for t in df.dtypes) or bool(df.isna().to_numpy().any()):
        return True
    return any(r.role not in ("numeric", "constant") for r in column_roles(df))


def given_categories(df: Any, columns: Sequence[str]) -> Any:
    """``df`` (a DataFrame) with each of ``columns`` a pandas ``category`` of its values as text
    (:func:`as_text`: ``"02139"`` as the reader kept it, ``94110`` as ``"94110"``; gaps stay gaps):
    a category whatever its values (what ``aekit detect --category-column`` asks), one-hot encoded
    as any category (rare values pooled; too many values: ``text``, dropped, as any category) and
    read as text when scored (:attr:`ColumnRole.given`). A name that is not a column of ``df``:
    one-line :class:`DataError`."""
    import pandas as pd

    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"category column {missing[0]!r} not found; columns: {', '.join(map(str, df.columns))}")
    if not columns:
        return df
    df = df.copy()
    for c in dict.fromkeys(columns):
        df[c] = pd.Series(as_text(df[c]), index=df.index, dtype=object).astype("category")
    return df


def frame_problem(df: Any, gap_note: str = "") -> str | None:
    """What keeps a DataFrame from being plain numbers, as one line naming the column and the row
    (a value that is not a number, an infinite one, a gap followed by ``gap_note``), or ``None``."""
    df = named_frame(df)
    for i, c in enumerate(df.columns):
        try:
            values = parse_numbers(df.iloc[:, i], None, str(c))
        except DataError as err:
            return str(err)
        gaps = np.flatnonzero(values.isna().to_numpy())
        if len(gaps):
            return f"column {str(c)!r}: missing value at row {df.index[gaps[0]]} ({len(gaps)} in the column){gap_note}"
    return None


# --- the preprocessor --------------------------------------------------------------------

class TablePreprocessor:
    """Mixed-type table ``(N, columns)`` -> float64 features ``(N, n_features_out)``; see the module docstring.

    Fitted attributes: ``roles_`` (:class:`ColumnRole` per input column, in order),
    ``id_column_`` (the row identifier or ``None``), ``date_parts_`` (parts per date column),
    ``fill_`` (the value a gap gets, per numeric column, date part and categorical column),
    ``categories_`` (sorted training values per categorical column, its own one-hot column each),
    ``rare_`` (sorted rare training values of a column that pools them), ``feature_names_out_``,
    ``fit_counts_`` (what the training table had filled in), ``last_counts_`` (what the
    latest :meth:`transform` filled in or found unseen).
    """

    def __init__(self, max_categories: int = MAX_CATEGORIES) -> None:
        self.max_categories = max_categories
        # whether a transform raises for a column of which nothing read (TableCounts.unreadable); a stream
        # of chunks turns it off and decides on its totals
        self.check_unread = True

    # --- fitting -------------------------------------------------------------------------

    def fit(self, df: Any) -> "TablePreprocessor":
        """Decide the roles and learn fill values and categories from the training table ``df``."""
        if not is_frame(df):
            raise DataError(f"a table with text, date or id columns must be a pandas DataFrame, got {type(df).__name__}")
        if len(df) < 1:
            raise DataError("table has no rows")
        if len(df) < 2:  # one row: every column would look constant
            raise DataError("need at least 2 samples to fit, got 1 sample")
        df = named_frame(df, strings=True)
        self.roles_ = column_roles(df, self.max_categories)
        invalid = [r for r in self.roles_ if r.role == "invalid"]
        if invalid:
            raise DataError(invalid[0].note)
        if not any(r.role in FEATURE_ROLES for r in self.roles_):
            raise DataError("no feature column left: every column is an id, free text, constant or empty "
                            f"({', '.join(f'{r.name}: {r.role}' for r in self.roles_[:8])})")
        ids = [r.name for r in self.roles_ if r.role == "id"]
        self.id_column_ = ids[0] if ids else None
        self.date_parts_ = {}
        for r in self.roles_:
            if r.role == "date":
                stamps = self._dates(df[r.name], r)
                has_time = bool(((stamps.dt.hour != 0) | (stamps.dt.minute != 0)).fillna(False).any())
                self.date_parts_[r.name] = [*DATE_PARTS, *(("hour",) if has_time else ())]
        clash = [(p, d) for d, parts in self.date_parts_.items() for p in (f"{d}_{q}" for q in parts) if p in df.columns]
        if clash:
            raise DataError(f"column {clash[0][0]!r} has the name of a part of date column {clash[0][1]!r}; rename one of them")
        self.fill_, self.categories_, self.rare_ = {}, {}, {}  # (before _frame: training values are taken as they are)
        frame = self._frame(df)
        for col in self._numeric_inputs():
            values = frame[col].dropna()
            self.fill_[col] = float(values.median()) if len(values) else 0.0
        for col in self._categorical():
            values = frame[col].dropna()
            counts = values.value_counts()
            frequent, rare = _split_rare(counts)
            self.categories_[col] = sorted(str(v) for v in frequent)
            if rare:  # pooled into one category, RARE_LABEL's column
                self.rare_[col] = sorted(str(v) for v in rare)
            top = counts.max()
            self.fill_[col] = min(str(v) for v, c in counts.items() if c == top)  # ties: the first in order, as scikit-learn
        self._build()
        self.last_counts_ = self._counts(frame)
        self.fit_counts_ = self.last_counts_
        return self

    def _rare_label(self, col: str) -> str:
        """The category that column ``col``'s rare values are pooled into: :data:`RARE_LABEL`, with
        ``_`` added while it is one of the column's frequent values."""
        label = RARE_LABEL
        while label in self.categories_[col]:
            label += "_"
        return label

    def _one_hot(self, col: str) -> list[str]:
        """Column ``col``'s one-hot categories: its frequent values, then the pooled rare ones' label."""
        return list(self.categories_[col]) + ([self._rare_label(col)] if col in self.rare_ else [])

    def _pool(self, frame: Any) -> Any:
        """``frame`` (:meth:`_frame`'s) with every non-empty value of a column that pools rare values
        that is not one of its frequent values (a rare one, or one never seen) as the rare label:
        scikit-learn's ``handle_unknown="infrequent_if_exist"``."""
        for col in self.rare_:
            values = frame[col]
            other = values.notna() & ~values.isin(self.categories_[col])
            if other.any():
                frame = frame.copy()
                frame[col] = values.where(~other, self._rare_label(col))
        return frame

    def _numeric_inputs(self) -> list[str]:
        """The transformer's numeric columns: numeric inputs, then each date's parts (``"ts_month"``, ...)."""
        cols = [r.name for r in self.roles_ if r.role == "numeric"]
        for name, parts in self.date_parts_.items():
            cols += [f"{name}_{p}" for p in parts]
        return cols

    def _categorical(self) -> list[str]:
        return [r.name for r in self.roles_ if r.role == "categorical"]

    def _build(self) -> None:
        """The scikit-learn transformer from the fitted state (the same at fit and at load).

        It is fitted on one row of the fill values: a median or mode of one value is that
        value, and the one-hot categories are given, so its statistics are exactly the state's.
        """
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder

        num, cat = self._numeric_inputs(), self._categorical()
        parts: list[tuple[str, Any, list[str]]] = []
        if num:
            parts.append(("numeric", SimpleImputer(strategy="median"), num))
        if cat:
            onehot = OneHotEncoder(categories=[np.asarray(self._one_hot(c), dtype=object) for c in cat],
                                   handle_unknown="ignore", sparse_output=False, dtype=np.float64)
            parts.append(("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("onehot", onehot)]), cat))
        seed = pd.DataFrame({c: pd.Series([self.fill_[c]], dtype=np.float64 if c in num else object) for c in num + cat})
        for verbose in (False, True):  # short names ("color_red") unless two columns would share one
            ct = ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=verbose)
            ct.fit(seed)
            try:
                names = [str(n) for n in ct.get_feature_names_out()]
            except ValueError:
                continue
            self.transformer_, self.feature_names_out_ = ct, names
            return

    # --- transforming ---------------------------------------------------------------------

    @property
    def feature_columns(self) -> list[str]:
        """The input columns that become features (numeric, categorical, date), in table order."""
        return [r.name for r in self.roles_ if r.role in FEATURE_ROLES]

    @property
    def text_columns(self) -> list[str]:
        """Columns a file's reader should take as text, because a part of the file (a chunk) read
        on its own could come back as numbers that mean something else: categorical columns with
        a training value that is not a number (codes ``01`` beside ``A1``: ``1`` matches no
        category) and given ones (:func:`given_categories`: ``1.50`` read as a number is ``1.5``), numbers written in a style (``6.428`` is 6428 under a dot-thousands style, not
        6.428), date strings, and the row id (``000999`` keeps its zeros)."""
        number, zero = re.compile(NUMBER_FORMATS["number"]), re.compile(ZERO_LED)
        words = {c for c in self.categories_ if not all(number.fullmatch(v.strip()) and not zero.fullmatch(v.strip())
                                                         for v in self._known(c))}  # "007": a code
        styled = {r.name for r in self.roles_ if r.role == "numeric" and r.number_format not in (None, "timedelta")}
        dates = {r.name for r in self.roles_ if r.role == "date" and r.date_format is not None}
        ids = {self.id_column_} if self.id_column_ is not None else set()
        given = {r.name for r in self.roles_ if r.role == "categorical" and r.given}  # "94110", "1.50": as trained
        return [r.name for r in self.roles_ if r.name in words | styled | dates | ids | given]

    def _known(self, col: str) -> list[str]:
        """Every training value of categorical column ``col``: its categories and its pooled rare values."""
        return list(self.categories_.get(col, [])) + list(self.rare_.get(col, []))

    @property
    def known_columns(self) -> list[str]:
        """Every column the training table had (dropped ones too: they are accepted and ignored)."""
        return [r.name for r in self.roles_]

    def as_frame(self, X: Any) -> Any:
        """``X`` as a DataFrame with string column names: a DataFrame as it is, an array or
        list of rows ``(N, n_feature_columns)`` as the feature columns in order."""
        import pandas as pd

        if is_frame(X):
            return named_frame(X, strings=True)
        try:
            arr = np.asarray(X, dtype=object)
        except (TypeError, ValueError) as err:
            raise DataError(f"input: not a table of rows ({err})") from None
        arr = arr[None, :] if arr.ndim == 1 else arr
        cols = self.feature_columns
        if arr.ndim != 2 or arr.shape[1] != len(cols):
            raise DataError(f"input has {arr.shape[1] if arr.ndim == 2 else arr.shape} values per row; this run takes a table "
                            f"(a pandas DataFrame) with the columns {', '.join(map(repr, cols[:8]))}{', ...' if len(cols) > 8 else ''}")
        return pd.DataFrame(arr, columns=cols)

    def check_columns(self, df: Any) -> None:
        """A column the run never saw, or a feature column that is not there: one-line :class:`DataError`."""
        check_names(list(df.columns), self.known_columns, self.feature_columns)

    def _dates(self, s: Any, role: ColumnRole) -> Any:
        """``s`` as timestamps (naive, UTC when the strings carry offsets); NaT where empty or unparseable.
        Datetimes are taken as they are, whatever format the training strings had."""
        import pandas as pd

        from pandas.api import types

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if types.is_datetime64_any_dtype(s):
                stamps = s
            elif s.dtype == object and types.infer_dtype(s, skipna=True) in ("datetime", "datetime64", "date"):
                stamps = pd.to_datetime(s, errors="coerce", utc=True)  # Timestamps kept as objects (JSON, astype(object))
            else:
                fmt = role.date_format
                utc = fmt is None or "%z" in fmt  # offsets that differ between rows (summer time) need UTC
                try:
                    stamps = pd.to_datetime(pd.Series(as_text(s), index=s.index), format=fmt, errors="coerce", utc=utc)
                except (ValueError, TypeError) as err:
                    raise DataError(f"column {role.name!r}: dates do not parse with the training format {fmt!r} ({err})") from None
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return stamps

    def _frame(self, df: Any, unread: "TableCounts | None" = None) -> Any:
        """The transformer's input: numbers as float64, dates as their parts, categories as strings
        (``nan`` where empty). A value that is not a number in the column's style is an error at
        fit (``unread`` ``None``), a gap counted in ``unread`` at scoring."""
        import pandas as pd

        cols: dict[str, Any] = {}
        for r in self.roles_:
            if r.role == "numeric":
                cols[r.name] = parse_numbers(df[r.name], r.number_format, r.name, unread)
            elif r.role == "date":
                stamps = self._dates(df[r.name], r)
                if unread is not None:  # a date that does not parse: unread, as a bad number; the parsed ones are read
                    unread.date_formats[r.name] = r.date_format
                    unread.read[r.name] = unread.read.get(r.name, 0) + int(stamps.notna().sum())
                if unread is not None and bool(stamps.isna().any()):
                    written = pd.Series(as_text(df[r.name]), index=df.index, dtype=object).str.strip().str.lower()
                    bad = (stamps.isna() & written.notna() & ~written.isin(MISSING_MARKERS)).to_numpy()
                    if bad.any():
                        unread.unread[r.name] = unread.unread.get(r.name, 0) + int(bad.sum())
                        i = int(np.flatnonzero(bad)[0])
                        unread.first_unread.setdefault(r.name, (str(df[r.name].iloc[i])[:40], df.index[i]))
                for part in self.date_parts_[r.name]:
                    values = stamps.dt.dayofweek if part == "weekday" else getattr(stamps.dt, part)  # (weekday: deprecated)
                    cols[f"{r.name}_{part}"] = values.astype(np.float64)
            elif r.role == "categorical":
                text = as_text(df[r.name])
                if r.name in self.categories_ and set(self.categories_[r.name]) <= {"False", "True"}:  # a yes/no column: 1/0 and true/false mean the same
                    text = np.asarray([_BOOL_TEXT.get(v.lower(), v) if isinstance(v, str) else v for v in text], dtype=object)
                cols[r.name] = self._fold_case(r.name, pd.Series(text, index=df.index, dtype=object))
        return pd.DataFrame(cols, index=df.index)[self._numeric_inputs() + self._categorical()]  # the transformer's order

    def _fold_case(self, name: str, values: Any) -> Any:
        """``values`` of categorical column ``name`` with an unseen value that differs from one
        training category only in case or surrounding spaces (``"Yes"``, ``" YES"`` for ``"yes"``)
        read as that category, and an unseen value that reads as a number (``13``, ``1.5``, as
        :func:`as_text` writes an int or a float, or a string ``"1.5"``, ``"2134.0"``) as the one
        training category that is a number of equal value (``"1.50"`` of a given category,
        ``"02134"`` of integer codes, :data:`ZERO_LED`: a column other readers wrote otherwise,
        as ``pandas.read_csv`` reads ``"1.50"`` as 1.5). A value matching several (``"A"`` and
        ``"a"``, or ``"1.5"`` and ``"1.50"``, both trained) or none stays unseen. Only the unseen
        values are looked at."""
        known = self._known(name)
        if not known:
            return values  # at fit: the training values are the categories
        folded: dict[str, list[str]] = {}
        for c in known:
            folded.setdefault(c.strip().casefold(), []).append(c)
        by_value: dict[float, list[str]] = {}  # the categories that are numbers, by value ("1.50" and "1.5" alike)
        for c in known:
            value = _plain_number(c)
            if value is not None:
                by_value.setdefault(value, []).append(c)

        def same(v: Any) -> Any:
            if not isinstance(v, str):
                return v
            matches = folded.get(v.strip().casefold(), [])
            if not matches and by_value:
                value = _plain_number(v)
                matches = by_value.get(value, []) if value is not None else []
            return matches[0] if len(matches) == 1 else v

        unseen = values.notna() & ~values.isin(known)
        if unseen.any():
            values = values.copy()
            odd = values[unseen]
            values[unseen] = odd.map({v: same(v) for v in odd.unique()})  # each distinct value looked at once
        return values

    def _counts(self, frame: Any, counts: TableCounts | None = None) -> TableCounts:
        """``counts`` (what :meth:`_frame` found unread; a new one at fit) with the gaps and unseen values of ``frame``."""
        counts = TableCounts() if counts is None else counts
        for r in self.roles_:
            if r.role == "numeric":
                n = int(frame[r.name].isna().sum()) - counts.unread.get(r.name, 0)
            elif r.role == "date":
                n = int(frame[f"{r.name}_{self.date_parts_[r.name][0]}"].isna().sum()) - counts.unread.get(r.name, 0)
            elif r.role == "categorical":
                values = frame[r.name]
                n = int(values.isna().sum())
                unseen = int((values.notna() & ~values.isin(self._known(r.name))).sum())
                if unseen:
                    counts.unseen[r.name] = unseen
                    if r.name in self.rare_:
                        counts.pooled.add(r.name)
            else:
                continue
            if n:
                counts.missing[r.name] = n
        return counts

    def transform(self, X: Any) -> np.ndarray:
        """Features ``(N, n_features_out)`` float64 of the table ``X`` (a DataFrame; an array of
        rows holds the feature columns in order). Ids and dropped columns may be present or not.
        A numeric or date column of which no value reads as a number or parses as a date, over at least
        :data:`UNREAD_ALL` values, is a one-line :class:`DataError` (:meth:`TableCounts.unreadable`; unless
        ``check_unread`` is off)."""
        df = self.as_frame(X)
        self.check_columns(df)
        if len(df) == 0:
            return np.zeros((0, len(self.feature_names_out_)), dtype=np.float64)
        counts = TableCounts()
        frame = self._frame(df, counts)
        self.last_counts_ = self._counts(frame, counts)
        problem = counts.unreadable() if self.check_unread else None
        if problem is not None:
            raise DataError(problem)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unseen categories are counted above, not warned about per call
            out = self.transformer_.transform(self._pool(frame))
        return np.ascontiguousarray(out, dtype=np.float64)

    def transform_frame(self, X: Any) -> Any:
        """:meth:`transform` as a DataFrame with ``feature_names_out_`` as columns (what an estimator validates)."""
        import pandas as pd

        return pd.DataFrame(self.transform(X), columns=self.feature_names_out_)

    # --- describing and saving ------------------------------------------------------------

    def summary(self) -> str:
        """One line saying what the preprocessing does, e.g. ``columns: 3 numeric, 2 categorical
        -> 7 one-hot, id column 'customer_id' kept as row id, date column 'ts' -> month/day/weekday,
        12 missing values imputed``."""
        by = {role: [r for r in self.roles_ if r.role == role] for role in ("numeric", "categorical", "date", "id", "text", "constant", "empty")}
        parts = [f"{len(by['numeric'])} numeric"]
        if by["categorical"]:
            n_hot = sum(len(self._one_hot(r.name)) for r in by["categorical"])
            parts.append(f"{len(by['categorical'])} categorical -> {n_hot} one-hot")
        for col, rare in list(self.rare_.items())[:4]:
            parts.append(f"{col!r}: {len(rare)} values seen in fewer than {MIN_CATEGORY_ROWS} rows pooled as {self._rare_label(col)!r}")
        if self.id_column_ is not None:
            parts.append(f"id column {self.id_column_!r} kept as row id")
        for r in by["id"][1:]:
            parts.append(f"id column {r.name!r} dropped")
        for r in by["date"]:
            # the order of day and month, where a format had to guess it (not year first, as ISO's)
            guessed = r.date_format is not None and r.date_format.startswith(("%d", "%m"))
            how = f" (read as {r.date_format})" if guessed else ""
            parts.append(f"date column {r.name!r}{how} -> {'/'.join(self.date_parts_[r.name])}")
        read = []
        for r in by["numeric"]:
            how = "; ".join(p for p in (read_style(r), r.note if r.note.startswith("some values with '%'") else "") if p)
            if r.number_format is not None:
                read.append(f"{r.name!r}" + (f" ({how})" if how else ""))
        if read:
            parts.append(f"read as numbers: {', '.join(read[:4])}{', ...' if len(read) > 4 else ''}")
        given = [f"{r.name!r} -> {len(self._one_hot(r.name))} one-hot" for r in by["categorical"] if r.given]
        if given:
            parts.append(f"categories as given: {', '.join(given[:4])}{', ...' if len(given) > 4 else ''}")
        for r in self.roles_:  # given categories and integer codes: what was made of them, so a misread one can be passed as text
            if r.given:  # a given category that is not one: too many values (text), as any category of them
                note = r.note.partition("; ")[2] if r.note.startswith("integer codes with leading zeros") else r.note
                if r.role != "categorical":
                    parts.append(f"{r.name!r}: a category as given but {r.role}"
                                 f"{'' if r.role in FEATURE_ROLES else ', not a feature'}" + (f" ({note})" if note else ""))
            elif r.note.startswith("integer codes with leading zeros"):
                parts.append(f"{r.name!r}: {r.note.split(';')[0]} ({r.role})")
            elif r.note.startswith("integers named like a code"):
                parts.append(f"{r.name!r}: {r.note}")
        for role, what in (("text", "text"), ("constant", "constant"), ("empty", "empty")):
            if by[role]:
                names = ", ".join(repr(r.name) for r in by[role][:4]) + (", ..." if len(by[role]) > 4 else "")
                parts.append(f"{len(by[role])} {what} column(s) dropped ({names})")
        n_missing = sum(self.fit_counts_.missing.values())
        if n_missing:
            parts.append(f"{n_missing} missing value(s) imputed")
        return f"columns: {', '.join(parts)}; {len(self.feature_names_out_)} features in all"

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON values (saved in ``model.json``; :meth:`from_dict` reads it)."""
        columns = []
        for r in self.roles_:
            entry: dict[str, Any] = {"name": r.name, "role": r.role}
            if r.note:
                entry["note"] = r.note
            if r.role == "date":
                entry.update(date_format=r.date_format, parts=list(self.date_parts_[r.name]))
            if r.number_format is not None:
                entry["number_format"] = r.number_format
            if r.signs:
                entry["signs"] = r.signs
            if r.given:
                entry["given"] = True
            if r.role == "categorical":
                entry["categories"] = list(self.categories_[r.name])
                if r.name in self.rare_:
                    entry["rare"] = list(self.rare_[r.name])
            columns.append(entry)
        return {"format": STATE_FORMAT, "max_categories": int(self.max_categories), "columns": columns,
                "id_column": self.id_column_, "fill": dict(self.fill_), "feature_names_out": list(self.feature_names_out_),
                "fit_counts": {"missing": dict(self.fit_counts_.missing), "unseen": dict(self.fit_counts_.unseen)}}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> "TablePreprocessor":
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output (the transformer is rebuilt, never unpickled)."""
        if not isinstance(state, dict) or state.get("format") not in (STATE_FORMAT, *OLD_STATE_FORMATS):
            raise ModelFileError(f"model.json: table preprocessing is not in format {STATE_FORMAT}")
        try:
            obj = cls(int(state["max_categories"]))
            obj.roles_ = [ColumnRole(c["name"], c["role"], c.get("note", ""), c.get("date_format"), c.get("number_format"),
                                     c.get("signs", ""), bool(c.get("given", False))) for c in state["columns"]]
            obj.id_column_ = state["id_column"]
            obj.date_parts_ = {c["name"]: list(c["parts"]) for c in state["columns"] if c["role"] == "date"}
            obj.categories_ = {c["name"]: [str(v) for v in c["categories"]] for c in state["columns"] if c["role"] == "categorical"}
            obj.rare_ = {c["name"]: [str(v) for v in c["rare"]] for c in state["columns"] if c["role"] == "categorical" and c.get("rare")}
            obj.fill_ = dict(state["fill"])
            counts = state.get("fit_counts") or {}
            obj.fit_counts_ = TableCounts(dict(counts.get("missing", {})), dict(counts.get("unseen", {})))  # (none unread at fit)
            obj.last_counts_ = TableCounts()
            obj._build()
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"model.json: table preprocessing does not fit this aekit version ({type(err).__name__}: {err})") from None
        if obj.feature_names_out_ != list(state["feature_names_out"]):
            raise ModelFileError("model.json: table preprocessing rebuilds other features than it was saved with")
        return obj


def check_names(columns: list[Any], known: list[str], needed: list[str]) -> None:
    """Columns of a table to score against a run's: one it never saw (not in ``known``) or one of
    its feature columns (``needed``) that is absent is a one-line :class:`DataError`."""
    seen = set(known)
    unknown = [c for c in columns if c not in seen]
    if unknown:
        raise DataError(f"unknown column {unknown[0]!r}: the run was fitted without it "
                        f"(its columns: {', '.join(map(repr, known[:10]))}{', ...' if len(known) > 10 else ''}); drop it")
    have = set(columns)
    missing = [c for c in needed if c not in have]
    if missing:
        raise DataError(f"column {missing[0]!r} is missing ({len(missing)} of the run's {len(needed)} "
                        "feature columns missing); send it, empty cells where values are unknown")


def table_input(est: Any, X: Any, reset: bool) -> Any:
    """What an estimator validates in place of ``X``: at fit (``reset``) a DataFrame that
    :func:`needs_preprocessing` fits ``est.table_`` and comes back encoded (a DataFrame
    named by ``feature_names_out_``); later, an estimator with ``table_`` encodes ``X`` the same way,
    and a DataFrame of plain numbers is matched to the fitted columns by name (any order; an unknown
    or missing column is one line). Anything else is returned as it is."""
    if is_frame(X):
        X = named_frame(X)
    if reset:
        if hasattr(est, "table_"):
            del est.table_
        if needs_preprocessing(X):
            est.table_ = TablePreprocessor().fit(X)
            return est.table_.transform_frame(X)
        return X
    table = getattr(est, "table_", None)
    if table is not None:
        return table.transform_frame(X)
    names = getattr(est, "feature_names_in_", None)
    # string names only: a frame named 0, 1, 2 is positional, as scikit-learn takes it
    if is_frame(X) and names is not None and list(X.columns) != list(names) and all(isinstance(c, str) for c in X.columns):
        needed = [str(c) for c in names]
        check_names(list(X.columns), needed, needed)
        X = X[needed]
    return X

