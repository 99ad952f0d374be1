"""The sources Article 99 reads, each with the same small surface: read a file, fetch, config.

The CLI (`python -m loaders`) and the Data page are built from this table, so a source added
here is importable, uploadable and (with a `fetch`) downloadable everywhere at once; an
unknown source is answered with the list of known ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loaders import acled, hapi, ucdp
from loaders.errors import LoaderError

Parsed = ucdp.Parsed | acled.Parsed | hapi.Parsed


@dataclass(frozen=True)
class Source:
    """One upstream source."""

    key: str  # what `--source` and the store's provenance call it
    name: str  # what the pages call it
    kind: str  # what its imports hold: "events", or "aggregates" (never read as events)
    read_file: Callable[[Path, str | None], Parsed]  # a file (and optional version) in
    version_help: str  # what `--version` means for its files
    # The module whose keyword-only `fetch(...)` downloads and imports it; imported only when
    # used, because the fetchers import the pipeline, which imports this table.
    fetch_module: str | None = None
    settings: tuple[str, ...] = ()  # environment variables it reads (credentials, mirrors)
    # Files of this source that analysts get from another one's site (ACLED hands out its
    # HDX HAPI counts as "ACLED files"): given as that source, they are read by this one.
    shipped_as: str | None = None
    recognise: Callable[[Path], bool] | None = None

    def fetch(self, **options: Any) -> Any:
        """Download and import (see the fetch module's `fetch` for the options)."""
        if self.fetch_module is None:
            raise LoaderError(self.key, f"{self.name} cannot be fetched; import a file instead")
        return importlib.import_module(self.fetch_module).fetch(**options)


SOURCES: dict[str, Source] = {
    source.key: source
    for source in (
        Source(
            "ucdp",
            "UCDP GED or Candidate",
            "events",
            ucdp.read_file,
            "the release, e.g. 25.1 or 25.0.6, when the file name does not say it",
            fetch_module="loaders.ucdp_remote",
            settings=("UCDP_API_TOKEN", "UCDP_BASE_URL", "UCDP_API_URL"),
        ),
        Source(
            "acled",
            "ACLED (export or HDX HAPI counts)",
            "events",
            acled.read_file,
            "the export date, YYYY-MM-DD, when the file has no timestamp",
            fetch_module="loaders.acled_remote",
            settings=("ACLED_USERNAME", "ACLED_PASSWORD", "ACLED_BASE_URL"),
        ),
        Source(
            "hapi",
            "ACLED via HDX HAPI (counts per area and month)",
            "aggregates",
            hapi.read_file,
            "the download date, YYYY-MM-DD",
            shipped_as="acled",
            recognise=hapi.is_hapi,
        ),
    )
}


def source(key: str) -> Source:
    """The source called `key`, or a message listing the known ones."""
    try:
        return SOURCES[key]
    except KeyError:
        raise LoaderError(
            "--source", f"unknown source {key!r}; known: {', '.join(sorted(SOURCES))}"
        ) from None


def fetchable() -> list[str]:
    """The sources that can be downloaded (`python -m loaders fetch KEY`)."""
    return [key for key, s in SOURCES.items() if s.fetch_module]


def uploadable() -> dict[str, str]:
    """Source key -> name, for the upload form: sources shipped as another are read by it."""
    return {key: s.name for key, s in SOURCES.items() if s.shipped_as is None}


def reader_for(path: Path, key: str) -> Source:
    """The source that reads `path` when the analyst says it is `key`.

    A file another source recognises as its own and ships under `key` (HAPI counts given as
    ACLED) is read by that source; given as any other source it is refused, naming the right one.
    """
    chosen = source(key)
    for other in SOURCES.values():
        if other.key == key or other.recognise is None or not other.recognise(path):
            continue
        if other.shipped_as == key:
            return other
        raise LoaderError(
            path.name,
            f"is {other.name}, not {chosen.key.upper()} events; import it with --source "
            f"{other.shipped_as or other.key}",
        )
    return chosen
