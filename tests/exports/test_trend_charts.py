"""The compare and calibration figures: one trace per series, gaps kept, readable and sourced."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from exports.trend_charts import (
    FONT_SIZE,
    GAP_NOTE,
    LINE_COLOURS,
    LOG_NOTE,
    NO_DATA_NOTE,
    calibration_figure,
    line_style,
    log_ticks,
    small_multiples_figure,
    trend_figure,
)

SOURCE = "Source: UCDP GED 21.1, events to Dec 2020"
MONTHS = pd.date_range("2020-01-01", periods=3, freq="MS")


def _frame(gap: bool = False) -> pd.DataFrame:
    rows = []
    for key, name, values in (
        ("MLI", "Mali", [10.0, 20.0, 1500.0]),
        ("group:Sahel", "Sahel <b>(Group)</b>", [5.0, math.nan if gap else 6.0, 7.0]),
    ):
        for month, value in zip(MONTHS, values, strict=True):
            rows.append((key, name, month, value, value, not math.isnan(value)))
    return pd.DataFrame(rows, columns=["series", "name", "month", "monthly", "value", "covered"])


def test_one_line_per_series_with_gaps_as_breaks() -> None:
    fig = trend_figure(
        _frame(gap=True), title="All deaths per month", y_label="Deaths", source=SOURCE
    )
    assert [t.name for t in fig.data] == ["Mali", "Sahel &lt;b&gt;(Group)&lt;/b&gt;"]
    assert fig.data[0].line.color == LINE_COLOURS[0] and fig.data[1].line.color == LINE_COLOURS[1]
    sahel = np.asarray(fig.data[1].y, dtype=float)
    assert math.isnan(sahel[1]) and fig.data[1].connectgaps is False
    subtitle = fig.layout.title.subtitle.text.replace("<br>", " ")  # wrapped: exports.charts.wrap
    assert GAP_NOTE in subtitle and SOURCE in subtitle
    assert fig.layout.yaxis.tickformat == ",~f" and fig.layout.separators == ".,"
    assert fig.layout.font.size >= 14 and fig.layout.title.font.size > FONT_SIZE


def test_no_gap_note_without_gaps() -> None:
    fig = trend_figure(_frame(), title="t", y_label="Deaths", source=SOURCE)
    assert fig.layout.title.subtitle.text == SOURCE


def test_a_series_without_data_is_not_in_the_legend() -> None:
    frame = _frame()
    frame.loc[frame["series"] == "MLI", ["value", "monthly"]] = math.nan
    frame.loc[frame["series"] == "MLI", "covered"] = False
    fig = trend_figure(frame, title="t", y_label="Deaths", source=SOURCE)
    assert [t.showlegend for t in fig.data] == [False, True]
    # Its small panel says so, where its line would be.
    panels = small_multiples_figure(frame, title="t", y_label="Deaths", source=SOURCE)
    note = panels.layout.annotations[-1]
    assert (note.text, note.xref, note.yref) == (NO_DATA_NOTE, "x domain", "y domain")
    assert len(panels.layout.annotations) == 3  # two panel titles and the note


def test_log_ticks_are_labelled_with_the_values_they_stand_for() -> None:
    positions, labels = log_ticks(30)
    assert labels == ["0", "1", "3", "10", "30"]
    assert positions == [0, math.log10(2), math.log10(4), math.log10(11), math.log10(31)]
    # Five decades: one tick per decade, and no "1" crowding the 0.
    assert log_ticks(481_017)[1] == ["0", "10", "100", "1,000", "10,000", "100,000", "1,000,000"]
    assert log_ticks(0)[1] == ["0", "1"]  # an axis of zeros still has a scale


def test_a_log_scale_plots_log_of_one_plus_the_value_and_hovers_the_value() -> None:
    fig = trend_figure(_frame(), title="t", y_label="Deaths", source=SOURCE, log_scale=True)
    mali = fig.data[0]
    assert np.allclose(np.asarray(mali.y, dtype=float), np.log10([11, 21, 1501]))
    assert list(mali.customdata) == [10, 20, 1500] and "customdata" in mali.hovertemplate
    assert fig.layout.yaxis.title.text == f"Deaths<br>{LOG_NOTE}"
    assert list(fig.layout.yaxis.ticktext) == ["0", "10", "100", "1,000", "10,000"]
    assert fig.layout.yaxis.range[0] < 0  # the 0 sits a little above the x axis
    linear = trend_figure(_frame(), title="t", y_label="Deaths", source=SOURCE)
    assert list(linear.data[0].y) == [10, 20, 1500] and linear.layout.yaxis.ticktext is None


def test_small_multiples_on_a_log_scale_tick_each_free_axis_by_its_own_values() -> None:
    free = small_multiples_figure(
        _frame(), title="t", y_label="Deaths", source=SOURCE, shared_y=False, log_scale=True
    )
    assert list(free.layout.yaxis.ticktext)[-1] == "10,000"  # Mali, up to 1,500
    assert list(free.layout.yaxis2.ticktext) == ["0", "1", "2", "5", "10"]  # Sahel, up to 7
    assert LOG_NOTE in free.layout.title.subtitle.text
    shared = small_multiples_figure(
        _frame(), title="t", y_label="Deaths", source=SOURCE, log_scale=True
    )
    assert list(shared.layout.yaxis2.ticktext)[-1] == "10,000"


def test_small_multiples_grow_a_row_at_a_time() -> None:
    rows = []
    for month in MONTHS:
        for i in range(7):
            rows.append((f"C{i}", f"Country {i}", month, 1.0, 1.0, True))
    frame = pd.DataFrame(rows, columns=["series", "name", "month", "monthly", "value", "covered"])
    fig = small_multiples_figure(frame, title="t", y_label="Deaths", source=SOURCE)
    assert len(fig.layout.annotations) == 7 and fig.layout.height == 3 * 230 + 170


def test_more_series_than_colours_change_the_dash() -> None:
    assert line_style(0)["dash"] == "solid"
    assert line_style(len(LINE_COLOURS)) == {"color": LINE_COLOURS[0], "dash": "dash", "width": 2}


def test_small_multiples_one_panel_per_series_shared_or_free_y() -> None:
    shared = small_multiples_figure(_frame(), title="t", y_label="Deaths", source=SOURCE)
    assert len(shared.data) == 2
    assert [a.text for a in shared.layout.annotations] == [
        "Mali",
        "Sahel &lt;b&gt;(Group)&lt;/b&gt;",
    ]
    assert shared.layout.yaxis2.matches == "y"
    assert "same y axis in every panel" in shared.layout.title.subtitle.text
    free = small_multiples_figure(
        _frame(gap=True), title="t", y_label="Deaths", source=SOURCE, shared_y=False
    )
    assert free.layout.yaxis2.matches is None
    assert "each panel has its own y axis" in free.layout.title.subtitle.text
    assert GAP_NOTE in free.layout.title.subtitle.text.replace("<br>", " ")


def test_calibration_points_with_the_diagonal_and_empty_bins_left_out() -> None:
    calibration = pd.DataFrame(
        {
            "label": ["0–5%", "5–10%", "90–100%"],
            "count": [400, 0, 100],
            "mean_predicted": [0.01, math.nan, 0.95],
            "observed_frequency": [0.02, math.nan, 0.9],
        }
    )
    fig = calibration_figure(calibration, title="Calibration", source="Source: a\nModel: b")
    diagonal, points = fig.data
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    assert list(points.x) == [0.01, 0.95] and list(points.y) == [0.02, 0.9]
    assert points.marker.size[0] > points.marker.size[1]  # 400 country-months against 100
    assert fig.layout.title.subtitle.text == "Source: a<br>Model: b"
    assert fig.layout.xaxis.tickformat == ".0%"
