"""Display names that come from a platform (Discord, X, Mastodon, Bluesky), made safe to show.

The web room refuses a name that breaks the rules (bot.moderation.names.screen_name): the
person is there to choose another. A platform's name cannot be refused (the account is the
platform's, and an import reads a chat that is over), so the same rules are applied by
changing what is shown instead:

- normalised as the web room normalises (NFKC; zero-width, bidi override and other control
  characters removed; spaces collapsed), so no CSV, Markdown or certificate gets a bidi trick;
  a pile of accents on one letter loses its accents;
- an identifier (NHS number, phone, email, postcode, date of birth) is masked with the
  policy's mask, as in a message ("Bed 4 [NHS number removed]");
- abuse is masked with the abuse check's mask;
- a name that poses as the host, a co-host or a moderator (by confusables skeleton) is shown
  with " (participant)" after it, so a reader is not misled.

What the platform sent stays in the message's payload (never published).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.moderation.conduct import detect_abuse
from bot.moderation.detectors import detect_identifiers
from bot.moderation.engine import mask_text
from bot.moderation.names import RESERVED, NameRefused, normalise_name, skeleton
from bot.moderation.policy import Policy

__all__ = ["NameScreen", "POSING_MARK"]

POSING_MARK = " (participant)"
# A platform name's screening is cached: a chat's names repeat on every message.
_CACHE_LIMIT = 65536


class NameScreen:
    """Screens platform display names under one policy, for one chat's protected names."""

    def __init__(self, policy: Policy, protected: Iterable[str] = ()) -> None:
        self.policy = policy
        self.masks = {name: check.mask for name, check in policy.checks.items()}
        shapes = {skeleton(p) for p in (*RESERVED, *protected) if p}
        self.shapes = frozenset(s for s in shapes if s)
        self._cache: dict[str, str] = {}

    def __call__(self, raw: str) -> str:
        """The name to show for `raw` (see the module doc); the same name is screened once."""
        shown = self._cache.get(raw)
        if shown is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            shown = self._cache[raw] = self._screen(raw)
        return shown

    def _screen(self, raw: str) -> str:
        if not isinstance(raw, str):
            return raw
        try:
            name = normalise_name(raw)
        except NameRefused:  # accents piled on letters: shown without their accents
            plain = "".join(c for c in unicodedata.normalize("NFKD", raw)
                            if not unicodedata.combining(c))
            name = normalise_name(plain)
        checks = self.policy.checks
        found = []
        if any(c in checks for c in ("nhs_number", "phone", "email", "postcode", "dob")):
            found = [f for f in detect_identifiers(name, phone_region=self.policy.phone_region)
                     if f.check in checks]
        if "abuse" in checks:
            found += detect_abuse(name, self.policy.words)
        if found:
            name = mask_text(name, found, self.masks)
        shape = skeleton(name)
        if shape and any(shape == theirs or (len(theirs) >= 5 and theirs in shape)
                         for theirs in self.shapes):
            name += POSING_MARK
        return name
