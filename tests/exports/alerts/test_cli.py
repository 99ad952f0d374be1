"""`python -m exports alerts`: watchlists and rules from the command line, refusals in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from exports.alerts.db import AlertsDB
from exports.cli import main
from tests.conftest import tree_digest as _tree_digest


def tree_digest(root: Path) -> dict[str, str]:
    """Every file's checksum but the store's lock files (a read takes the lock)."""
    return {k: v for k, v in _tree_digest(root).items() if not k.endswith(".lock")}


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(["alerts", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_watchlists_and_rules_from_the_command_line(
    store_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    where = ["--data-dir", str(store_dir)]
    code, out, _ = _run(capsys, "list", *where)
    assert (code, out.split(".")[0]) == (0, "No watchlists")
    code, out, _ = _run(
        capsys, "add", "Sahel watch", "--region", "Sahel", "--country", "nga",
        "--email", "desk@example.org", *where,
    )  # fmt: skip
    assert code == 0
    assert out.startswith("Added Sahel watch (id 1): Sahel (Group), NGA · all organised violence")
    assert _run(capsys, "rule", "Sahel watch", "risk", "50%", *where)[1] == (
        "Rule 1 on Sahel watch: risk ≥ 50%\n"
    )
    assert _run(capsys, "rule", "Sahel watch", "top", "3", *where)[0] == 0
    code, out, _ = _run(capsys, "edit", "Sahel watch", "--name", "Sahel", "--measure",
                        "one_sided", *where)  # fmt: skip
    assert out.startswith("Changed Sahel (id 1): Sahel (Group), NGA · one-sided violence")
    code, out, _ = _run(capsys, "list", *where)
    assert out.splitlines()[1:] == ["  rule 1: risk ≥ 50%", "  rule 2: entry into the top 3"]
    assert _run(capsys, "unrule", "2", *where)[0] == 0
    assert [r.id for r in AlertsDB(store_dir).rules()] == [1]
    code, out, _ = _run(capsys, "history", *where)
    assert (code, out) == (0, "No alerts.\n")
    assert _run(capsys, "remove", "Sahel", *where)[0] == 0
    assert AlertsDB(store_dir).watchlists() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "<img src=x>"], "error: name: '<' is not allowed in a name"),
        (["add", "S", "--country", "ZZZ"], "error: countries: unknown country code 'ZZZ'"),
        (["add", "S", "--region", "Atlantis"], "error: --region: unknown region 'Atlantis'"),
        (["add", "S", "--email", "desk@"], "error: recipients: 'desk@' is not an email address"),
        (["rule", "Sahel", "risk", "150%"], "error: threshold: a risk threshold is a share"),
        (["rule", "Sahel", "top", "0"], "error: threshold: the top N is a whole number"),
        (["rule", "Nowhere", "surge"], "error: watchlist: no watchlist 'Nowhere'"),
        (["ack", "42", "--by", "Ana"], "error: alert: no alert with id 42"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    store_dir: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    where = ["--data-dir", str(store_dir)]
    assert _run(capsys, "add", "Sahel", "--region", "group:Sahel", *where)[0] == 0
    before = tree_digest(store_dir)
    code, out, err = _run(capsys, *args, *where)
    assert (code, out) == (1, "")
    assert err.startswith(message) and err.count("\n") == 1
    assert tree_digest(store_dir) == before
