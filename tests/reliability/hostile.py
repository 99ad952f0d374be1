"""Shared helpers for the hostile-input tests: fixture texts, archives and one import attempt.

`attempt(path, store)` is the property every hostile file must satisfy, checked in one place:
the import either succeeds or raises a `LoaderError` that names the file; any other exception
fails the test; after a refusal every file of the store has the checksum it had before. Each
attempt is recorded in the ledger before anything is asserted, so a failing case is counted.
"""

from __future__ import annotations

import csv
import gzip
import io
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from loaders.errors import LoaderError
from loaders.pipeline import import_file
from tests.conftest import FIXTURES, SMALL_GED, tree_digest
from tests.reliability.ledger import LEDGER

SMALL_ACLED = FIXTURES / "acled_current_small.csv"
GED_ROWS = 5
ACLED_ROWS = 8
# Markdown and HTML that must reach a person as typed, never as a link, image or bold text.
HOSTILE_TEXTS = ("<img src=x onerror=alert(1)>", "**[x](javascript:alert(1))**")


@dataclass
class Outcome:
    """What one import attempt came to: the import's provenance, or the refusal's message."""

    name: str
    provenance: dict | None
    message: str | None
    rows_stored: int | None = None
    folder: Path | None = None  # the import's folder in the store

    @property
    def refused(self) -> bool:
        return self.provenance is None


def attempt(
    name: str,
    path: Path,
    store: Path,
    *,
    source: str = "ucdp",
    version: str | None = None,
) -> Outcome:
    """Import `path`; record the outcome in the ledger; check the refusal property.

    Raises AssertionError when a refusal does not name the file or changed the store; any
    exception other than `LoaderError` propagates and fails the calling test.
    """
    before = tree_digest(store)
    try:
        record = import_file(path, source=source, version=version, data_dir=store)
    except LoaderError as exc:
        intact = tree_digest(store) == before
        LEDGER.hostile(name, refused=True, store_intact=intact)
        message = str(exc)
        assert intact, f"{name}: the store changed although the import was refused ({message})"
        assert message.startswith(path.name), f"{name}: message does not name the file: {message}"
        assert "Traceback" not in message and "\n" not in message.strip(), message
        return Outcome(name, None, message)
    LEDGER.hostile(name, refused=False)
    rows = pq.read_metadata(record.events_path).num_rows
    return Outcome(name, record.provenance, None, rows, record.folder)


def write(folder: Path, name: str, content: bytes) -> Path:
    """`content` written to a fresh file `folder/name` (folders created)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def ged_text() -> str:
    return SMALL_GED.read_text(encoding="utf-8")


def acled_text() -> str:
    return SMALL_ACLED.read_text(encoding="utf-8")


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def csv_text(
    rows: list[dict[str, str]],
    *,
    sep: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    newline: str = "\n",
    header: bool = True,
) -> str:
    """Rows written back as delimited text in the columns' original order."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(
        buffer, fieldnames=list(rows[0]), delimiter=sep, quoting=quoting, lineterminator=newline
    )
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def zipped(members: list[tuple[str | zipfile.ZipInfo, bytes]], *, level: int = 6) -> bytes:
    """A zip archive in memory with these members (a ZipInfo keeps its attributes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def symlink_member(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    """A zip member that unzip would create as a symbolic link to `target`."""
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def patch_zip(data: bytes, *, flag_bits: int = 0, method: int | None = None) -> bytes:
    """Set general-purpose flag bits or the compression method in every zip header."""
    raw = bytearray(data)
    for signature, flags_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (at := raw.find(signature, start)) >= 0:
            raw[at + flags_at] |= flag_bits
            if method is not None:
                raw[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
            start = at + 4
    return bytes(raw)


def bomb_rows(total: int) -> Iterator[bytes]:
    """GED rows whose headline is a megabyte of "x", `total` bytes or a little more.

    Long runs are what make a bomb: deflate shrinks them about a thousand times.
    """
    row = ged_text().splitlines()[1].replace("Clashes near Mopti", "x" * (1 << 20))
    block = row.encode() + b"\n"
    for _ in range(-(-total // len(block))):
        yield block


def zip_bomb(size: int) -> bytes:
    """A zip whose one CSV member expands to `size` bytes, about a thousand times its size."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("GEDEvent_v25_1.csv", "w") as member:
            member.write(ged_text().splitlines()[0].encode() + b"\n")
            for block in bomb_rows(size):
                member.write(block)
    return buffer.getvalue()


def gzip_bomb(size: int, *, members: int = 1) -> bytes:
    """A gzip expanding to about `size` bytes; with several members, whose trailer (the size of
    the last member only) understates it."""
    header = gzip.compress(ged_text().splitlines()[0].encode() + b"\n", 9)
    body = gzip.compress(b"".join(bomb_rows(size // members)), 9)
    return header + body * members
