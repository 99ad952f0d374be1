"""The warm start: `streamlit run app.py` serves `app` (an `st.App`) whose start-up imports the
pages' libraries, freezes them out of the garbage collector's scans and reads the forecast, so
the first analyst does not wait for either."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.web.server.app_discovery import discover_asgi_app

from tests.conftest import REPO
from ui import cache, warm


def test_streamlit_run_finds_the_app_with_its_warm_start() -> None:
    found = discover_asgi_app(REPO / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"


def test_lifespan_reads_the_forecast_before_anyone_asks(
    global_app_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    st.cache_data.clear()

    async def start_and_stop() -> None:
        async with warm.lifespan(None):
            pass

    # In a thread of its own: Playwright's tests leave an event loop running on this one.
    server = threading.Thread(target=asyncio.run, args=(start_and_stop(),))
    server.start()
    server.join(timeout=60)
    # The libraries' objects are out of the post-run collections' sight.
    assert gc.get_freeze_count() > 10_000
    gc.unfreeze()
    reader = next(t for t in threading.enumerate() if t.name == warm.THREAD)
    reader.join(timeout=300)
    assert not reader.is_alive()

    def not_again(*_args: object) -> None:
        raise AssertionError("the forecast was computed again, not read from the cache")

    monkeypatch.setattr(cache, "risk_forecast", not_again)
    monkeypatch.setattr(cache, "country_month_panel", not_again)
    forecast = cache.risk()
    assert forecast is not None and forecast.table["iso3"].iloc[0] == "AFG"
    assert not cache.panel().empty


def test_a_store_that_cannot_be_read_leaves_start_up_to_the_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.json").write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(store))
    st.cache_data.clear()
    with caplog.at_level(logging.WARNING, logger=warm.LOG.name):
        warm.read_data()  # does not raise
    assert "warm start: the store could not be read ahead" in caplog.text
