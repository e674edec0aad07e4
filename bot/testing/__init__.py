"""Fakes shipped with the package: one per platform, speaking its real JSON."""
