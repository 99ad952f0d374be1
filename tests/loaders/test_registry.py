"""The source registry: one surface per source, from which the CLI and the Data page are built."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import registry
from loaders.cli import FETCH_OPTIONS
from loaders.errors import LoaderError
from tests.conftest import FIXTURES, SMALL_GED


def test_unknown_source_lists_the_known_ones() -> None:
    with pytest.raises(LoaderError, match=r"unknown source 'gdelt'; known: acled, hapi, ucdp"):
        registry.source("gdelt")


def test_every_fetchable_source_has_cli_options_and_a_fetch_function() -> None:
    assert registry.fetchable() == ["ucdp", "acled"]
    assert set(FETCH_OPTIONS) == set(registry.fetchable())
    for key in registry.fetchable():
        assert callable(__import__(registry.SOURCES[key].fetch_module, fromlist=["fetch"]).fetch)
    with pytest.raises(LoaderError, match="cannot be fetched"):
        registry.source("hapi").fetch()


def test_uploads_offer_the_sources_analysts_name() -> None:
    """HAPI counts come as "ACLED files": the upload form offers ACLED, which reads them."""
    assert list(registry.uploadable()) == ["ucdp", "acled"]


def test_the_reader_follows_the_file() -> None:
    hapi_file = FIXTURES / "hapi_conflict_event_small.csv"
    assert registry.reader_for(hapi_file, "acled").key == "hapi"
    assert registry.reader_for(hapi_file, "hapi").key == "hapi"
    assert registry.reader_for(SMALL_GED, "ucdp").kind == "events"
    with pytest.raises(LoaderError, match="not UCDP events; import it with --source acled"):
        registry.reader_for(hapi_file, "ucdp")


def test_settings_name_the_environment_variables_the_readme_documents() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for source in registry.SOURCES.values():
        for variable in source.settings:
            assert variable in readme, variable
