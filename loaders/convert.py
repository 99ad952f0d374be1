"""Typed conversion of text columns, with the row of each bad value.

A `Column` either refuses its file at the first bad value (a `LoaderError` naming row, column
and value), or, given a `Rejects`, sets the bad rows aside with their reason and goes on, so
that one bad row in thousands does not refuse a whole file (see `Rejected.refusal`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from loaders.errors import LoaderError

INT32 = pa.int32()
INTEGER = r"^\s*[-+]?\d+(\.0*)?\s*$"
NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
# An import goes through with rows set aside only when they are few: at most this share of
# the file's rows AND at most this many. More means the file, not a row, is wrong.
MAX_REJECTED_SHARE = 0.01
MAX_REJECTED_ROWS = 1_000


def shown(value: object) -> str:
    """A cell for a message: quoted, and cut when long (a bad cell can be megabytes)."""
    if isinstance(value, str) and len(value) > 80:
        return f"{value[:80]!r}… ({len(value):,} characters)"
    return repr(value)


class Rejects:
    """The rows of one file (or block) that failed a blocking check, and why.

    A row keeps the first reason found for it: the column, the problem and the cell as read.
    """

    def __init__(self, rows: int) -> None:
        self.columns = pa.nulls(rows, pa.string())
        self.problems = pa.nulls(rows, pa.string())
        self.cells = pa.nulls(rows, pa.string())

    def add(
        self,
        bad: pa.ChunkedArray | pa.Array,
        column: str,
        problem: str,
        cells: pa.ChunkedArray | pa.Array | None = None,
    ) -> None:
        new = pc.and_(pc.fill_null(bad, False), pc.is_null(self.problems))
        if not pc.any(new).as_py():
            return
        self.columns = pc.if_else(new, column, self.columns)
        self.problems = pc.if_else(new, problem, self.problems)
        if cells is not None:
            self.cells = pc.if_else(new, pc.cast(cells, pa.string()), self.cells)

    @property
    def mask(self) -> pa.ChunkedArray | pa.Array:
        """True for the rows set aside."""
        return pc.is_valid(self.problems)

    def count(self) -> int:
        return len(self.problems) - self.problems.null_count

    def collect(
        self, where: str, row_offset: int, *, encoding: str, separator: str, header: bool
    ) -> Rejected:
        """What was set aside, by file row number (`row_offset` added to each table index)."""
        index = pc.indices_nonzero(self.mask)
        rows = pc.add(index, row_offset).to_pylist()
        columns = pc.take(self.columns, index).to_pylist()
        problems = pc.take(self.problems, index).to_pylist()
        first = self.cells[index[0].as_py()].as_py() if rows else None
        return Rejected(
            where, len(self.problems), rows, columns, problems, first, encoding, separator, header
        )


@dataclass(frozen=True)
class Rejected:
    """Rows set aside from a file: their file row numbers, columns and problems, in row order,
    and how to read them again verbatim (`files.write_rejects`)."""

    where: str
    total: int  # rows read from the file
    rows: list[int]
    columns: list[str]
    problems: list[str]
    first_cell: str | None
    encoding: str
    separator: str
    header: bool

    @property
    def reasons(self) -> list[str]:
        return [f"{c}: {p}" for c, p in zip(self.columns, self.problems, strict=True)]

    def summary(self) -> str:
        """E.g. `3 of 811 rows set aside (event_date: not a valid date 2, country: … 1)`."""
        counts = Counter(self.reasons).most_common()
        listed = ", ".join(f"{reason} ×{n}" for reason, n in counts[:5])
        more = f", and {len(counts) - 5} other reasons" if len(counts) > 5 else ""
        return (
            f"{len(self.rows):,} of {self.total:,} rows set aside by blocking checks "
            f"({listed}{more})"
        )

    def refusal(self, *, strict: bool = False) -> LoaderError | None:
        """The error that refuses the file, or None when its rejected rows may be set aside.

        Strict imports set nothing aside; others at most MAX_REJECTED_SHARE of the rows and
        MAX_REJECTED_ROWS rows. The message names the first bad row, its column and problem.
        """
        count = len(self.rows)
        if not count:
            return None
        limit = min(MAX_REJECTED_ROWS, int(MAX_REJECTED_SHARE * self.total))
        if strict:
            why = "a strict import sets none aside"
        elif count > limit:
            why = (
                f"more than can be set aside ({MAX_REJECTED_SHARE:.0%} of the rows and at most "
                f"{MAX_REJECTED_ROWS:,})"
            )
        else:
            return None
        cell = f": {shown(self.first_cell)}" if self.first_cell is not None else ""
        return LoaderError(
            f"{self.where}, row {self.rows[0]}, column {self.columns[0]}",
            f"{self.problems[0]}{cell}; {count:,} of {self.total:,} rows fail blocking "
            f"checks, {why}",
        )


class Column:
    """A text column of one file, converted with messages that point at the bad cell.

    With `rejects`, bad cells set their rows aside (and become null) instead of raising.
    """

    def __init__(
        self,
        values: pa.ChunkedArray,
        name: str,
        where: str,
        row_offset: int,
        rejects: Rejects | None = None,
    ) -> None:
        self.values = values
        self.name = name
        self.where = where
        self.row_offset = row_offset
        self.rejects = rejects

    def _fail(self, bad: pa.ChunkedArray | pa.Array, problem: str) -> LoaderError:
        index = pc.index(bad, True).as_py()
        value = self.values[index].as_py()
        count = pc.sum(bad).as_py()
        more = f" ({count} rows in all)" if count > 1 else ""
        return LoaderError(
            f"{self.where}, row {index + self.row_offset}, column {self.name}",
            f"{problem}: {shown(value)}{more}",
        )

    def reject(self, bad: pa.ChunkedArray | pa.Array, problem: str) -> None:
        """Refuse the file at the first `bad` cell, or set those rows aside and null the cells."""
        bad = pc.fill_null(bad, False)
        if not pc.any(bad).as_py():
            return
        if self.rejects is None:
            raise self._fail(bad, problem)
        self.rejects.add(bad, self.name, problem, self.values)
        self.values = pc.if_else(bad, pa.scalar(None, self.values.type), self.values)

    def _check_pattern(self, pattern: str, problem: str) -> None:
        self.reject(pc.invert(pc.match_substring_regex(self.values, pattern)), problem)

    def text(self) -> pa.ChunkedArray:
        """Trimmed text; blank cells become null."""
        trimmed = pc.utf8_trim_whitespace(self.values)
        return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)

    def recode(
        self, mapping: dict[str, str], problem: str, *, lower: bool = False
    ) -> pa.ChunkedArray:
        """Values translated through `mapping`; one not in it is a bad value."""
        text = pc.utf8_lower(self.text()) if lower else self.text()
        index = pc.index_in(text, pa.array(list(mapping)))
        self.reject(pc.and_(pc.is_null(index), pc.is_valid(text)), problem)
        return pc.take(pa.array(list(mapping.values())), index)

    def integers(self, type_: pa.DataType = INT32) -> pa.ChunkedArray:
        """Whole numbers (`3` or `3.0`); anything else is a bad value."""
        try:
            return pc.cast(pc.cast(self.values, pa.float64()), type_)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        self._check_pattern(INTEGER, "not a whole number")
        # Name the value that overflows, not the first row that has a value.
        high = (1 << (type_.bit_width - 1)) - 1
        floats = pc.cast(pc.utf8_trim_whitespace(self.values), pa.float64())
        self.reject(
            pc.or_(pc.less(floats, -high - 1), pc.greater(floats, high)),
            f"out of range (more than {high:,})",
        )
        return pc.cast(pc.cast(pc.utf8_trim_whitespace(self.values), pa.float64()), type_)

    def numbers(self) -> pa.ChunkedArray:
        try:
            return pc.cast(self.values, pa.float64())
        except pa.ArrowInvalid:
            pass
        self._check_pattern(NUMBER, "not a number")
        return pc.cast(pc.utf8_trim_whitespace(self.values), pa.float64())

    def dates(self) -> pa.ChunkedArray:
        """ISO dates, with or without a time part (`2013-01-03 00:00:00.000`)."""
        day = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(self.values), 0, 10)
        try:
            # Arrow's cast is strict (it refuses 2024-02-30) and twenty times faster than
            # parsing; the slow path below only runs when some value is not a date.
            return pc.cast(day, pa.date32())
        except pa.ArrowInvalid:
            pass
        parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2024-02-30 over to March 1st: a round trip catches impossible days.
        same = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), day)
        bad = pc.and_(pc.invert(pc.fill_null(same, False)), pc.is_valid(day))
        self.reject(bad, "not a valid date (YYYY-MM-DD)")
        return pc.cast(
            pc.if_else(pc.fill_null(bad, False), pa.scalar(None, parsed.type), parsed), pa.date32()
        )


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


def plausible_dates(
    dates: pa.ChunkedArray,
    column: str,
    where: str,
    row_offset: int,
    rejects: Rejects | None = None,
) -> pa.ChunkedArray:
    """Event dates before 1900 or more than a month ahead of today are data errors: refused,
    or (with `rejects`) set aside and returned as null."""
    latest = dt.date.today() + dt.timedelta(days=31)
    bad = pc.fill_null(
        pc.or_(pc.less(dates, dt.date(1900, 1, 1)), pc.greater(dates, latest)), False
    )
    if not pc.any(bad).as_py():
        return dates
    problem = "impossible event date (before 1900 or in the future)"
    if rejects is None:
        index = pc.index(bad, True).as_py()
        raise LoaderError(
            f"{where}, row {index + row_offset}, column {column}",
            f"impossible event date {dates[index].as_py()} (before 1900 or in the future)",
        )
    rejects.add(bad, column, problem, pc.cast(dates, pa.string()))
    return pc.if_else(bad, pa.scalar(None, pa.date32()), dates)
