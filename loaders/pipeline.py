"""Import steps shared by every source: keep the raw file, parse, record provenance, commit.

Read top-down: take the lock, copy the untouched raw file into staging (hashing it on the
way), parse *that copy* with the source's reader, set aside the rows it rejected (or refuse the
file when they are too many), then let the store validate and swap it in.

Rows set aside are written verbatim beside the raw file, `raw/<file>.rejects.csv` (`row`,
`reason`, then the file's columns), and counted in the provenance (`rejected_rows`,
`rejects_file`, `rejects_sha256`), so nothing a file held is dropped unseen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from loaders import registry, ucdp
from loaders.errors import LoaderError
from loaders.files import write_rejects
from loaders.provenance import Provenance
from loaders.store import ImportRecord, Store, copy_with_sha256, sha256_of


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
    details: dict | None = None,
    also_keep: Sequence[Path] = (),
    strict: bool = False,
) -> ImportRecord:
    """Import one file into the store atomically and return the live import's record.

    `origin` is the URL a download came from (default: the local path); `move` takes a file
    that was downloaded into the store's staging area instead of copying it. `details` are
    added to the provenance; `also_keep` files (e.g. the API pages a file was built from) are
    moved into the import's `raw/` folder beside it. Rows the reader rejects are set aside
    when few (`convert.MAX_REJECTED_SHARE`, `MAX_REJECTED_ROWS`); `strict` refuses the file
    on any.
    """
    path = Path(path)
    if not path.is_file():
        raise LoaderError(str(path), "no such file")
    reader = registry.reader_for(path, source)
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
            for extra in also_keep:
                shutil.move(extra, raw.parent / extra.name)
            parsed = reader.read_file(raw, version)
            provenance = Provenance.create(
                **parsed.provenance(),
                file=path.name,
                origin=origin or str(path.resolve()),
                fetched_at=now_utc(),
                sha256=digest,
                bytes=size,
                **_set_aside(parsed, raw, strict),
                details=details or {},
            )
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if reader.kind == "aggregates":
            return store.commit_aggregates(
                staging, parsed.aggregates, provenance, parsed.row_offset
            )
        return store.commit(staging, parsed.events, provenance, parsed.row_offset)


def _set_aside(parsed: registry.Parsed, raw: Path, strict: bool) -> dict:
    """Refuse the file if it has too many rejected rows (any, when `strict`); else write them
    beside the raw file and return what provenance records about them."""
    rejected = parsed.rejected
    if rejected is None or not rejected.rows:
        return {"rejected_rows": 0}
    refusal = rejected.refusal(strict=strict)
    if refusal is not None:
        raise refusal
    target = raw.with_name(f"{raw.name}.rejects.csv")
    write_rejects(raw, rejected, target)
    return {
        "rejected_rows": len(rejected.rows),
        "rejects_file": target.name,
        "rejects_sha256": sha256_of(target),
    }


def import_api_pages(
    pages: Sequence[Path],
    release: ucdp.Release,
    *,
    data_dir: str | Path | None = None,
    origin: str,
    complete: bool,
    details: dict | None = None,
) -> ImportRecord:
    """Import the saved JSON pages of one UCDP API pull as one atomic import.

    The pages are moved untouched into the import's `raw/` folder and read from there, so the
    store keeps exactly what the API sent; `sha256` covers the pages in order, and each page's
    own checksum is listed. `complete` says the pull was a whole release (no filters);
    `details` (request counts, page size) are added to the provenance.
    """
    if not pages:
        raise LoaderError(origin, "the API returned no pages")
    store = Store(data_dir)
    with store.lock():
        staging = store.staging_dir()
        try:
            raw = staging / "raw"
            raw.mkdir()
            whole, records, listed = hashlib.sha256(), [], []
            for page in pages:
                target = raw / page.name
                shutil.move(page, target)
                content = target.read_bytes()
                whole.update(content)
                listed.append(
                    {
                        "file": page.name,
                        "sha256": hashlib.sha256(content).hexdigest(),
                        "bytes": len(content),
                    }
                )
                records.extend(json.loads(content)["Result"])
            where = f"UCDP API gedevents/{release.version}"
            parsed = ucdp.table_from_records(records, where, release)
            parsed.complete = complete
            provenance = Provenance.create(
                **parsed.provenance(),
                file=f"api-gedevents-{release.version}",
                origin=origin,
                fetched_at=now_utc(),
                sha256=whole.hexdigest(),
                bytes=sum(p["bytes"] for p in listed),
                details={"pages": listed, **(details or {})},
            )
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return store.commit(staging, parsed.events, provenance, parsed.row_offset)
