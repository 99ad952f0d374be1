"""Alerts: watchlists and their rules, the alerts raised after each update, acknowledge."""

import os

import pandas as pd
import streamlit as st

from exports.alerts import mail, rules
from exports.alerts.db import AlertsDB, AlertsError
from exports.alerts.delivery import month_label
from exports.alerts.model import (
    LANGUAGES,
    NEW_RISK,
    RISE,
    RISK,
    RULE_KINDS,
    SURGE,
    TOP,
    Watchlist,
)
from exports.alerts.run import APP_URL_ENV, after_update, feed_path
from loaders import countries
from risk import measures
from risk.selection import region_options
from ui import cache
from ui.text import escape_markdown

KIND_LABELS = {
    RISK: "Risk at or above",
    RISE: "A rise of at least",
    TOP: "Entry into the top",
    SURGE: "A surge flag",
    NEW_RISK: "Entry into the new-risk list",
}
HISTORY_SHOWN = 200
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "zh": "中文",
    "ru": "Русский",
}


def _error(exc: Exception) -> None:
    st.error(f"Nothing was changed. {escape_markdown(exc)}", icon=":material/error:")


def _done(text: str) -> None:
    """Say what was changed after the rerun that shows it."""
    st.session_state["alerts_done"] = text
    st.rerun()


def _watchlist_form(key: str, old: Watchlist | None = None) -> dict | None:
    """The fields of a watchlist; the values typed when submitted, else None."""
    labels = dict(region_options())
    names = countries.reference().set_index("iso3")["name"].to_dict()
    selection = old.selection if old else None
    with st.form(key):  # kept when refused, so the analyst corrects rather than retypes
        name = st.text_input(
            "Name", value=old.name if old else "", max_chars=rules.MAX_NAME, key=f"{key}-name"
        )
        left, right = st.columns(2)
        regions = left.multiselect(
            "Regions",
            list(labels),
            default=list(selection.regions) if selection else [],
            format_func=labels.get,
            key=f"{key}-regions",
        )
        chosen = right.multiselect(
            "Countries",
            sorted(names, key=names.get),
            default=list(selection.countries) if selection else [],
            format_func=lambda iso3: names.get(iso3, iso3),
            key=f"{key}-countries",
        )
        left, right = st.columns(2)
        measure = left.selectbox(
            "Violence",
            list(measures.MEASURES),
            index=measures.MEASURES.index(selection.measure) if selection else 0,
            format_func=lambda m: measures.LABELS[m].capitalize(),
            key=f"{key}-measure",
        )
        language = right.selectbox(
            "Language",
            list(LANGUAGES),
            index=LANGUAGES.index(old.language) if old else 0,
            format_func=LANGUAGE_NAMES.get,
            help="The language of its digests and CAP messages. Until the languages issue "
            "lands, their text is English in every case.",
            key=f"{key}-language",
        )
        recipients = st.text_area(
            "Email the digest to (one address a line)",
            value="\n".join(old.recipients) if old else "",
            height=80,
            key=f"{key}-recipients",
        )
        if not st.form_submit_button("Save" if old else "Add watchlist"):
            return None
    return {
        "name": name,
        "regions": regions,
        "countries_": chosen,
        "measure": measure,
        "language": language,
        "recipients": [line.strip() for line in recipients.splitlines() if line.strip()],
    }


def _rules(db: AlertsDB, watchlist: Watchlist) -> None:
    for rule in db.rules(watchlist.id):
        text, button = st.columns([4, 1], vertical_alignment="center")
        text.write(f"• {escape_markdown(rule.describe())}")
        if button.button("Remove", key=f"unrule-{rule.id}"):
            db.delete_rule(rule.id)
            _done(f"Removed the rule {rule.describe()} from {watchlist.name}.")
    with st.form(f"rule-{watchlist.id}", border=False):
        left, right, go = st.columns([2, 1, 1], vertical_alignment="bottom")
        kind = left.selectbox(
            "New rule", list(RULE_KINDS), format_func=KIND_LABELS.get, key=f"kind-{watchlist.id}"
        )
        value = right.number_input(
            "Threshold",
            min_value=1,
            max_value=100,
            value=20,
            help="Risk: percent; a rise: points of risk; the top: how many countries. A surge "
            "flag and the new-risk list take none.",
            key=f"threshold-{watchlist.id}",
        )
        if go.form_submit_button("Add rule"):
            threshold = (
                None if kind in (SURGE, NEW_RISK) else (value if kind == TOP else f"{value}%")
            )
            try:
                added = db.add_rule(rules.rule(watchlist.id, kind, threshold))
            except AlertsError as exc:
                _error(exc)
            else:
                _done(f"Added the rule {added.describe()} to {watchlist.name}.")


def _history(db: AlertsDB, watchlists: list[Watchlist]) -> None:
    names = {w.id: w.name for w in watchlists}
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    which = left.selectbox(
        "Watchlist",
        [None, *names],
        format_func=lambda i: "All watchlists" if i is None else names[i],
        key="history_watchlist",
    )
    open_only = right.toggle("Only not acknowledged", key="history_open")
    found = db.alerts(which, unacknowledged=open_only, limit=HISTORY_SHOWN)
    if not found:
        st.info(
            "No alerts yet. They are raised after each update (`python -m loaders update`) "
            "or with **Evaluate now** below."
        )
        return
    table = pd.DataFrame(
        {
            "Alert": [a.id for a in found],
            "Data to": [month_label(a.as_of) for a in found],
            "Watchlist": [a.watchlist for a in found],
            "Country": [a.country for a in found],
            "Rule": [a.rule for a in found],
            "Risk": [a.risk * 100 for a in found],
            "Before": [None if a.risk_before is None else a.risk_before * 100 for a in found],
            "Deaths (most likely)": [round(a.deaths_median) for a in found],
            "90% interval": [f"{a.deaths_low:,.0f}–{a.deaths_high:,.0f}" for a in found],
            "Acknowledged": [
                f"{a.acknowledged_by}, {a.acknowledged_at[:10]}" if a.acknowledged_at else ""
                for a in found
            ],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Risk": st.column_config.NumberColumn(format="%.0f%%"),
            "Before": st.column_config.NumberColumn(
                format="%.0f%%", help="In the earlier snapshot, or the forecast a month earlier"
            ),
            "Deaths (most likely)": st.column_config.NumberColumn(format="localized"),
        },
    )
    labels = {a.id: f"#{a.id} {a.country}: {a.rule} ({a.watchlist})" for a in found}
    chosen = st.selectbox(
        "Evidence of alert", list(labels), format_func=labels.get, key="evidence_alert"
    )
    alert = next(a for a in found if a.id == chosen)
    st.markdown(f"**{escape_markdown(alert.headline)}**")
    st.markdown("\n".join(f"- {escape_markdown(line)}" for line in alert.evidence))
    st.caption(
        f"Raised {alert.raised_at[:16].replace('T', ' ')} UTC from the snapshot with table "
        f"sha256 {alert.snapshot_sha256[:16]}…"
    )
    with st.form("acknowledge", border=False):
        pending = [a.id for a in found if not a.acknowledged_at]
        left, right, go = st.columns([3, 2, 1], vertical_alignment="bottom")
        ids = left.multiselect(
            "Acknowledge",
            pending,
            default=[chosen] if chosen in pending else [],
            format_func=labels.get,
        )
        by = right.text_input("Your name", max_chars=200, key="acknowledge-by")
        if go.form_submit_button("Acknowledge"):
            try:
                for alert_id in ids:
                    db.acknowledge(alert_id, by)
            except AlertsError as exc:
                _error(exc)
            else:
                _done(f"Acknowledged {len(ids)} alert{'' if len(ids) == 1 else 's'}.")


def _delivery(db: AlertsDB) -> None:
    try:
        settings = mail.SmtpSettings.from_env()
        st.caption(f"Email goes through {escape_markdown(settings.describe())}.")
    except ValueError as exc:
        st.caption(f"Email is off: {escape_markdown(exc)}")
    waiting = db.outbox()
    if waiting:
        last = waiting[-1].last_error or "not tried yet"
        st.warning(
            f"Digests waiting in the outbox: {len(waiting)}; the next update sends them. "
            f"Last error: {escape_markdown(last)}",
            icon=":material/outgoing_mail:",
        )
    app_url = os.environ.get(APP_URL_ENV)
    st.caption(
        "Links in feeds, CAP messages and emails point to "
        + (escape_markdown(app_url) if app_url else f"nowhere yet: set `{APP_URL_ENV}`")
        + "."
    )


st.title("Alerts")
st.caption(
    "A watchlist is a set of regions and countries with rules. After each update the rules "
    "are checked against the new forecast; each alert is raised once per rule, country and "
    "forecast month, with its evidence, and goes to the watchlist's Atom feed, a CAP 1.2 "
    "message and an email digest."
)
if done := st.session_state.pop("alerts_done", None):
    st.success(escape_markdown(done), icon=":material/check:")
db = AlertsDB(cache.store().root)
watchlists = db.watchlists()

st.header("Alerts raised")
if st.button(
    "Evaluate now",
    key="evaluate",
    help="Check every watchlist's rules against the current forecast and deliver, as the "
    "next update would",
):
    with st.spinner("Checking the rules…"):
        st.session_state["alerts_outcome"] = after_update(cache.store().root)
    st.rerun()
if outcome := st.session_state.pop("alerts_outcome", None):
    with st.container(border=True):
        for line in outcome.lines:
            st.write(escape_markdown(line))
        for problem in outcome.problems:
            st.warning(escape_markdown(problem))
_history(db, watchlists)

st.header("Watchlists")
for watchlist in watchlists:
    title = f"{watchlist.name} · {watchlist.selection.describe()}"
    with st.expander(escape_markdown(title)):
        recipients = ", ".join(watchlist.recipients) or "nobody (feed only)"
        st.caption(f"Digests to {escape_markdown(recipients)}; language {watchlist.language}.")
        _rules(db, watchlist)
        feed = feed_path(cache.store().root, watchlist)
        if feed.is_file():
            st.download_button(
                "Atom feed",
                feed.read_bytes(),
                file_name=feed.name,
                mime="application/atom+xml",
                key=f"feed-{watchlist.id}",
                help=f"Also at {feed}; serve that folder to feed readers (docs/operations.md).",
            )
        st.subheader("Edit")
        typed = _watchlist_form(f"edit-{watchlist.id}", watchlist)
        if typed is not None:
            try:
                changed = db.update_watchlist(rules.watchlist(**typed, id=watchlist.id))
            except AlertsError as exc:
                _error(exc)
            else:
                _done(f"Saved {changed.name}.")
        if st.button("Delete this watchlist", key=f"delete-{watchlist.id}"):
            db.delete_watchlist(watchlist.id)
            _done(f"Deleted {watchlist.name} and its rules; its alerts stay in the history.")

st.subheader("New watchlist")
# A new form (a new key) after each watchlist added, so it starts empty again.
generation = st.session_state.setdefault("new_watchlist_form", 0)
typed = _watchlist_form(f"new-watchlist-{generation}" if generation else "new-watchlist")
if typed is not None:
    try:
        added = db.add_watchlist(rules.watchlist(**typed))
    except AlertsError as exc:
        _error(exc)
    else:
        st.session_state["new_watchlist_form"] = generation + 1
        _done(f"Added {added.name}. Add its rules in its box above.")

st.header("Delivery")
_delivery(db)
