"""After an import the forecast is read, never trained in a page view; while new data have
none yet, pages show the previous forecast, labelled, and one background computation runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from loaders.cli import main
from loaders.store import Store
from risk import artifacts, model
from tests.conftest import REPO, SMALL_GED, shared_data_dir
from ui import cache, previous

MYANMAR = "ucdp_ged_v24_1_myanmar.csv.gz"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Myanmar's GED 24.1 imported with the CLI (which forecasts it, ≈ 40 s), named by
    ARTICLE99_DATA_DIR for the module."""
    path = shared_data_dir() / MYANMAR
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    root = tmp_path_factory.mktemp("previous") / "store"
    assert main(["import", str(path), "--data-dir", str(root)]) == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTICLE99_DATA_DIR", str(root))
        yield root


def test_after_an_import_a_page_reads_the_forecast_without_training(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(list((store / "models").glob("forecast-*/table.parquet"))) == 1
    st.cache_data.clear()

    def no_training(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a page view trained the model")

    monkeypatch.setattr(model, "fit", no_training)
    forecast = cache.risk(measure="all")  # the default measure, taken from every measure's
    assert forecast is not None and not cache.is_previous(forecast)
    assert set(cache.risk().table["measure"]) == {"all", "state_based", "non_state", "one_sided"}
    assert forecast.table.set_index("iso3").loc["MMR", "status"] == "ok"
    assert forecast.as_of == "2023-12"
    assert not cache.forecast_pending()


def test_new_data_without_a_forecast_show_the_previous_one_while_one_computation_runs(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["import", str(SMALL_GED), "--data-dir", str(store), "--no-forecast"]) == 0
    st.cache_data.clear()
    release, calls = threading.Event(), []

    def slow_forecast(*args: object, **_kwargs: object) -> None:
        calls.append(args)
        release.wait(timeout=120)  # then "nothing to forecast", as if the data were too thin

    monkeypatch.setattr(cache, "risk_forecast", slow_forecast)
    monkeypatch.setattr(cache, "forecast_apart", lambda *_: None)  # in this process, watched
    try:
        shown = cache.risk()
        assert shown is not None and cache.is_previous(shown)
        assert shown.stored["key"]["store_version"].startswith("1-")
        assert cache.is_previous(cache.risk())  # a second visitor: the same previous forecast
        words = previous.text(shown)
        assert "made for the previous data (store version 1, data to Dec 2023)" in words
        assert "the forecast for the data imported at " in words

        landing = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        landing.run()
        assert not landing.exception
        labels = [info.value.replace("\\", "") for info in landing.info]
        assert any("Showing the forecast made for the previous data" in v for v in labels)
        assert landing.title[0].value == "Countries at risk"
        assert cache.forecast_pending()
        assert len(calls) == 1  # three page reads, one computation
    finally:
        release.set()
    (thread,) = [t for k, t in cache._warmed.items() if k[0] == str(store) and k[-1] == "forecast"]
    thread.join(timeout=30)
    assert len(calls) == 1


def test_with_no_previous_forecast_the_page_waits_for_the_one_computation(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["import", str(SMALL_GED), "--data-dir", str(store_dir), "--no-forecast"]) == 0
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    st.cache_data.clear()
    calls = []

    def thin(*args: object, **_kwargs: object) -> None:
        calls.append(args)  # "nothing to forecast", after the wait a page shows a spinner for

    monkeypatch.setattr(cache, "risk_forecast", thin)
    monkeypatch.setattr(cache, "forecast_apart", lambda *_: None)  # in this process, watched
    assert cache.risk() is None and cache.risk() is None
    assert len(calls) == 1 and not cache.forecast_pending()


def test_a_missing_forecast_is_computed_apart_from_the_server(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a child process: in a thread it held the server's GIL and stalled every page."""
    assert main(["import", str(SMALL_GED), "--data-dir", str(store_dir), "--no-forecast"]) == 0
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store_dir))
    st.cache_data.clear()
    current = Store(store_dir)
    kept = artifacts.path_of(current.root, artifacts.key(current.version(), None, 0))
    found_kept, read = [], cache.risk_forecast

    def only_read(*args: object, **kwargs: object) -> object:
        found_kept.append(kept.exists())
        return read(*args, **kwargs)

    monkeypatch.setattr(cache, "risk_forecast", only_read)
    cache.warm_risk().join(timeout=300)
    assert found_kept == [True]  # the child computed it (five events: too few, kept as such)
