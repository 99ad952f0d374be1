"""Alerts (issue 16): watchlists and rules kept in SQLite, evaluated after each update against
the risk snapshots, delivered as an Atom feed, CAP 1.2 messages and email digests."""
