"""Read delimited text files of any kind an analyst may have: CSV, `.csv.gz`, `.zip`.

Detects what the file really is (a workbook or a web page saved as `.csv` is refused with a
message), its encoding, separator and whether it has a header row, and returns every column
as strings so each source can convert and validate values with row numbers of its own.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import charset_normalizer
import pyarrow as pa
import pyarrow.csv as pacsv

from loaders.errors import LoaderError

SNIFF_BYTES = 1 << 16
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class RawTable:
    """A file read as text columns, with what was detected on the way."""

    table: pa.Table
    columns: list[str]
    row_offset: int  # add to a 0-based table index to get the row number in the file
    notes: list[str] = field(default_factory=list)
    member: str | None = None


def describe(path: Path, member: str | None = None) -> str:
    """The name used in messages: the file, and the archive member if any."""
    return f"{path.name}!{member}" if member else path.name


def _open_opener(path: Path) -> tuple[Callable[[], BinaryIO], str | None]:
    """Return a function that opens the decompressed byte stream, and the zip member name."""
    name = path.name
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise LoaderError(name, f"cannot be read ({exc.strerror})") from None
    if not magic:
        raise LoaderError(name, "the file is empty")
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoaderError(
            name, "is an old Excel workbook (.xls), not CSV; save it as CSV (UTF-8) and import that"
        )
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        return _zip_opener(path)
    if magic.startswith(b"\x1f\x8b"):
        return (lambda: pa.input_stream(str(path), compression="gzip")), None
    return (lambda: pa.OSFile(str(path), "rb")), None


def _zip_opener(path: Path) -> tuple[Callable[[], BinaryIO], str]:
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise LoaderError(name, f"the zip archive is damaged or truncated ({exc})") from None
    if "[Content_Types].xml" in names or any(n.startswith("xl/") for n in names):
        raise LoaderError(
            name, "is an Excel workbook (.xlsx), not CSV; save it as CSV (UTF-8) and import that"
        )
    members = [n for n in names if n.lower().endswith((".csv", ".csv.gz", ".txt"))]
    if not members:
        raise LoaderError(name, f"the zip archive holds no CSV file (it has: {', '.join(names)})")
    if len(members) > 1:
        ged = [n for n in members if Path(n).name.lower().startswith("gedevent")]
        if len(ged) != 1:
            raise LoaderError(
                name, f"the zip archive holds several CSV files ({', '.join(members)}); import one"
            )
        members = ged
    member = members[0]
    return (lambda: archive.open(member)), member


def _sniff_encoding(sample: bytes, where: str) -> tuple[str, list[str]]:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", []
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", ["encoding UTF-16 detected (byte-order mark)"]
    if b"\x00" in sample:
        raise LoaderError(where, "is a binary file, not CSV text")
    try:
        # A sample may end inside a multi-byte character: ignore an incomplete tail only.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8", []
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise LoaderError(where, "the text encoding could not be recognised; save it as UTF-8")
    return best.encoding, [f"encoding {best.encoding} detected (not UTF-8)"]


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _split_header(line: str, sep: str) -> list[str]:
    return [cell.strip().strip('"').strip() for cell in line.split(sep)]


def read_delimited(
    path: Path,
    *,
    known_columns: Sequence[str],
    headerless_columns: Sequence[str] | None = None,
    include: Callable[[list[str]], list[str]] | None = None,
    null_values: Sequence[str] = ("",),
) -> RawTable:
    """Read `path` as text columns.

    `known_columns` are the column names this source may use (to recognise a header row);
    `headerless_columns` names the columns of a file published without one (UCDP Candidate);
    `include(columns)` picks the columns to keep, so unused wide text is never parsed.
    """
    opener, member = _open_opener(path)
    where = describe(path, member)
    try:
        with opener() as stream:
            sample = stream.read(SNIFF_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise LoaderError(where, f"the compressed file is damaged or truncated ({exc})") from None
    if not sample.strip():
        raise LoaderError(where, "the file is empty")
    encoding, notes = _sniff_encoding(sample, where)
    text = sample.decode(encoding, errors="ignore")
    head = _first_line(text)
    if head.lstrip().lower().startswith(("<!doctype html", "<html", "<?xml")):
        raise LoaderError(where, "is an HTML or XML page, not CSV (an error or login page?)")
    sep = max(SEPARATORS, key=head.count)
    if head.count(sep) == 0:
        raise LoaderError(where, "no column separator (comma, semicolon, tab or pipe) in line 1")
    if sep != ",":
        notes.append(f"separator {SEPARATOR_NAMES[sep]} detected")
    fields = _split_header(head, sep)
    known = set(known_columns)
    has_header = len(known.intersection(fields)) >= min(3, len(fields))
    if has_header:
        columns, row_offset = fields, 2
    elif headerless_columns is not None and len(fields) == len(headerless_columns):
        columns, row_offset = list(headerless_columns), 1
        notes.append("no header row; the source's standard column order was assumed")
    else:
        raise LoaderError(
            f"{where}, line 1",
            f"no recognisable header row ({len(fields)} fields, starting {head[:80]!r})",
        )
    columns = [c if c else f"column_{i}" for i, c in enumerate(columns)]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise LoaderError(f"{where}, line 1", f"duplicate column names: {', '.join(dupes)}")
    keep = include(columns) if include else columns
    read_options = pacsv.ReadOptions(
        column_names=columns,
        skip_rows=1 if has_header else 0,
        encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
        block_size=16 << 20,
    )
    parse_options = pacsv.ParseOptions(delimiter=sep, newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(keep, pa.string()),
        include_columns=keep,
        null_values=list(null_values),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        with opener() as stream:
            table = pacsv.read_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise LoaderError(where, _arrow_problem(str(exc))) from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise LoaderError(where, f"the compressed file is damaged or truncated ({exc})") from None
    if table.num_rows == 0:
        raise LoaderError(where, "the file has a header but no rows")
    return RawTable(table, columns, row_offset, notes, member)


def _arrow_problem(message: str) -> str:
    first = message.strip().splitlines()[0]
    if "invalid UTF8" in first or "UTF8" in first:
        return "text is not valid UTF-8 beyond the first 64 KB; save the file as UTF-8"
    if "Expected" in first and "columns" in first:
        return f"rows have different numbers of fields: {first}"
    return f"not a readable CSV file: {first[:200]}"
