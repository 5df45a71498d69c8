"""Whether a domain is empty, worked out once per domain instead of on every message.

Why: Rasa's processor asks `domain.is_empty()` for every message it parses, and Rasa answers by building the
whole domain as a dictionary and comparing it with a freshly built empty domain (0.3-0.4 ms here). A loaded
domain does not change; a new model brings a new domain object, which is worked out anew.
"""
from __future__ import annotations

from typing import Callable

from rasa.shared.core.domain import Domain

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement

_rasa_is_empty: Callable[[Domain], bool] = Domain.is_empty
_CACHE = "_vraagbaak_is_empty"


def is_empty(domain: Domain) -> bool:
    """Rasa's answer for this domain object, remembered on the object."""
    known = domain.__dict__.get(_CACHE)
    if known is None:
        known = _rasa_is_empty(domain)
        domain.__dict__[_CACHE] = known
    return bool(known)


PATCH = Patch(
    name="domain_empty",
    why="Rasa rebuilt the whole domain to see whether it is empty, for every message.",
    proof="tests/adapters/test_domain_empty.py",
    replacements=lambda settings: [Replacement(Domain, "is_empty", is_empty)],
)
