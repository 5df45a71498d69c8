"""The shortened rule lookup finds exactly the rule keys Rasa's own lookup finds, on the trained model's rules."""
from __future__ import annotations

import random
from typing import Any, Iterator, List

import pytest
from rasa.core.policies.rule_policy import RULES, RulePolicy

from tests.support.bot import load_trained_agent
from vraagbaak.adapters.rasa_patches import rules


@pytest.fixture(scope="module")
def policy() -> Iterator[RulePolicy]:
    nodes = load_trained_agent().processor.graph_runner._instantiated_nodes.values()
    yield next(node._component for node in nodes if isinstance(node._component, RulePolicy))


def conversations(policy: RulePolicy, count: int = 400) -> List[List[Any]]:
    """State histories made of the model's own rules run together, and of their states shuffled, so that some
    rules match, some match only in their last state, and others do not match at all."""
    known = [policy._rule_key_to_state(key) for key in policy.lookup[RULES]]
    states = [state for rule in known for state in rule]
    rng = random.Random(5)
    whole = [[s for _ in range(rng.randint(1, 6)) for s in rng.choice(known)] for _ in range(count)]
    shuffled = [[rng.choice(states) for _ in range(rng.randint(1, 12))] for _ in range(count)]
    return whole + shuffled


def one_state_short(policy: RulePolicy, lookup: dict, states: List[Any]) -> set:
    """A wrong shortcut (mutation): stops one state before the longest rule still in the running ends."""
    keys = set(lookup)
    for turn, state in enumerate(reversed(states)):
        if turn + 1 >= max((len(policy._rule_key_to_state(key)) for key in keys), default=0):
            break
        keys = {key for key in keys if policy._is_rule_applicable(key, turn, state)}
    return keys


@pytest.mark.model
def test_the_short_lookup_finds_the_same_rules_as_rasas_on_every_history(policy: RulePolicy) -> None:
    lookup = policy.lookup[RULES]
    histories = conversations(policy)
    found = [rules.get_possible_keys(policy, lookup, states) for states in histories]
    assert found == [rules._rasa_get_possible_keys(policy, lookup, states) for states in histories]
    assert sum(bool(keys) for keys in found) > 50, "the histories must let rules match"
    # The histories tell a wrong shortcut apart: stopping one state too early finds other rules.
    assert any(one_state_short(policy, lookup, s) != keys for s, keys in zip(histories, found, strict=True))


def test_the_launcher_patch_replaces_and_restores_rasas_lookup() -> None:
    rules.PATCH.install()
    assert RulePolicy._get_possible_keys is rules.get_possible_keys
    rules.PATCH.uninstall()
    assert RulePolicy._get_possible_keys is rules._rasa_get_possible_keys
