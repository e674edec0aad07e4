"""X (Twitter): the adapter, its HTTP client, text rules, v2 tweets, importer, CLI."""
