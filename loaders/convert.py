"""Typed conversion of text columns with the row of the first bad value in the message."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from loaders.errors import LoaderError

INT32 = pa.int32()
INTEGER = r"^\s*[-+]?\d+(\.0*)?\s*$"
NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


class Column:
    """A text column of one file, converted with messages that point at the bad cell."""

    def __init__(self, values: pa.ChunkedArray, name: str, where: str, row_offset: int) -> None:
        self.values = values
        self.name = name
        self.where = where
        self.row_offset = row_offset

    def _fail(self, bad: pa.ChunkedArray | pa.Array, problem: str) -> LoaderError:
        index = pc.index(bad, True).as_py()
        value = self.values[index].as_py()
        count = pc.sum(bad).as_py()
        more = f" ({count} rows in all)" if count > 1 else ""
        shown = repr(value)
        if isinstance(value, str) and len(value) > 80:  # a bad cell can be megabytes long
            shown = f"{value[:80]!r}… ({len(value):,} characters)"
        return LoaderError(
            f"{self.where}, row {index + self.row_offset}, column {self.name}",
            f"{problem}: {shown}{more}",
        )

    def _check_pattern(self, pattern: str, problem: str) -> None:
        ok = pc.match_substring_regex(self.values, pattern)
        bad = pc.fill_null(pc.invert(ok), False)
        if pc.any(bad).as_py():
            raise self._fail(bad, problem)

    def text(self) -> pa.ChunkedArray:
        """Trimmed text; blank cells become null."""
        trimmed = pc.utf8_trim_whitespace(self.values)
        return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)

    def recode(
        self, mapping: dict[str, str], problem: str, *, lower: bool = False
    ) -> pa.ChunkedArray:
        """Values translated through `mapping`; one not in it is an error naming the row."""
        text = pc.utf8_lower(self.text()) if lower else self.text()
        index = pc.index_in(text, pa.array(list(mapping)))
        bad = pc.fill_null(pc.and_(pc.is_null(index), pc.is_valid(text)), False)
        if pc.any(bad).as_py():
            raise self._fail(bad, problem)
        return pc.take(pa.array(list(mapping.values())), index)

    def integers(self, type_: pa.DataType = INT32) -> pa.ChunkedArray:
        """Whole numbers (`3` or `3.0`); anything else is an error naming the row."""
        try:
            return pc.cast(pc.cast(self.values, pa.float64()), type_)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            self._check_pattern(INTEGER, "not a whole number")
            # Name the value that overflows, not the first row that has a value.
            high = (1 << (type_.bit_width - 1)) - 1
            floats = pc.cast(self.values, pa.float64())
            big = pc.fill_null(pc.or_(pc.less(floats, -high - 1), pc.greater(floats, high)), False)
            found = big if pc.any(big).as_py() else pc.fill_null(pc.is_valid(self.values), False)
            raise self._fail(found, f"out of range (more than {high:,})") from None

    def numbers(self) -> pa.ChunkedArray:
        try:
            return pc.cast(self.values, pa.float64())
        except pa.ArrowInvalid:
            self._check_pattern(NUMBER, "not a number")
            raise

    def dates(self) -> pa.ChunkedArray:
        """ISO dates, with or without a time part (`2013-01-03 00:00:00.000`)."""
        day = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(self.values), 0, 10)
        try:
            # Arrow's cast is strict (it refuses 2024-02-30) and twenty times faster than
            # parsing; the slow path below only runs to name the bad row.
            return pc.cast(day, pa.date32())
        except pa.ArrowInvalid:
            pass
        parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2024-02-30 over to March 1st: a round trip catches impossible days.
        same = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), day)
        bad = pc.fill_null(pc.and_(pc.invert(pc.fill_null(same, False)), pc.is_valid(day)), False)
        if pc.any(bad).as_py():
            raise self._fail(bad, "not a valid date (YYYY-MM-DD)")
        return pc.cast(parsed, pa.date32())


def dates_from_parts(
    year: Column, month: Column, day: Column, where: str, row_offset: int
) -> pa.ChunkedArray:
    """Build dates from separate year, month and day columns, refusing impossible ones."""
    text = pc.binary_join_element_wise(
        pc.cast(year.integers(pa.int32()), pa.string()),
        pc.utf8_lpad(pc.cast(month.integers(pa.int32()), pa.string()), 2, "0"),
        pc.utf8_lpad(pc.cast(day.integers(pa.int32()), pa.string()), 2, "0"),
        "-",
    )
    return Column(text, "year/month/day", where, row_offset).dates()


def plausible_dates(dates: pa.ChunkedArray, column: str, where: str, row_offset: int) -> None:
    """Event dates before 1900 or more than a month ahead of today are data errors."""
    latest = dt.date.today() + dt.timedelta(days=31)
    bad = pc.fill_null(
        pc.or_(pc.less(dates, dt.date(1900, 1, 1)), pc.greater(dates, latest)), False
    )
    if pc.any(bad).as_py():
        index = pc.index(bad, True).as_py()
        raise LoaderError(
            f"{where}, row {index + row_offset}, column {column}",
            f"impossible event date {dates[index].as_py()} (before 1900 or in the future)",
        )
