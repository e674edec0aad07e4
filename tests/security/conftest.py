"""The web room fixtures (a real App served on 127.0.0.1) for the security tests."""

from tests.web.conftest import clock, live, room  # noqa: F401  (pytest finds them here)
