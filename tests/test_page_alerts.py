"""The Alerts page: watchlists and rules edited with clear refusals, alerts raised, acknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from exports.alerts import rules
from exports.alerts.db import AlertsDB
from tests.conftest import REPO
from tests.conftest import tree_digest as _tree_digest


def tree_digest(root: Path) -> dict[str, str]:
    """Every file's checksum but the store's lock files (a read takes the lock)."""
    return {k: v for k, v in _tree_digest(root).items() if not k.endswith(".lock")}


def _text(element: object) -> str:
    """An element's text as shown (the page escapes markdown in text from input)."""
    return element.value.replace("\\", "")


def _page(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ARTICLE99_DATA_DIR", str(data_dir))
    for name in ("ARTICLE99_SMTP_HOST", "ARTICLE99_APP_URL"):
        monkeypatch.delenv(name, raising=False)
    at = AppTest.from_file(str(REPO / "app_pages" / "alerts.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def test_a_watchlist_and_its_rules_are_added_and_bad_input_changes_nothing(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(store_dir, monkeypatch)
    assert "No alerts yet" in at.info[0].value
    at.text_input(key="new-watchlist-name").set_value("<b>Sahel</b>")
    at.button(key="FormSubmitter:new-watchlist-Add watchlist").click().run()
    assert "name: '<' is not allowed in a name" in _text(at.error[0])
    assert AlertsDB(store_dir).watchlists() == []

    at.text_input(key="new-watchlist-name").set_value("Sahel watch")
    at.multiselect(key="new-watchlist-regions").set_value(["group:Sahel"])
    at.multiselect(key="new-watchlist-countries").set_value(["NGA"])
    at.text_area(key="new-watchlist-recipients").set_value("desk@example.org\nnot-an-address")
    at.button(key="FormSubmitter:new-watchlist-Add watchlist").click().run()
    assert "recipients: 'not-an-address' is not an email address" in _text(at.error[0])
    assert AlertsDB(store_dir).watchlists() == []

    at.text_area(key="new-watchlist-recipients").set_value("desk@example.org")
    at.button(key="FormSubmitter:new-watchlist-Add watchlist").click().run()
    assert not at.exception
    (watchlist,) = AlertsDB(store_dir).watchlists()
    assert (watchlist.name, watchlist.recipients) == ("Sahel watch", ("desk@example.org",))
    assert watchlist.selection.regions == ("group:Sahel",)
    assert _text(at.success[0]).startswith("Added Sahel watch.")

    at.selectbox(key=f"kind-{watchlist.id}").set_value("risk")
    at.number_input(key=f"threshold-{watchlist.id}").set_value(50)
    at.button(key=f"FormSubmitter:rule-{watchlist.id}-Add rule").click().run()
    (rule,) = AlertsDB(store_dir).rules(watchlist.id)
    assert rule.describe() == "risk ≥ 50%"
    before = tree_digest(store_dir)
    at.selectbox(key=f"kind-{watchlist.id}").set_value("risk")
    at.button(key=f"FormSubmitter:rule-{watchlist.id}-Add rule").click().run()
    assert "the watchlist has risk ≥ 50% already" in _text(at.error[0])
    assert tree_digest(store_dir) == before


def test_evaluate_now_raises_alerts_with_evidence_and_they_are_acknowledged(
    forecast_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = AlertsDB(forecast_store)
    watchlist = db.add_watchlist(rules.watchlist("Sahel watch", regions=["group:Sahel"]))
    db.add_rule(rules.rule(watchlist.id, "risk", "60%"))
    at = _page(forecast_store, monkeypatch)
    at.button(key="evaluate").click().run()
    assert not at.exception
    assert any("Sahel watch: new alerts 4, raised before 0" in _text(m) for m in at.markdown)
    history = at.dataframe[0].value
    # Dec 2020, the Sahel's ten (UNISS): Nigeria 99%, Mali 82%, Cameroon 81%, Burkina Faso 67%.
    assert sorted(history["Country"]) == ["Burkina Faso", "Cameroon", "Mali", "Nigeria"]
    assert set(history["Rule"]) == {"risk ≥ 60%"}
    evidence = " ".join(m.value for m in at.markdown)
    assert "UCDP GED 21\\.1" in evidence
    at.text_input(key="acknowledge-by").set_value("A. Analyst")
    at.button(key="FormSubmitter:acknowledge-Acknowledge").click().run()
    assert _text(at.success[0]) == "Acknowledged 1 alert."
    assert len(db.alerts(unacknowledged=True)) == 3
