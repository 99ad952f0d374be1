"""Data: what is in the store, where it came from, how to cite it, and how to add more."""

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from loaders import acled_remote, coverage, reference, registry, ucdp_remote
from loaders.errors import LoaderError
from loaders.store import ImportRecord
from loaders.uploads import MAX_UPLOAD_MB, import_upload
from risk import presence
from risk.prepare import prepare
from risk.sources import SOURCE_LABELS
from ui import cache
from ui.text import escape_markdown


def run_import(read: Callable[[], ImportRecord], bar: DeltaGenerator | None = None) -> None:
    """Run one fetch or upload and say what it brought, or what failed (nothing is changed);
    then compute the forecast of the new data, so no page has to wait for it."""
    try:
        record = read()
    except LoaderError as exc:
        if bar is not None:
            bar.empty()
        st.error(f"Nothing was changed. {escape_markdown(exc)}", icon=":material/error:")
        return
    if bar is not None:
        bar.progress(1.0, text="Imported")
    p = record.provenance
    if record.kind == "events":
        what = f"{p.rows:,} events, {p.first_date} … {p.last_date}"
    else:
        what = f"{p.rows:,} rows of counts, {p.coverage.first_month} … {p.coverage.last_month}"
    st.success(f"Imported {escape_markdown(p.label)}: {what}.")
    if count := p.rejected_rows:
        rows = (
            "1 row failed a check and was"
            if count == 1
            else f"{count:,} rows failed a check and were"
        )
        st.warning(
            f"{rows} set aside, with their reasons, in `raw/{p.rejects_file}` beside the "
            "imported file.",
            icon=":material/report:",
        )
    for note in p.remarks:
        st.caption(escape_markdown(note))
    with st.status("Forecasting every country from the new data…") as status:
        prepared = prepare(cache.store().root)
        if prepared.as_of is not None:
            status.update(label=f"Forecast ready: {prepared.message}", state="complete")
        else:
            status.update(label="No forecast", state="error")
            st.write(escape_markdown(prepared.message.capitalize()))


UPLOAD_SOURCES = registry.uploadable()

st.title("Data sources")
sources = cache.sources()
if sources.empty:
    st.info(
        "The local store is empty. To load data:\n\n"
        "1. Download UCDP's yearly event data (no account needed): use **Refresh** below, or "
        "`python -m loaders fetch ucdp`\n"
        "2. Or import a file you already have (UCDP GED CSV, .csv.gz or .zip): upload it below, "
        "or `python -m loaders import PATH`\n"
        "3. ACLED data need an account: set `ACLED_USERNAME` and `ACLED_PASSWORD`.\n\n"
        f"Store: `{cache.store().root}`"
    )
else:
    totals = cache.live_totals()
    by_source = totals.groupby("source")[["events", "rows"]].sum()
    # One number per source: UCDP and ACLED record many of the same incidents, never add them.
    for column, (source, row) in zip(st.columns(4), by_source.iterrows(), strict=False):
        superseded = int(row["rows"] - row["events"])
        column.metric(
            f"{SOURCE_LABELS.get(source, source)} events in use",
            f"{int(row['events']):,}",
            help="Each event once: events a newer release replaced or repeats are not counted"
            + (f" ({superseded:,} of the files' rows)." if superseded else "."),
        )
    st.dataframe(
        sources.drop(columns=["Citation", "Source key"]),
        hide_index=True,
        column_config={
            "Events": st.column_config.NumberColumn(format="localized"),
            "Deaths (best)": st.column_config.NumberColumn(format="localized"),
            "Rows set aside": st.column_config.NumberColumn(format="localized"),
        },
    )
    cover = cache.coverage_table()
    line = coverage.vintage_line(cover)
    st.subheader("Coverage")
    st.caption(
        escape_markdown(
            f"The sources end on different days: {line}. Each country is forecast and compared "
            "only over the months its own sources cover."
            if line
            else "Every import ends on the same day."
        )
    )
    st.dataframe(
        coverage.table(cover),
        hide_index=True,
        column_config={
            "From": st.column_config.DateColumn(format="D MMM YYYY"),
            "To": st.column_config.DateColumn(format="D MMM YYYY"),
        },
    )
    st.subheader("How to cite")
    for citation in sorted(set(sources["Citation"])):
        st.text(citation)
    for line in cache.attribution():
        st.text(line)

st.subheader("Refresh from UCDP")
with st.form("refresh"):
    left, right = st.columns(2)
    version = left.text_input("Yearly GED release", value=ucdp_remote.LATEST_GED)
    candidate = right.text_input("Or a monthly Candidate release (e.g. 26.0.6)", value="")
    refresh = st.form_submit_button("Download and import", icon=":material/download:")
if refresh:
    bar = st.progress(0.0, text="Connecting…")

    def show(done: int, total: int | None) -> None:
        share = min(done / total, 1.0) if total else 0.0
        bar.progress(share, text=f"Downloaded {done / 1024 / 1024:,.1f} MB")

    base_url, api_url = ucdp_remote.configured_urls()
    run_import(
        lambda: ucdp_remote.fetch(
            version=version.strip(), candidate=candidate.strip() or None,
            base_url=base_url, api_url=api_url, progress=show,
        ),
        bar,
    )  # fmt: skip

st.subheader("Fetch from the ACLED API")
# Root-level Streamlit secrets become environment variables, where the client reads them.
st.secrets.load_if_toml_exists()
try:
    acled_remote.credentials()
except LoaderError as exc:
    st.info(
        f"{escape_markdown(exc)}. Put them in the environment or in `.streamlit/secrets.toml` "
        "and reload; they are never shown, logged or stored.",
        icon=":material/key:",
    )
else:
    with st.form("acled"):
        wanted = st.text_input(
            "Countries, as ACLED names them, separated by commas (empty: every country)"
        )
        first, last = st.columns(2)
        this_year = dt.date.today().replace(month=1, day=1)
        start = first.date_input("From", value=this_year, format="YYYY-MM-DD")
        end = last.date_input("To", value=dt.date.today(), format="YYYY-MM-DD")
        fetch_acled = st.form_submit_button("Fetch and import", icon=":material/download:")
    if fetch_acled:
        bar = st.progress(0.0, text="Logging in to ACLED…")

        def count(rows: int, _total: int | None) -> None:
            bar.progress(0.5, text=f"Fetched {rows:,} events")

        names = [name.strip() for name in wanted.split(",") if name.strip()]
        run_import(
            lambda: acled_remote.fetch(
                countries=names or None, start=str(start), end=str(end), progress=count
            ),
            bar,
        )

st.subheader("Import a file")
with st.form("upload", clear_on_submit=True):
    upload = st.file_uploader(
        f"An events file (CSV, .csv.gz or .zip; up to {MAX_UPLOAD_MB} MB)",
        type=["csv", "gz", "zip"],
    )
    upload_source = st.radio(
        "Source",
        list(UPLOAD_SOURCES),
        format_func=UPLOAD_SOURCES.get,
        horizontal=True,
        help="ACLED files are recognised by their columns: an export of events, or HDX HAPI "
        "country-month counts, which are kept as counts and never as events.",
    )
    release = st.text_input("Release, if the file name does not say it (e.g. 25.1)", value="")
    strict = st.checkbox(
        "Refuse the file if any row fails a check",
        help="By default up to 1% of the rows (at most 1,000) may be set aside and listed "
        "beside the imported file; more refuses the file.",
    )
    submitted = st.form_submit_button("Import", icon=":material/upload:")
if submitted and upload is None:
    st.warning("Choose a file first.")
elif submitted:
    run_import(
        lambda: import_upload(
            upload.name,
            upload,
            size=upload.size,
            source=upload_source,
            version=release.strip() or None,
            strict=strict,
        )
    )

st.subheader("Reference tables: UN presence, regional organisations, sanctions")
st.caption(
    "What the landing page's UN presence column, the prevention-gap list and the profiles read. "
    "Each row names its public source and the date it was checked; they are only as current "
    "as that date. Download one, correct or extend it, and upload it here: it replaces the "
    "shipped table for this store after the same checks as any import."
)
if done := st.session_state.pop("reference_replaced", None):
    st.success(escape_markdown(done), icon=":material/check_circle:")
st.dataframe(
    pd.DataFrame(
        [
            {
                "Table": i.title,
                "Rows": i.rows,
                "As of": i.as_of.date(),
                "In use": "shipped with Article 99" if i.origin == "shipped" else "replaced here",
                "File": i.path.name,
            }
            for i in (reference.info(name) for name in reference.NAMES)
        ]
    ),
    hide_index=True,
    column_config={"As of": st.column_config.DateColumn(format="D MMM YYYY")},
)
if stale := presence.stale():
    st.warning(escape_markdown(stale), icon=":material/event_busy:")
downloads = st.columns(len(reference.NAMES))
for column, name in zip(downloads, reference.NAMES, strict=True):
    column.download_button(
        f"Download: {reference.TITLES[name]}",
        reference.path(name).read_bytes(),
        file_name=f"{name}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"download_{name}",
    )
with st.form("reference", clear_on_submit=True):
    chosen = st.selectbox("Table to replace", reference.NAMES, format_func=reference.TITLES.get)
    table_file = st.file_uploader("Its new version (CSV)", type=["csv"])
    replace = st.form_submit_button("Replace", icon=":material/upload:")
if replace and table_file is None:
    st.warning("Choose a file first.")
elif replace:
    try:
        replaced = reference.replace(chosen, table_file.getvalue(), table_file.name)
    except LoaderError as exc:
        st.error(f"Nothing was changed. {escape_markdown(exc)}", icon=":material/error:")
    else:  # rerun, so the table above shows the replacement
        st.session_state["reference_replaced"] = f"Replaced. {replaced.citation()}."
        st.rerun()
for name in reference.NAMES:
    if reference.info(name).origin == "replaced" and st.button(
        f"Go back to the shipped table: {reference.TITLES[name]}", key=f"restore_{name}"
    ):
        reference.restore(name)
        st.rerun()
