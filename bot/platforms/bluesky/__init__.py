"""Bluesky: the adapter, its atproto client, text and facets, post views, importer, CLI."""
