"""The same forecast and the same scores on every machine and at any thread count.

Each variant runs in its own process on a panel of 40 countries of UCDP GED 21.1 (2005–2020),
trains the model to December 2018 and forecasts 15 months: the published figures (rounded as
a snapshot rounds them), the raw draws and their scores must be identical bit for bit.
Machines differ in numpy's SIMD kernels (NPY_DISABLE_CPU_FEATURES turns off those this one
has), in OpenMP and BLAS threads, and, on AVX-512, in the last bit of log1p, expm1 and log2,
which a machine without AVX-512 emulates by moving every third result up by one bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk import model
from risk.panel import country_month_panel
from tests.conftest import REPO

COUNTRIES = (
    "MLI,NER,BFA,NGA,TCD,CMR,SYR,IRQ,AFG,PAK,SOM,ETH,SDN,COD,CAF,YEM,LBY,DZA,EGY,TUR,"
    "ISR,LBN,IND,COL,MEX,PHL,KEN,UGA,SEN,GHA,CIV,MRT,JOR,IRN,SAU,BGD,THA,MMR,VEN,BRA"
).split(",")
AS_OF = "2018-12"

# Runs in a fresh interpreter: argv[1] the panel (Parquet), argv[2] "ulp" to perturb, argv[3] as-of.
FORECAST = """
import hashlib, json, sys
import numpy as np
if sys.argv[2] == "ulp":
    def one_bit_up(ufunc):
        def perturbed(x, *args, **kwargs):
            out = np.asarray(ufunc(x, *args, **kwargs))
            every_third = np.arange(out.size).reshape(out.shape) % 3 == 0
            return np.where(every_third, np.nextafter(out, np.inf), out)
        return perturbed
    np.log1p, np.expm1, np.log2 = (one_bit_up(f) for f in (np.log1p, np.expm1, np.log2))
import pandas as pd
from risk import evaluate, forecast, metrics, model

def digest(values):
    return hashlib.sha256(np.ascontiguousarray(values, dtype="float64").tobytes()).hexdigest()

panel = pd.read_parquet(sys.argv[1])
draws = model.forecast_measures(panel, sys.argv[3], model=model.fit(panel, sys.argv[3]))["all"]
headline, monthly = forecast._summaries(draws)
published = np.r_[headline.drop(columns="iso3").to_numpy().ravel(),
                  monthly.drop(columns=["iso3", "month", "horizon"]).to_numpy().ravel()]
truth = panel.set_index(["iso3", "month"])["fatalities_total"]
cells = pd.MultiIndex.from_product([draws.iso3, draws.months])
observed = truth.reindex(cells).to_numpy(dtype="float64")
matrix = draws.values.reshape(-1, model.N_DRAWS)
# Per cell for CRPS and MIS; IGN (log2 of a share) as the skill table keeps it.
ignorance = metrics.ignorance(matrix, observed).mean().round(evaluate.STORED_DECIMALS)
scores = [metrics.crps(matrix, observed), metrics.interval_score(matrix, observed), [ignorance]]
print(json.dumps({"published": digest(published.round(6)), "draws": digest(draws.values),
                  "scores": digest(np.concatenate(scores)), "risk": headline["risk"].tolist()}))
"""


def _dispatched_features() -> str:
    """The SIMD features numpy chose at run time on this machine (X86_V3, AVX512_SKX, …)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return " ".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f))


@pytest.fixture(scope="module")
def panel_file(global_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    panel = country_month_panel(global_store)
    panel = panel[panel["iso3"].isin(COUNTRIES) & (panel["month"] >= "2005-01-01")]
    path = tmp_path_factory.mktemp("determinism") / "panel.parquet"
    panel.reset_index(drop=True).to_parquet(path)
    return path


def _run(panel_file: Path, perturb: str = "none", **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", FORECAST, str(panel_file), perturb, AS_OF],
        cwd=REPO,
        capture_output=True,
        text=True,
        # Passive waiting: spinning OpenMP threads crawl on a machine shared with other jobs.
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "passive", **env},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.shared_data
@pytest.mark.slow
def test_forecast_and_scores_are_the_same_on_every_cpu_and_thread_count(panel_file: Path) -> None:
    reference = _run(panel_file, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")
    assert 0.9 < max(reference["risk"]) <= 1 and min(reference["risk"]) < 0.1  # a real forecast
    variants = {
        "one thread": _run(panel_file, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"),
        "baseline SIMD": _run(panel_file, NPY_DISABLE_CPU_FEATURES=_dispatched_features()),
        "last bit of log1p/expm1/log2": _run(panel_file, "ulp"),
    }
    for name, result in variants.items():
        for part in ("published", "draws", "scores"):
            assert result[part] == reference[part], f"{part} differ with {name}"


def test_features_targets_and_draws_are_rounded() -> None:
    """Values on the DECIMALS grid: a last-bit difference upstream cannot reach the trees."""
    rng = np.random.default_rng(1)
    months = pd.date_range("2015-01-01", periods=40, freq="MS")
    panel = pd.DataFrame(
        [
            {"iso3": c, "month": m, model.SB: rng.poisson(lam), model.NS: 1, model.OS: 0}
            for c, lam in (("MLI", 60), ("NER", 7), ("BFA", 0.5))
            for m in months
        ]
    )
    values = model.features(model.panel_arrays(panel))
    assert np.array_equal(values, values.round(model.DECIMALS), equal_nan=True)
    fitted = model.fit(panel, "2017-12")
    for measure, draws in model.forecast_measures(panel, "2017-12", (1, 2), model=fitted).items():
        assert np.array_equal(draws.values, draws.values.round(model.DECIMALS)), measure
