"""Exports: risk snapshots, briefing packs and the figures they share with the pages."""
