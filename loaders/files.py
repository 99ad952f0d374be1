"""Read delimited text files of any kind an analyst may have: CSV, `.csv.gz`, `.zip`.

Detects what the file really is (a workbook or a web page saved as `.csv` is refused with a
message), its encoding, separator and whether it has a header row, and returns every column
as strings so each source can convert and validate values with row numbers of its own.

Archives are read in memory, never extracted, but a hostile one is still refused up front:
members with absolute or `..` paths, symbolic links, encrypted or exotic members, and
decompression bombs (a member, or a `.gz`, that expands more than `MAX_EXPANSION` times).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import lzma
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import charset_normalizer
import pyarrow as pa
import pyarrow.csv as pacsv

from loaders.convert import Rejected
from loaders.errors import LoaderError

SNIFF_BYTES = 1 << 16
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# CSV text compresses 5-15 times (UCDP's files: 7-10); a bomb, about a thousand times. Below
# EXPANSION_FREE bytes any ratio is harmless, so small repetitive files are never refused.
MAX_EXPANSION = 100
EXPANSION_FREE = 64 << 20
ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
# An absolute path, a drive letter or a `..` component: a name written to escape a folder.
UNSAFE_MEMBER = re.compile(r"^([\\/]|[A-Za-z]:)|(^|[\\/])\.\.([\\/]|$)")
NEWLINE = b"\n"
# Cells a spreadsheet would run as a formula (as in exports/tabular.py): made inert with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What a damaged compressed stream raises, by codec.
DAMAGED = (OSError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError)


@dataclass
class RawTable:
    """A file read as text columns, with what was detected on the way."""

    table: pa.Table
    columns: list[str]
    row_offset: int  # add to a 0-based table index to get the row number in the file
    notes: list[str] = field(default_factory=list)
    member: str | None = None
    encoding: str = "utf-8"
    separator: str = ","


def describe(path: Path, member: str | None = None) -> str:
    """The name used in messages: the file, and the archive member if any."""
    return f"{path.name}!{member}" if member else path.name


def expansion_limit(compressed: int) -> int:
    """The most `compressed` bytes may decompress to before they count as a decompression bomb."""
    return max(EXPANSION_FREE, MAX_EXPANSION * compressed)


def _bomb(limit: int) -> str:
    return (
        f"decompresses to more than {limit / 2**20:,.0f} MB, over {MAX_EXPANSION} times its "
        "compressed size: refused as a possible decompression bomb"
    )


class _Capped:
    """A decompressed byte stream that refuses to yield more than `limit` bytes.

    Declared sizes can lie (a gzip trailer holds the size modulo 4 GB; a multi-member gzip's
    trailer only its last member's), so the bytes actually read are counted. A damaged stream
    becomes a `LoaderError` here, whichever codec noticed, so no caller needs their list.
    """

    def __init__(self, stream: BinaryIO, limit: int, where: str) -> None:
        self._stream, self._limit, self._where, self._total = stream, limit, where, 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._limit - self._total + 1
        try:
            data = self._stream.read(size)
        except DAMAGED as exc:
            problem = f"the compressed file is damaged or truncated ({exc})"
            raise LoaderError(self._where, problem) from None
        self._total += len(data)
        if self._total > self._limit:
            raise LoaderError(self._where, _bomb(self._limit))
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> _Capped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _gzip_opener(path: Path) -> Callable[[], BinaryIO]:
    # The gzip trailer's size is only the size modulo 4 GB (and garbage in a truncated file):
    # the bytes are counted while they are read instead.
    limit = expansion_limit(path.stat().st_size)
    return lambda: _Capped(pa.input_stream(str(path), compression="gzip"), limit, path.name)


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
        return _gzip_opener(path), None
    return (lambda: pa.OSFile(str(path), "rb")), None


def _zip_opener(path: Path) -> tuple[Callable[[], BinaryIO], str]:
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise LoaderError(name, f"the zip archive is damaged or truncated ({exc})") from None
    for info in archive.infolist():
        if UNSAFE_MEMBER.search(info.filename):
            raise LoaderError(
                name,
                f"the zip archive has a member outside its folder ({info.filename!r}); refused",
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise LoaderError(
                name, f"the zip archive has a symbolic link ({info.filename!r}); refused"
            )
    if "[Content_Types].xml" in names or any(n.startswith("xl/") for n in names):
        raise LoaderError(
            name, "is an Excel workbook (.xlsx), not CSV; save it as CSV (UTF-8) and import that"
        )
    if not names:
        raise LoaderError(name, "the zip archive is empty")
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
    where = describe(path, member)
    info = archive.getinfo(member)
    if info.flag_bits & 0x1:
        raise LoaderError(where, "is encrypted (password-protected); unzip it and import the CSV")
    if info.compress_type not in ZIP_METHODS:
        raise LoaderError(
            where,
            f"uses a compression method this reader does not know ({info.compress_type}); "
            "unzip it and import the CSV",
        )
    limit = expansion_limit(info.compress_size)
    if info.file_size > limit:
        raise LoaderError(where, _bomb(limit))
    if member.lower().endswith(".gz"):
        return (lambda: _Capped(gzip.GzipFile(fileobj=archive.open(member)), limit, where)), member
    return (lambda: _Capped(archive.open(member), limit, where)), member


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
    results = charset_normalizer.from_bytes(sample)
    best = results.best()
    if best is None:
        raise LoaderError(where, "the text encoding could not be recognised; save it as UTF-8")
    # Accented French reads the same in cp1250 and cp1252, and nothing in the bytes tells them
    # apart: among code pages that read the sample identically or fit it equally well,
    # Windows' Western European one (what a spreadsheet in a Western locale saves) is taken.
    fitting = {
        name
        for r in results
        if (r.chaos, r.coherence) == (best.chaos, best.coherence)
        for name in r.could_be_from_charset
    }
    encoding = "cp1252" if "cp1252" in fitting else best.encoding
    return encoding, [f"encoding {encoding} detected (not UTF-8)"]


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
    except DAMAGED as exc:
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
    except UnicodeDecodeError as exc:  # raised by Python codecs transcoding non-UTF-8 text
        line = _undecodable_line(opener, encoding)
        raise LoaderError(
            f"{where}{line}",
            f"text is not valid {encoding} (byte {exc.object[exc.start : exc.start + 1]!r}); "
            "save the file as UTF-8",
        ) from None
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        first = str(exc).strip().splitlines()[0]
        if "UTF8" in first:
            line = _undecodable_line(opener, "utf-8")
            raise LoaderError(
                f"{where}{line}", "text is not valid UTF-8; save the file as UTF-8"
            ) from None
        if "Expected" in first and "columns" in first:
            row = _row_with_wrong_fields(opener, encoding, sep, len(columns))
            raise LoaderError(f"{where}{row}", _arrow_problem(first)) from None
        raise LoaderError(where, _arrow_problem(first)) from None
    except DAMAGED as exc:
        raise LoaderError(where, f"the compressed file is damaged or truncated ({exc})") from None
    if table.num_rows == 0:
        raise LoaderError(where, "the file has a header but no rows")
    return RawTable(table, columns, row_offset, notes, member, encoding, sep)


def _arrow_problem(first: str) -> str:
    """Arrow's first line as a sentence; the row it quotes is cut (it can be megabytes)."""
    if "Expected" in first and "columns" in first:
        return f"rows have different numbers of fields: {_clip(first)}"
    return f"not a readable CSV file: {_clip(first)}"


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _undecodable_line(opener: Callable[[], BinaryIO], encoding: str) -> str:
    """`, line N` for the first line that does not decode, found by a second pass (errors only)."""
    if encoding.lower().replace("_", "-").startswith("utf-16"):
        return ""  # a line break is two bytes there; the message names the file only
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    try:
        with opener() as stream:
            while chunk := stream.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    return f", line {line + exc.object[: exc.start].count(NEWLINE)}"
                line += chunk.count(NEWLINE)
    except (LoaderError, *DAMAGED):
        pass
    return ""


def _row_with_wrong_fields(
    opener: Callable[[], BinaryIO], encoding: str, sep: str, expected: int
) -> str:
    """`, row N` for the first record without `expected` fields (a second pass, errors only).

    Arrow says which text is wrong but not where; Python's csv module counts records the same
    way (quoted line breaks included), so its count names the row a person looks for. Record k
    (0-based) is row k + 1 whether or not record 0 is a header.
    """
    try:
        with opener() as stream:
            records = csv.reader(_text_lines(stream, encoding), delimiter=sep)
            for number, record in enumerate(records):
                if record and len(record) != expected:
                    return f", row {number + 1}"
    except (LoaderError, csv.Error, *DAMAGED):
        pass
    return ""


def _text_lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """Lines of a byte stream as text, line ends kept (csv needs them inside quotes)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    while chunk := stream.read(1 << 20):
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def write_rejects(path: Path, rejected: Rejected, target: Path) -> None:
    """Write the rows set aside from `path` to `target` (UTF-8 CSV with a byte-order mark, so
    spreadsheets read it as such): `row`, `reason`, then the file's own header and cells as read.

    The rows are read again with Python's csv module, which counts records as Arrow does
    (quoted line breaks included; blank lines skipped), so row numbers match the messages.
    Cells that a spreadsheet would run as formulas are neutralised with a leading quote.
    """
    opener, _ = _open_opener(path)
    wanted = {row - 1: k for k, row in enumerate(rejected.rows)}  # record index -> rejected
    found: dict[int, list[str]] = {}
    header: list[str] = []
    with opener() as stream:
        records = csv.reader(_text_lines(stream, rejected.encoding), delimiter=rejected.separator)
        number = 0
        for record in records:
            if not record:
                continue
            if number == 0 and rejected.header:
                header = record
            elif number in wanted:
                found[wanted[number]] = record
                if len(found) == len(wanted):
                    break
            number += 1
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "reason", *header])
        for k, (row, reason) in enumerate(zip(rejected.rows, rejected.reasons, strict=True)):
            writer.writerow([row, reason, *(_inert(cell) for cell in found.get(k, []))])


def _inert(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
