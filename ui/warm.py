"""Warm the server before the first analyst arrives: libraries imported, the forecast read.

Streamlit imports a page's libraries and fills its caches on the first visit, so the first
analyst after a (re)start waited about a second for pandas, DuckDB, plotly and the risk engine
to import, then for the forecast and the panel to be read. `app.py` runs `lifespan` as the
server starts (`st.App`), so that work is done before anyone opens the page.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

LOG = logging.getLogger(__name__)
THREAD = "warm-start"
# What the pages import, and so pandas, pyarrow, DuckDB, plotly and the risk engine.
PAGE_MODULES = (
    "exports.charts",
    "exports.tables",
    "exports.vega",
    "risk.profile",
    "ui.cache",
    "ui.filters",
)


def import_libraries() -> None:
    """Import what the pages need (≈ 1 s cold); the server answers only once this is done."""
    for module in PAGE_MODULES:
        importlib.import_module(module)


class _NoContextWarning(logging.Filter):
    """Streamlit warns that a cached read has no script run; on this thread that is expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD


def read_data() -> None:
    """Fill the caches the landing page and the first profile read.

    The forecast is read from the store (each import computes it); if it is missing it is
    computed here, in the same background thread a visitor meanwhile finds (`cache.risk()`
    shows the previous forecast until then), so it is never computed twice. A store whose
    skill was never backtested (imported before imports started the backtest) gets it started
    (`risk.prepare.start_backtest`). A store that cannot be read is left to the pages, which
    say what is wrong.
    """
    from risk.prepare import start_backtest
    from ui import cache

    started = time.perf_counter()
    try:
        cache.sources()
        cache.warm_risk().join()
        cache.panel()
        if started_backtest := start_backtest(cache.store().root):
            LOG.info("warm start: %s", started_backtest)
    except Exception as problem:  # the pages report it; start-up must not fail
        LOG.warning("warm start: the store could not be read ahead (%s)", problem)
        return
    LOG.info("warm start: forecast and panel read in %.1f s", time.perf_counter() - started)


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """`st.App` lifespan: libraries before the server answers, data in the background."""
    import_libraries()
    # Streamlit runs a full garbage collection after every script run, holding the GIL while
    # the run's last messages wait to be sent: ≈ 0.1 s of every rerun, spent re-scanning the
    # 120,000 objects of the libraries just imported. They live as long as the server, so
    # they are moved out of the collector's sight; what the pages create is still collected.
    gc.collect()
    gc.freeze()
    context = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    context.addFilter(_NoContextWarning())
    threading.Thread(target=read_data, name=THREAD, daemon=True).start()
    yield
