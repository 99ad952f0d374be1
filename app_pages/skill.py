"""Model skill, as recorded: the GED backtests of every violence measure on the store's own
data, and the VIEWS challenge windows (state-based), each beside its benchmarks.

Nothing is computed here (a GED backtest takes minutes, a VIEWS window needs the challenge's
files): each import starts `python -m risk evaluate ged` in the background (risk.prepare),
`python -m risk evaluate views --actuals` records a window, and this page reads the records.
"""

import pandas as pd
import streamlit as st

from exports.trend_charts import calibration_figure
from loaders.caveats import caveat_lines
from loaders.errors import LoaderError
from risk import measures, skill
from risk.evaluate import DECIMALS, METRICS
from ui import cache
from ui.text import escape_markdown

COMMAND = """python -m risk evaluate views \\
    --features cm_features_to_oct2018.parquet \\
    --actuals cm_actuals_2019.parquet \\
    --out pred_2019.parquet --data-dir {store}"""
GED_COMMAND = "python -m risk evaluate ged --data-dir {store}"
# A relative link to the Methodology page's URL; st.page_link needs the app's navigation,
# which a page run on its own (as in its AppTest) does not have.
METHODOLOGY_LINK = (
    ":material/menu_book: How the model works, how it was tested and where it is weak: "
    "[Methodology](./methodology), sections 7 and 8."
)
# A score a method cannot have (the base rate, a probability, has no CRPS; an origin without an
# onset has no onset AUROC) reads "n/a" in the tables, never Streamlit's "None".
NOT_APPLICABLE = "n/a"
HELP = {
    "CRPS": "How far the forecast distribution was from what happened, in deaths. Lower is better.",
    "IGN": "How little probability the forecast put on the range the outcome fell in, in bits. "
    "Lower is better.",
    "MIS": "Width of the 90% interval plus a penalty for outcomes outside it. Lower is better.",
    "AUROC": "Chance that a month with ≥25 deaths got a higher probability than one without "
    "(0.5 is guessing). Higher is better.",
    "AP": "How well the months with ≥25 deaths were ranked at the top. Higher is better.",
    "Brier": "Mean squared gap between the probability of ≥25 deaths and what happened. "
    "Lower is better.",
}

st.title("Model skill")
st.write(
    "How well the forecasts would have done in the past, in two tests. The **GED backtests**, "
    "on this store's own data: from each December, with only the data up to it, the model "
    "forecast the next 12 months of every kind of organised violence, scored beside simple "
    "benchmarks, with the headline risk and onsets in quiet countries. The **VIEWS prediction "
    "challenge**: the model forecast each month of a year from data that ended in October of "
    "the year before, scored the same way beside the challenge's four benchmarks (state-based "
    "violence, the challenge's target)."
)
st.markdown(
    "**Reading the scores.** "
    "**CRPS** measures how far the forecast spread of deaths was from what happened, in deaths; "
    "lower is better. "
    "**AP** (average precision) measures how well the country-months that did see 25 or more "
    "deaths sit at the top of the forecast ranking; 1 is perfect, higher is better. "
    "**Brier** is the average squared gap between the forecast probability of 25 or more deaths "
    "and what happened (1 or 0); lower is better. "
    "Hover over a column name for the others."
)


def _scores(table: pd.DataFrame) -> None:
    """A score table, each metric rounded as printed and explained on hover."""
    st.dataframe(
        table,
        hide_index=True,
        placeholder=NOT_APPLICABLE,
        column_config={
            skill.COLUMN_LABELS[m]: st.column_config.NumberColumn(
                format=f"%.{DECIMALS[m]}f", help=HELP[m]
            )
            for m in METRICS
        },
    )


def _recorded(load, missing: str | None, command: str) -> list[dict] | None:
    """The store's records from `load`; an error, or what is missing and the command, shown
    (`missing` None: nothing to say, e.g. while the first record is being made)."""
    root = cache.store().root
    try:
        records = load(root)
    except LoaderError as exc:
        st.error(escape_markdown(exc), icon=":material/error:")
        return None
    if not records and missing is not None:
        st.info(missing, icon=":material/info:")
        st.code(command.format(store=root), language="bash")
    return records


st.header("GED backtests: every kind of organised violence")
# First, from the store's own data: each import starts this backtest in the background.
status = skill.backtest_status(cache.store().root)
if status:
    st.info(escape_markdown(status), icon=":material/hourglass_top:")
backtests = _recorded(
    skill.load_backtests,
    None  # the first one is under way: said above
    if skill.running_backtest(cache.store().root)
    else "No GED backtest is recorded in this store yet, so there are no scores for the violence "
    "measures. An import of UCDP GED data starts one in the background (6–8 minutes on two "
    "cores); it needs data reaching 12 months past each yearly origin and 10 years before the "
    "first (the global GED 21.1 file, 1989–2020, gives origins 2009-12 … 2019-12). To run it "
    "by hand:",
    GED_COMMAND,
)
if backtests:
    record = backtests[0]
    if len(backtests) > 1:
        record = st.selectbox("Backtest", backtests, format_func=skill.backtest_label)
    shown = [m for m in measures.MEASURES if m in record["measures"]]
    for tab, measure in zip(
        st.tabs([measures.LABELS[m].capitalize() for m in shown]), shown, strict=True
    ):
        result = record["measures"][measure]
        with tab:
            monthly, headline, onset = result["monthly"], result["headline"], result["onset"]
            st.subheader(f"Each month, 1 to 12 months ahead: {result['label']}")
            st.caption(
                f"{monthly['cells']:,} country-months, {monthly['events']:,} with ≥25 deaths; "
                f"{skill.backtest_label(record).lower()}."
            )
            _scores(skill.backtest_table(record, measure))
            st.caption(
                "Lower is better for CRPS, IGN, MIS and Brier; higher is better for AUROC and "
                "AP. The base rate (each country's share of all its past months with ≥25 "
                "deaths) is a probability only: it has no CRPS, IGN or MIS."
            )
            st.subheader("Headline risk: ≥25 deaths in at least one of the next 3 months")
            st.caption(
                f"{headline['cells']:,} country-years, {headline['events']:,} with such a "
                "month. Higher is better for AUROC and AP, lower for Brier."
            )
            st.dataframe(
                skill.backtest_table(record, measure, "headline"),
                hide_index=True,
                placeholder=NOT_APPLICABLE,
            )
            st.subheader("Onsets: violence where the last two years were quiet")
            st.caption(
                f"Countries with no month of ≥25 deaths in the {record['quiet_months']} months "
                f"before the origin (all covered): {onset['cells']:,} country-years, "
                f"{onset['events']:,} with a month of ≥25 deaths in the next "
                f"{record['onset_months']}."
            )
            st.dataframe(
                skill.backtest_table(record, measure, "onset"),
                hide_index=True,
                placeholder=NOT_APPLICABLE,
            )
            st.markdown(
                "\n".join(f"- {escape_markdown(s)}" for s in skill.onset_reading(record, measure))
            )
            if result["onsets"]:
                with st.expander("The onsets, and the probability each method gave them"):
                    st.dataframe(
                        skill.onsets_table(record, measure),
                        hide_index=True,
                        placeholder=NOT_APPLICABLE,
                        column_config={
                            label: st.column_config.NumberColumn(format="percent")
                            for label in skill.onset_columns()
                        },
                    )
            with st.expander("Each origin on its own"):
                st.dataframe(
                    skill.by_origin_table(record, measure),
                    hide_index=True,
                    placeholder=NOT_APPLICABLE,
                    column_config={
                        column: st.column_config.NumberColumn(format="%.3f")
                        for column in skill.by_origin_table(record, measure).columns
                        if "AP" in column or "AUROC" in column
                    },
                )
    st.text(skill.backtest_source_line(record))
    for line in caveat_lines(record["training_data"]):
        st.caption(escape_markdown(line))

st.header("VIEWS prediction challenge: state-based violence")
records = _recorded(
    skill.load_records,
    "No VIEWS challenge window is recorded in this store. An evaluation needs the input "
    "and outcome files of the VIEWS 2023/24 prediction challenge (country-month: "
    "`cm_features_to_oct2018.parquet` and `cm_actuals_2019.parquet` for the 2019 window) "
    "and a store holding UCDP GED data for the model to learn from. This command scores "
    "the model and records the result in the store:",
    COMMAND,
)

tabs = st.tabs([f"Window {record['window']}" for record in records]) if records else []
for tab, record in zip(tabs, records or [], strict=True):
    with tab:
        st.subheader(
            f"Window {record['window']}: data to {record['as_of']}, forecasts for each month of "
            f"{record['window']}"
        )
        st.caption(
            f"{record['cells']:,} country-months, {record['events']:,} with ≥25 state-based "
            f"deaths; forecasts 3 to 14 months ahead; seed {record['model']['seed']}."
        )
        table = skill.score_table(record)
        _scores(table)
        st.caption(
            "Lower is better for CRPS, IGN, MIS and Brier; higher is better for AUROC and AP. "
            "≥25: the probability of 25 or more state-based deaths in a country-month."
        )
        source = skill.source_line(record)
        st.plotly_chart(
            calibration_figure(
                skill.calibration_frame(record),
                title=f"P(≥25 deaths) forecast against outcome, window {record['window']}",
                source=source,
            ),
            theme=None,  # keep the figure's own 14 px fonts
        )
        st.dataframe(
            skill.calibration_table(record),
            hide_index=True,
            placeholder=NOT_APPLICABLE,
            column_config={
                "Country-months": st.column_config.NumberColumn(format="localized"),
                "Average forecast": st.column_config.NumberColumn(format="percent"),
                "Share with ≥25 deaths": st.column_config.NumberColumn(format="percent"),
            },
        )
        st.caption(
            "Points on the diagonal mean the forecasts were right on average: of the months "
            "forecast at 30%, about 30% saw 25 or more deaths. Bins with few country-months "
            "(small points) are noisy."
        )
        st.markdown("**What the model beats**")
        st.markdown("\n".join(f"- {escape_markdown(s)}" for s in skill.what_it_beats(record)))
        st.markdown("**Where it is weak**")
        st.markdown("\n".join(f"- {escape_markdown(s)}" for s in skill.where_it_is_weak(record)))
        with st.expander("Notes and training data of this record"):
            for note in record["notes"]:
                st.text(f"Note: {note}")
            for data in record["model"]["training_data"]:
                st.text(
                    f"Trained on {data['label']} ({data['file']}, sha256 {data['sha256'][:16]}…)"
                )
                for note in data["notes"]:
                    st.text(f"  {note}")
        st.text(source)
        for line in caveat_lines(record["model"]["training_data"]):
            st.caption(escape_markdown(line))

st.markdown(METHODOLOGY_LINK)
