"""Export and compare: the current view as files to share, and what changed since a snapshot.

The files come from `exports.bundle.export_files()`, the same code as `python -m exports
snapshot`. Prepared files are kept in the session under the choices that made them, so the
rerun after a download, or coming back to the page, does not build them again.
"""

import hashlib

import pandas as pd
import streamlit as st

from exports import bundle, changes, charts
from exports.images import ImageExportError
from exports.snapshot import SnapshotError, read_json
from risk.selection import Selection, to_query
from ui import cache, filters, previous
from ui.text import escape_markdown

PREPARED_KEY = "export_prepared"
LABELS = {
    "csv": "CSV table",
    "xlsx": "Excel workbook",
    "pdf": "PDF briefing pack",
    "pptx": "PowerPoint slides",
    "png": "PNG charts",
    "svg": "SVG charts",
    "json": "JSON snapshot",
    "prevention_gap": "Prevention-gap list (CSV)",  # comes with the CSV table
}
DEFAULT_FORMATS = ["csv", "xlsx", "pdf", "pptx", "json"]
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "json": "application/json",
    "zip": "application/zip",
}
CHANGE_COLUMNS = {
    "arrow": "Move",
    "name": "Country",
    "rank_before": "Rank before",
    "rank_now": "Rank now",
    "risk_before": "Risk before",
    "risk_now": "Risk now",
    "change": "Change",
    "movement": "Movement",
}


def size(data: bytes) -> str:
    """A file's size for a button label: "7 KB"."""
    return f"{len(data) / 1024:,.0f} KB" if len(data) >= 1024 else f"{len(data)} bytes"


def moves_table(found: changes.Changes, inside: set[str]) -> pd.DataFrame:
    """The comparison's rows for the current selection, with risks in percent for display."""
    table = found.table[found.table["iso3"].isin(inside)]
    shown = table[list(CHANGE_COLUMNS)].rename(columns=CHANGE_COLUMNS)
    shown["Change"] = (shown["Change"] * 100).round() + 0.0  # whole points, never "−0"
    shown["Movement"] = shown["Movement"].replace("", f"under {found.threshold * 100:.0f} pts")
    return shown.set_axis(table["iso3"].to_list())


selection = st.session_state.get("selection", Selection())
st.title("Export and compare")
if cache.sources().empty:
    st.info("The store is empty: load data on the Data page first, then export from here.")
    st.page_link("app_pages/data.py", label="Load data", icon=":material/database:")
    st.stop()
with filters.forecasting(selection):
    snapshot, problem = cache.snapshot_or_problem(selection)
if snapshot is None:
    st.info(f"Nothing to export: {escape_markdown(problem)}.")
    st.stop()
# Files of the previous forecast would carry the live data's sources: they wait for the current.
stale = previous.label(snapshot.forecast)

ranked = len(snapshot.ranked)
missing = len(snapshot.countries) - ranked
st.markdown(
    "\n".join(
        [
            f"- **Selection:** {escape_markdown(snapshot.selection.describe())}",
            f"- **Forecast from data to:** {charts.month_label(snapshot.as_of)} "
            f"(risk: {escape_markdown(charts.risk_definition(snapshot.as_of, snapshot.measure))})",
            f"- **Counts:** {escape_markdown(charts.deaths_of(snapshot.measure))}; deaths are "
            "the median of the 3-month total with its 90% interval, and the average beside it",
            f"- **Data:** {escape_markdown(snapshot.vintage)}",
            *(f"- **{escape_markdown(caveat)}**" for caveat in snapshot.caveats),
            f"- **Countries:** {len(snapshot.countries):,} ({ranked:,} ranked, "
            f"{missing:,} with not enough data to forecast)",
            f"- **Prevention gap** (high or rising risk, no UN field mission or envoy on "
            f"{snapshot.presence_day:%-d %b %Y}): "
            f"{escape_markdown(', '.join(snapshot.gap['name']) or 'none')}; the files give "
            "the rule, the cost of waiting and the reference tables' sources and dates",
        ]
    )
)

# --- what changed ---------------------------------------------------------------------------
st.subheader("Compare with an earlier snapshot")
upload = st.file_uploader(
    "Earlier snapshot (JSON)",
    type=["json"],
    help="A JSON snapshot exported from this page or by `python -m exports snapshot`.",
)
earlier, found, earlier_sha = None, None, None
if upload is not None:
    content = upload.getvalue()
    earlier_sha = hashlib.sha256(content).hexdigest()
    try:
        earlier = read_json(content)
        found = changes.what_changed(earlier, snapshot)
    except SnapshotError as exc:
        st.error(f"Not compared: {escape_markdown(exc)}", icon=":material/error:")
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        st.error(
            f"Not compared: the uploaded file's countries cannot be read ({escape_markdown(exc)})",
            icon=":material/error:",
        )
if found is not None:
    st.markdown("**What changed**")
    st.markdown(escape_markdown(found.summary))
    inside = set(snapshot.countries["iso3"])
    if not found.same_filters:
        before = earlier["filters"].get("description") or "other filters"
        st.warning(
            f"The earlier snapshot was made with other filters ({escape_markdown(before)}), "
            "so both are ranked among the countries both forecast, and only countries of "
            "the current selection are listed.",
            icon=":material/filter_alt:",
        )
    moves = moves_table(found, inside)
    if moves.empty:
        st.info("No country of the current selection has a forecast in either snapshot.")
    else:
        st.dataframe(
            # Risks as the exports write them ("<1%"); a country one snapshot did not forecast
            # has no rank or risk there, and says so.
            moves.style.format({"Risk before": charts.percent, "Risk now": charts.percent}),
            hide_index=True,
            placeholder="no forecast",
            column_config={
                "Move": st.column_config.TextColumn(width="small"),
                "Rank before": st.column_config.NumberColumn(format="%d"),
                "Rank now": st.column_config.NumberColumn(format="%d"),
                "Change": st.column_config.NumberColumn(
                    format="%+.0f pts", help="Change of risk in percentage points."
                ),
                "Movement": st.column_config.TextColumn(width="medium"),
            },
        )
        st.caption(
            f"A move is a change of at least {found.threshold * 100:.0f} points of risk; "
            f"the top is the {found.top} riskiest countries. The comparison also goes into "
            "the Excel workbook and the PDF briefing pack."
        )

# --- files ----------------------------------------------------------------------------------
st.subheader("Files")
formats = st.multiselect(
    "Formats",
    list(bundle.FORMATS),
    default=DEFAULT_FORMATS,
    format_func=LABELS.get,
    key="export_formats",
    placeholder="Choose at least one format",
)
key = (
    tuple(sorted(to_query(selection).items())),
    tuple(sorted(formats)),
    earlier_sha if found is not None else None,
    cache.store().version(),
)
if st.button(
    "Prepare the files",
    type="primary",
    icon=":material/build:",
    disabled=not formats or stale,
    help="Files are prepared from the current forecast, once it is ready." if stale else None,
):
    with st.status("Preparing the files…", expanded=True) as status:
        try:
            files = bundle.export_files(snapshot, formats, changes=found, progress=status.write)
        except (ImageExportError, SnapshotError) as exc:
            status.update(label="The files could not be prepared", state="error")
            failure = str(exc)
        else:
            status.update(label=f"{len(files):,} files ready", state="complete", expanded=False)
            chart_files = {k.removeprefix("charts/"): v for k, v in files.items() if "/" in k}
            st.session_state[PREPARED_KEY] = {
                "key": key,
                "files": {k: v for k, v in files.items() if "/" not in k},
                "charts": bundle.zip_files(chart_files) if chart_files else None,
                "everything": bundle.zip_files(files),
                "name": bundle.stem(snapshot),
                "chart_kinds": " and ".join(f.upper() for f in ("png", "svg") if f in formats),
            }
            failure = None
    if failure:
        st.error(escape_markdown(failure), icon=":material/error:")

prepared = st.session_state.get(PREPARED_KEY)
if prepared and prepared["key"] == key:
    order = list(LABELS)
    for name, data in sorted(
        prepared["files"].items(), key=lambda item: order.index(item[0].rsplit(".", 1)[-1])
    ):
        extension = name.rsplit(".", 1)[-1]
        kind = "prevention_gap" if name.endswith(bundle.GAP_CSV) else extension
        st.download_button(
            f"{LABELS[kind]} ({size(data)})",
            data,
            file_name=name,
            mime=MIME[extension],
            on_click="ignore",
            icon=":material/download:",
            help=name,
            key=f"download_{kind}",
        )
    if prepared["charts"]:
        st.download_button(
            f"{prepared['chart_kinds']} charts (charts.zip, {size(prepared['charts'])})",
            prepared["charts"],
            file_name="charts.zip",
            mime=MIME["zip"],
            on_click="ignore",
            icon=":material/download:",
            key="download_charts",
        )
    st.download_button(
        f"Download everything (.zip, {size(prepared['everything'])})",
        prepared["everything"],
        file_name=f"{prepared['name']}.zip",
        mime=MIME["zip"],
        on_click="ignore",
        icon=":material/folder_zip:",
        type="primary",
        key="download_everything",
    )
elif prepared:
    st.caption("The choices changed since the files were prepared: prepare them again.")
st.caption(escape_markdown(snapshot.footer))
