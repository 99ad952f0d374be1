"""Hostile reference tables (issue #18): a replacement is refused with one message naming the
file and leaves the table in use byte for byte, or it replaces the table whole."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from loaders import reference
from loaders.errors import LoaderError
from tests.conftest import tree_digest
from tests.reliability.hostile import HOSTILE_TEXTS
from tests.reliability.ledger import LEDGER

SHIPPED = (reference.DATA_DIR / "un_presence.csv").read_bytes()
GOOD_ROW = "NGA,Nigeria,X,{name},envoy,country,2020-01,,,https://example.org/x,2025-02-01\n"

CASES = {
    "empty file": b"",
    "header only": SHIPPED.splitlines(keepends=True)[0],
    "binary": bytes(range(256)) * 64,
    "HTML login page": b"<!DOCTYPE html><html><body>Please log in</body></html>",
    "truncated mid-row": SHIPPED[: len(SHIPPED) // 2 + 7],
    "ragged row": SHIPPED + b"NGA,Nigeria,X\n",
    "over the size limit": SHIPPED + b"#" * (reference.MAX_BYTES + 1),
    "formula in a name": SHIPPED + GOOD_ROW.format(name="@SUM(A1:A9)").encode(),
    "a sanctions table instead": (reference.DATA_DIR / "sanctions.csv").read_bytes(),
    "dates written 31/12/2020": SHIPPED.replace(b"2013-04-25", b"25/04/2013"),
    "impossible date": SHIPPED.replace(b"2013-04-25", b"2013-02-30"),
}


@pytest.mark.parametrize("name", CASES)
def test_a_hostile_table_is_refused_and_changes_nothing(name: str, store_dir: Path) -> None:
    store_dir.mkdir(parents=True, exist_ok=True)
    before = tree_digest(store_dir)
    with pytest.raises(LoaderError) as raised:
        reference.replace("un_presence", CASES[name], "presence.csv", data_dir=store_dir)
    intact = tree_digest(store_dir) == before
    LEDGER.hostile(f"reference table: {name}", refused=True, store_intact=intact)
    message = str(raised.value)
    assert intact and message.startswith("presence.csv"), message
    assert "\n" not in message and "Traceback" not in message
    assert reference.info("un_presence", store_dir).origin == "shipped"


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_markup_in_a_table_is_kept_as_text(text: str, store_dir: Path) -> None:
    """Markup is data: stored as typed (the pages escape it where they render it)."""
    quoted = '"' + text.replace('"', '""') + '"'
    content = SHIPPED + GOOD_ROW.format(name=quoted).encode()
    reference.replace("un_presence", content, "presence.csv", data_dir=store_dir)
    LEDGER.hostile(f"reference table: markup {text[:12]}", refused=False)
    names = reference.table("un_presence", store_dir)["name"]
    assert text in set(names)


def test_a_compressed_or_resaved_table_is_stored_as_plain_csv(store_dir: Path) -> None:
    """A gzip named .csv is read like any import; what is stored (and downloaded) is UTF-8 CSV."""
    reference.replace("un_presence", gzip.compress(SHIPPED), "presence.csv", data_dir=store_dir)
    LEDGER.hostile("reference table: gzip given as csv", refused=False)
    stored = reference.replacement_path("un_presence", store_dir).read_bytes()
    assert stored == SHIPPED
