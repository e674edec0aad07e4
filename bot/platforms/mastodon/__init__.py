"""Mastodon: the adapter, its Mastodon.py client, text rules, statuses, importer, CLI."""
