"""After an import: compute the forecast the new data make possible, so no visitor waits for it.

`python -m loaders import|fetch` and the Data page call `prepare` once the data are in the
store. The forecast is kept there (`risk.artifacts`) and the app reads it at once. A forecast
that cannot be made does not undo the import: the outcome says why, and the pages say it too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from risk import model
from risk.forecast import risk_forecast

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """What the forecast step did: the month forecast from, or why there is no forecast."""

    as_of: str | None
    seconds: float
    problem: str = ""

    @property
    def message(self) -> str:
        """One line for the CLI and the Data page."""
        if self.as_of is not None:
            return f"done in {self.seconds:.0f} s (forecast from {self.as_of})."
        return f"the forecast could not be made: {self.problem}. The import is kept."


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
    return Prepared(forecast.as_of, time.perf_counter() - started)
