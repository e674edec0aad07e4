"""The web room as a platform: room, service, hub, WebSocket and guard."""
