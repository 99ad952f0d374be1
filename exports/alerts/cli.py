"""`python -m exports alerts …`: watchlists, rules and alerts from the command line.

alerts list                                   watchlists with their rules
alerts add NAME [--region R]... [--country ISO3]... [--measure M] [--language L]
    [--email ADDRESS]...                      a new watchlist
alerts edit NAME [--name NEW] [--region R]... [--country ISO3]... [--measure M]
    [--language L] [--email ADDRESS]...       change what is given (lists are replaced)
alerts remove NAME                            a watchlist and its rules (alerts stay)
alerts rule NAME KIND [THRESHOLD]             risk 50% | rise 20% | top 5 | surge | new_risk
alerts unrule RULE_ID
alerts history [NAME] [--unacknowledged] [--limit N]
alerts ack ALERT_ID --by WHO
alerts run                                    evaluate now: snapshots, alerts, feeds, mail
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from exports.alerts import rules
from exports.alerts.db import AlertsDB
from exports.alerts.model import LANGUAGES, RULE_KINDS, Watchlist
from exports.alerts.run import after_update
from risk import measures


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `alerts` and its subcommands on `python -m exports`."""
    alerts = commands.add_parser(
        "alerts",
        help="watchlists, rules and alerts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--data-dir", help="the store (default: $ARTICLE99_DATA_DIR)")
    sub = alerts.add_subparsers(dest="alerts_command", required=True)

    def command(name: str, run: object, text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=text, parents=[store])
        parser.set_defaults(run=run)
        return parser

    command("list", _list, "watchlists and their rules")
    for name, run in (("add", _add), ("edit", _edit)):
        edit = command(name, run, f"{name} a watchlist")
        edit.add_argument("watchlist", help="the watchlist's name")
        if name == "edit":
            edit.add_argument("--name", help="a new name")
        edit.add_argument("--region", action="append", help="a region key or name")
        edit.add_argument("--country", action="append", help="an ISO3 code")
        edit.add_argument("--measure", choices=measures.MEASURES)
        edit.add_argument("--language", choices=LANGUAGES)
        edit.add_argument("--email", action="append", help="a recipient's address")
    command("remove", _remove, "remove a watchlist and its rules").add_argument("watchlist")
    rule = command("rule", _rule, "add a rule to a watchlist")
    rule.add_argument("watchlist")
    rule.add_argument("kind", choices=RULE_KINDS)
    rule.add_argument("threshold", nargs="?", help="risk/rise: 0.5 or 50%%; top: N")
    command("unrule", _unrule, "remove a rule").add_argument("rule_id", type=int)
    history = command("history", _history, "alerts raised, newest first")
    history.add_argument("watchlist", nargs="?")
    history.add_argument("--unacknowledged", action="store_true")
    history.add_argument("--limit", type=int, default=50)
    ack = command("ack", _ack, "acknowledge an alert")
    ack.add_argument("alert_id", type=int)
    ack.add_argument("--by", required=True, help="who acknowledges (a name or address)")
    command("run", _run, "evaluate the rules now and deliver")


def _regions(names: list[str] | None) -> list[str]:
    from exports.cli import region_key  # the same region names as `snapshot --region`

    return [region_key(name) for name in names or []]


def _list(args: argparse.Namespace) -> None:
    db = AlertsDB(args.data_dir)
    watchlists = db.watchlists()
    if not watchlists:
        print("No watchlists. Add one: python -m exports alerts add NAME --region group:Sahel")
    for watchlist in watchlists:
        print(_describe(watchlist))
        for rule in db.rules(watchlist.id):
            print(f"  rule {rule.id}: {rule.describe()}")


def _describe(watchlist: Watchlist) -> str:
    recipients = ", ".join(watchlist.recipients) or "no email"
    return (
        f"{watchlist.name} (id {watchlist.id}): {watchlist.selection.describe()}; "
        f"language {watchlist.language}; {recipients}"
    )


def _add(args: argparse.Namespace) -> None:
    checked = rules.watchlist(
        args.watchlist,
        regions=_regions(args.region),
        countries_=args.country or [],
        measure=args.measure or measures.DEFAULT,
        language=args.language or "en",
        recipients=args.email or [],
    )
    print(f"Added {_describe(AlertsDB(args.data_dir).add_watchlist(checked))}")


def _edit(args: argparse.Namespace) -> None:
    db = AlertsDB(args.data_dir)
    old = db.watchlist(args.watchlist)
    selection = old.selection
    checked = rules.watchlist(
        args.name if args.name is not None else old.name,
        regions=_regions(args.region) if args.region is not None else selection.regions,
        countries_=args.country if args.country is not None else selection.countries,
        measure=args.measure or selection.measure,
        language=args.language or old.language,
        recipients=args.email if args.email is not None else old.recipients,
        id=old.id,
    )
    print(f"Changed {_describe(db.update_watchlist(replace(checked, id=old.id)))}")


def _remove(args: argparse.Namespace) -> None:
    db = AlertsDB(args.data_dir)
    watchlist = db.watchlist(args.watchlist)
    db.delete_watchlist(watchlist.id)
    print(f"Removed {watchlist.name} and its rules; its alerts stay in the history.")


def _rule(args: argparse.Namespace) -> None:
    db = AlertsDB(args.data_dir)
    watchlist = db.watchlist(args.watchlist)
    added = db.add_rule(rules.rule(watchlist.id, args.kind, args.threshold))
    print(f"Rule {added.id} on {watchlist.name}: {added.describe()}")


def _unrule(args: argparse.Namespace) -> None:
    AlertsDB(args.data_dir).delete_rule(args.rule_id)
    print(f"Removed rule {args.rule_id}.")


def _history(args: argparse.Namespace) -> None:
    db = AlertsDB(args.data_dir)
    watchlist_id = db.watchlist(args.watchlist).id if args.watchlist else None
    found = db.alerts(watchlist_id, unacknowledged=args.unacknowledged, limit=args.limit)
    if not found:
        print("No alerts.")
    for alert in found:
        seen = (
            f"acknowledged by {alert.acknowledged_by} {alert.acknowledged_at}"
            if alert.acknowledged_at
            else "not acknowledged"
        )
        print(f"[{alert.id}] {alert.watchlist} · data to {alert.as_of} · {seen}")
        print(f"    {alert.headline}")


def _ack(args: argparse.Namespace) -> None:
    alert = AlertsDB(args.data_dir).acknowledge(args.alert_id, args.by)
    print(f"Alert {alert.id} acknowledged by {alert.acknowledged_by} at {alert.acknowledged_at}.")


def _run(args: argparse.Namespace) -> None:
    outcome = after_update(args.data_dir)
    for line in outcome.lines:
        print(line)
    if outcome.problems:
        raise rules.AlertsError("; ".join(outcome.problems))
