"""Files handed to the app by upload: size-checked, renamed safely, imported atomically."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from loaders.errors import LoaderError
from loaders.pipeline import import_file
from loaders.store import ImportRecord, Store

MAX_UPLOAD_MB = 200  # also Streamlit's server.maxUploadSize in .streamlit/config.toml
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """The file name alone, without folders or characters a file system could misread."""
    base = Path(name.replace("\\", "/")).name
    cleaned = SAFE_NAME.sub("_", base).strip("._") or "upload.csv"
    return cleaned[:120]


def import_upload(
    name: str,
    data: BinaryIO,
    *,
    size: int,
    source: str = "ucdp",
    version: str | None = None,
    data_dir: str | Path | None = None,
    strict: bool = False,
) -> ImportRecord:
    """Import an uploaded file: refuse it when too large, else as `python -m loaders import`
    (`strict`: refuse it if any row fails a check, as `--strict`).

    `size` is what the uploader says; the bytes are counted while they are copied as well, so
    a stream longer than it claims is still stopped at the limit.
    """
    limit = MAX_UPLOAD_MB * 1024 * 1024
    if size > limit:
        raise LoaderError(name, _too_large(size))
    if size == 0:
        raise LoaderError(name, "the file is empty")
    store = Store(data_dir)
    folder = store.root / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        path = folder / safe_name(name)
        try:
            _copy_at_most(data, path, limit, name)
        except OSError as exc:  # a full disk, say: the page shows a message, not a traceback
            raise LoaderError(name, f"could not be saved for import ({exc.strerror})") from None
        return import_file(
            path, source=source, version=version, data_dir=data_dir,
            origin=f"uploaded file {path.name}", move=True, strict=strict,
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _too_large(size: int, *, at_least: bool = False) -> str:
    return (
        f"is {size / 1024 / 1024:,.0f} MB{' or more' if at_least else ''}, over the "
        f"{MAX_UPLOAD_MB} MB upload limit; "
        "import it from the command line: python -m loaders import FILE"
    )


def _copy_at_most(data: BinaryIO, path: Path, limit: int, name: str) -> None:
    """Copy `data` to `path`, refusing it as soon as more than `limit` bytes arrive."""
    copied = 0
    with path.open("wb") as out:
        while chunk := data.read(8 << 20):
            copied += len(chunk)
            if copied > limit:
                raise LoaderError(name, _too_large(copied, at_least=True))
            out.write(chunk)
