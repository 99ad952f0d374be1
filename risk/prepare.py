"""After an import: compute the forecast the new data make possible, so no visitor waits for
it, and start the backtest of its skill.

`python -m loaders import|fetch` and the Data page call `prepare` once the data are in the
store. The forecast is kept there (`risk.artifacts`) and the app reads it at once. A forecast
that cannot be made does not undo the import: the outcome says why, and the pages say it too.

The model's skill on the store's own GED data (`python -m risk evaluate ged`, 6–8 minutes on
two cores) is then computed in a background process, unless a record of the same data and
model exists, so the Model skill page shows it without anyone running a command. Setting
`ARTICLE99_AUTO_BACKTEST=0` turns that off (e.g. a laptop on battery, or the test suite).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from loaders.errors import LoaderError
from loaders.store import Store
from risk import model, skill
from risk.artifacts import REPO
from risk.forecast import risk_forecast
from risk.panel import FORECAST_SOURCES

AUTO_BACKTEST = "ARTICLE99_AUTO_BACKTEST"
BACKTEST_LOG = "backtest.log"

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """What the forecast step did: the month forecast from, or why there is no forecast."""

    as_of: str | None
    seconds: float
    problem: str = ""
    backtest: str = ""  # what became of the skill backtest, in words ("" when nothing to say)

    @property
    def message(self) -> str:
        """What the CLI and the Data page say."""
        if self.as_of is None:
            return f"the forecast could not be made: {self.problem}. The import is kept."
        done = f"done in {self.seconds:.0f} s (forecast from {self.as_of})."
        return f"{done} {self.backtest}" if self.backtest else done


def prepare(data_dir: str | Path | None = None) -> Prepared:
    """Compute and keep the forecast of the live store for its default month."""
    started = time.perf_counter()
    try:
        forecast = risk_forecast(data_dir)
    except model.InsufficientData as exc:  # a fact about the data, said as such
        return Prepared(None, time.perf_counter() - started, str(exc))
    except Exception as exc:  # the data are in: a fault here must not read as a failed import
        LOG.exception("the forecast after an import failed")
        return Prepared(None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - started
    return Prepared(forecast.as_of, seconds, backtest=start_backtest(data_dir))


def start_backtest(data_dir: str | Path | None = None) -> str:
    """Start `python -m risk evaluate ged --if-needed` on the store in a background process
    that outlives the caller (an import's CLI, a page's run); one line saying what happens.

    Nothing is started when `ARTICLE99_AUTO_BACKTEST=0`, when a record of the store's data by
    this model exists, or when a backtest is running already. Its output goes to
    `<store>/skill/backtest.log`.
    """
    if os.environ.get(AUTO_BACKTEST, "1") == "0":
        return ""
    store = Store(data_dir)
    root = store.root
    if not store.records(FORECAST_SOURCES):  # no UCDP data: nothing to backtest
        return ""
    try:
        if skill.current_backtest(root) is not None:
            return ""
    except LoaderError:  # an unreadable record: a new run replaces it
        pass
    if skill.running_backtest(root) is not None:
        return "The backtest of the model's skill on this store's data is already running."
    folder = root / skill.FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "risk", "evaluate", "ged", "--if-needed"]
    with open(folder / BACKTEST_LOG, "ab") as log:
        subprocess.Popen(
            [*command, "--data-dir", str(root)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not stopped with the import or the page that started it
        )
    return (
        "The model's skill on this store's GED data is being backtested in the background "
        f"(6–8 minutes on two cores; log: {folder / BACKTEST_LOG}); the Model skill page "
        "shows it when done."
    )
