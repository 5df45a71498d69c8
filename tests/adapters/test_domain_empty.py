"""A domain's emptiness is Rasa's own answer, worked out once per domain object."""
from __future__ import annotations

from typing import Callable, List

import pytest
from rasa.shared.core.domain import Domain

from vraagbaak.adapters.rasa_patches import domain_empty
from vraagbaak.core.paths import PROJECT_DIR

RASA_IS_EMPTY = domain_empty._rasa_is_empty


def project_domain() -> Domain:
    return Domain.load(str(PROJECT_DIR / "domain.yml"))


@pytest.mark.parametrize("make, empty", [(Domain.empty, True), (project_domain, False)])
def test_the_answer_is_rasas_and_is_worked_out_once_per_domain(
    make: Callable[[], Domain], empty: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain, other = make(), make()  # made before the patch: loading a domain asks whether it is empty
    monkeypatch.setattr(Domain, "is_empty", domain_empty.is_empty)  # the patch, undone after the test
    calls: List[Domain] = []

    def counting(domain: Domain) -> bool:
        calls.append(domain)
        return RASA_IS_EMPTY(domain)

    monkeypatch.setattr(domain_empty, "_rasa_is_empty", counting)
    assert domain.is_empty() is empty
    assert domain.is_empty() is empty
    assert len(calls) == 1 and calls[0] is domain
    assert other.is_empty() is empty  # another object is worked out for itself
    assert len(calls) == 2 and calls[1] is other


def test_install_and_uninstall_swap_the_method() -> None:
    domain_empty.PATCH.install()
    assert Domain.is_empty is domain_empty.is_empty
    domain_empty.PATCH.uninstall()
    assert Domain.is_empty is RASA_IS_EMPTY
