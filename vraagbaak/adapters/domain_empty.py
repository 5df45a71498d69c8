"""Whether a domain is empty, worked out once per domain instead of on every message.

Why: Rasa's processor asks `domain.is_empty()` for every message it parses, and Rasa answers by building the
whole domain as a dictionary and comparing it with a freshly built empty domain (0.3-0.4 ms here). A loaded
domain does not change; a new model brings a new domain object, which is worked out anew.
"""
from __future__ import annotations

from typing import Callable

from rasa.shared.core.domain import Domain

_rasa_is_empty: Callable[[Domain], bool] = Domain.is_empty
_CACHE = "_vraagbaak_is_empty"


def is_empty(domain: Domain) -> bool:
    """Rasa's answer for this domain object, remembered on the object."""
    known = domain.__dict__.get(_CACHE)
    if known is None:
        known = _rasa_is_empty(domain)
        domain.__dict__[_CACHE] = known
    return bool(known)


def install_domain_empty_once() -> None:
    """Patch Rasa's Domain in this process."""
    Domain.is_empty = is_empty  # type: ignore[method-assign]


def uninstall_domain_empty_once() -> None:
    """Rasa's own check again (for tests)."""
    Domain.is_empty = _rasa_is_empty  # type: ignore[method-assign]
