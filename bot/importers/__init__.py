"""Importers: past chats from other tools' exports, archived as if hosted live."""
