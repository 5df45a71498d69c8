"""Rasa's rule lookup, stopped once it has looked further back than any rule still in the running reaches.

Why: RulePolicy filters its rule keys against every state of the conversation, newest first, although a rule
of n states can only fail at the last n: from there on every key passes, for every older state. The filter
therefore gives the same keys when it stops at the longest remaining rule; with 60 rules of 1-2 states and a
stored conversation of some 20 states, that skips most of the ~1,200 checks per prediction.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Set

from rasa.core.policies.rule_policy import RulePolicy

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement

_rasa_get_possible_keys: Callable[..., Set[str]] = RulePolicy._get_possible_keys


def get_possible_keys(policy: RulePolicy, lookup: Dict[str, str], states: List[Any]) -> Set[str]:
    """The rule keys whose states all match the conversation's last states, as Rasa's `_get_possible_keys`."""
    possible_keys = set(lookup.keys())
    for turn, state in enumerate(reversed(states)):
        if turn >= max((len(policy._rule_key_to_state(key)) for key in possible_keys), default=0):
            break  # every remaining rule is shorter than this: each passes here and at every older state
        possible_keys = {key for key in possible_keys if policy._is_rule_applicable(key, turn, state)}
    return possible_keys


PATCH = Patch(
    name="rules",
    why="The rules are one or two states long; Rasa matched them against every stored state, twice a message.",
    proof="tests/adapters/test_rules.py",
    replacements=lambda settings: [Replacement(RulePolicy, "_get_possible_keys", get_possible_keys)],
)
