"""The ordered graph runner gives exactly Rasa's Dask runner's results, on a toy graph and on the trained model."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema, SchemaNode

from tests.support.bot import MODEL
from vraagbaak.adapters.rasa_patches import graph_runner
from vraagbaak.adapters.rasa_patches.graph_runner import OrderedGraphRunner, run_order
from vraagbaak.core.paths import TESTS_DIR
from vraagbaak.evaluation import offline as ev


def schema(needs: Dict[str, Dict[str, str]]) -> GraphSchema:
    """A schema whose nodes only say what they need (run_order reads nothing else)."""
    return GraphSchema(
        {
            name: SchemaNode(needs=n, uses=object, constructor_name="create", fn="run", config={})
            for name, n in needs.items()
        }
    )


TOY = schema(
    {
        "tokens": {"messages": "__message__"},
        "words": {"messages": "tokens"},
        "chars": {"messages": "tokens"},
        "classify": {"a": "words", "b": "chars"},
        "unused": {"messages": "tokens"},
    }
)


def test_every_node_comes_after_what_it_needs_and_only_needed_nodes_run() -> None:
    order = run_order(TOY, ["classify"])
    names = [name for name, _ in order]
    assert names == ["tokens", "words", "chars", "classify"]
    assert dict(order)["classify"] == ("words", "chars")


def test_a_cycle_is_refused() -> None:
    with pytest.raises(GraphRunError, match="kring"):
        run_order(schema({"a": {"x": "b"}, "b": {"x": "a"}}), ["a"])


def test_several_targets_share_the_nodes_they_both_need() -> None:
    names = [name for name, _ in run_order(TOY, ["classify", "unused"])]
    assert names == ["tokens", "words", "chars", "classify", "unused"]


class FakeNode:
    """Records its calls and returns (name, what it got), as a GraphNode returns (name, output)."""

    def __init__(self, name: str, calls: List[str]) -> None:
        self.name, self.calls = name, calls

    def __call__(self, *inputs: Tuple[str, Any]) -> Tuple[str, Any]:
        self.calls.append(self.name)
        return self.name, [value for _, value in inputs]


def toy_runner(calls: List[str]) -> OrderedGraphRunner:
    runner = OrderedGraphRunner.__new__(OrderedGraphRunner)
    runner._graph_schema = TOY
    runner._instantiated_nodes = {name: FakeNode(name, calls) for name in TOY.nodes}  # type: ignore[misc]
    runner._plans = {}
    return runner


def test_the_toy_graph_runs_once_per_node_with_the_outputs_of_its_needs() -> None:
    calls: List[str] = []
    result = toy_runner(calls).run({"__message__": "hoi"}, ["classify"])
    assert calls == ["tokens", "words", "chars", "classify"]
    assert result == {"classify": [[["hoi"]], [["hoi"]]]}


def test_an_input_named_like_a_node_is_refused_as_rasa_does() -> None:
    with pytest.raises(GraphRunError, match="dezelfde naam"):
        toy_runner([]).run({"__message__": "hoi", "tokens": "x"}, ["classify"])


def test_a_missing_input_or_a_wrong_plan_is_refused_not_run_with_placeholders() -> None:
    with pytest.raises(GraphRunError, match="mist invoer"):
        toy_runner([]).run({}, ["classify"])
    # Mutation: a plan with a node before what it needs must fail, not pass node names along as values.
    runner = toy_runner([])
    runner._plans[("classify",)] = list(reversed(run_order(TOY, ["classify"])))
    with pytest.raises(GraphRunError, match="mist invoer"):
        runner.run({"__message__": "hoi"}, ["classify"])


@pytest.fixture(scope="module")
def agents() -> Iterator[Tuple[Any, Any]]:
    """The trained model loaded twice: with Rasa's Dask runner and with the ordered runner."""
    from rasa.core.agent import Agent

    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    graph_runner.PATCH.uninstall()
    dask_agent = Agent.load(str(MODEL))
    graph_runner.PATCH.install()
    try:
        ordered_agent = Agent.load(str(MODEL))
    finally:
        graph_runner.PATCH.uninstall()
    assert type(dask_agent.processor.graph_runner).__name__ == "DaskGraphRunner"
    assert isinstance(ordered_agent.processor.graph_runner, OrderedGraphRunner)
    yield dask_agent, ordered_agent


QUESTIONS = [text for text, _ in ev.load_nlu_examples(TESTS_DIR / "test_nlu.yml")][::4]


@pytest.mark.model
def test_the_trained_model_parses_every_held_out_question_identically(agents: Tuple[Any, Any]) -> None:
    loop = asyncio.new_event_loop()
    try:
        for text in QUESTIONS:
            dask_result, ordered_result = (loop.run_until_complete(a.parse_message(text)) for a in agents)
            assert json.dumps(ordered_result, sort_keys=True, default=str) == json.dumps(
                dask_result, sort_keys=True, default=str
            )
    finally:
        loop.close()


@pytest.mark.model
def test_the_rules_predict_the_same_actions_with_the_same_confidences(agents: Tuple[Any, Any]) -> None:
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    loop = asyncio.new_event_loop()
    try:
        dask_agent = agents[0]
        for text in QUESTIONS[:20]:
            parse_data = loop.run_until_complete(dask_agent.parse_message(text))
            events = [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
            ]
            events.append(UserUttered(text, parse_data["intent"], [], parse_data))
            predicted = []
            for agent in agents:
                tracker = DialogueStateTracker.from_events("t", events, slots=agent.domain.slots)
                first = agent.processor._predict_next_with_tracker(tracker)
                tracker.update(ActionExecuted(agent.domain.action_names_or_texts[first.max_confidence_index]))
                second = agent.processor._predict_next_with_tracker(tracker)
                predicted.append(
                    [(p.max_confidence_index, p.policy_name, list(p.probabilities)) for p in (first, second)]
                )
            assert predicted[0] == predicted[1], text
            listen = dask_agent.domain.index_for_action("action_listen")
            # A real turn: first a reply action, then back to listening.
            assert predicted[1][0][0] != listen and predicted[1][1][0] == listen, text
    finally:
        loop.close()
