"""Discord: the adapter, its shared client, the /chat commands, events, importer, CLI."""
