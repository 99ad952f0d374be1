"""Import steps shared by every source: keep the raw file, parse, record provenance, commit.

Read top-down: take the lock, copy the untouched raw file into staging (hashing it on the
way), parse *that copy* with the source's reader, then let the store validate and swap it in.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from loaders import ucdp
from loaders.errors import LoaderError
from loaders.store import ImportRecord, Store, copy_with_sha256, sha256_of

# One reader per source: path and optional version in, parsed events out.
READERS: dict[str, Callable[[Path, str | None], ucdp.Parsed]] = {"ucdp": ucdp.read_file}


def reader_for(source: str) -> Callable[[Path, str | None], ucdp.Parsed]:
    try:
        return READERS[source]
    except KeyError:
        raise LoaderError(
            "--source", f"unknown source {source!r}; known: {', '.join(sorted(READERS))}"
        ) from None


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def import_file(
    path: str | Path,
    *,
    source: str = "ucdp",
    version: str | None = None,
    data_dir: str | Path | None = None,
    origin: str | None = None,
    move: bool = False,
) -> ImportRecord:
    """Import one file into the store atomically and return the live import's record.

    `origin` is the URL a download came from (default: the local path); `move` takes a file
    that was downloaded into the store's staging area instead of copying it.
    """
    path = Path(path)
    read = reader_for(source)
    if not path.is_file():
        raise LoaderError(str(path), "no such file")
    store = Store(data_dir)
    with store.lock():
        staging = store.staging_dir()
        try:
            raw = staging / "raw" / path.name
            raw.parent.mkdir()
            if move:
                shutil.move(path, raw)
                digest, size = sha256_of(raw), raw.stat().st_size
            else:
                digest, size = copy_with_sha256(path, raw)
            parsed = read(raw, version)
            provenance = {
                **parsed.provenance(),
                "file": path.name,
                "origin": origin or str(path.resolve()),
                "fetched_at": now_utc(),
                "sha256": digest,
                "bytes": size,
            }
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return store.commit(staging, parsed.events, provenance, parsed.row_offset)
