"""The turn gate: at most N messages at once per process, the rest in arrival order, a bounded queue; and
the fair order: a conversation's waiting messages hold no shared turn."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any, Awaitable, Callable, Dict, List, Set

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore

from vraagbaak.adapters import conversation_queue as queue
from vraagbaak.adapters import turns
from vraagbaak.adapters.rasa_patches import patch, turn_gate
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import ConfigError, Settings


async def crowd(gate: turns.TurnGate, count: int) -> tuple[int, List[int]]:
    """Start `count` messages at once; the most that ran together and the order in which they started."""
    running, most, started = 0, 0, []

    async def message(number: int) -> int:
        async def work() -> int:
            nonlocal running, most
            running += 1
            most = max(most, running)
            started.append(number)
            await asyncio.sleep(0.01)
            running -= 1
            return number

        return await gate.run(work)

    results = await asyncio.gather(*(message(n) for n in range(count)))
    assert results == list(range(count))
    return most, started


@pytest.mark.parametrize("at_once", [1, 2, 4])
async def test_no_more_than_the_allowed_messages_run_at_once(at_once: int) -> None:
    most, _ = await crowd(turns.TurnGate(at_once), 12)
    assert most == at_once


async def test_waiting_messages_start_in_arrival_order() -> None:
    _, started = await crowd(turns.TurnGate(2), 10)
    assert started == list(range(10))


async def test_the_crowd_check_can_fail_without_a_gate() -> None:
    # Mutation: a gate wide enough to let everyone in shows all 12 at once, so the limit test above can fail.
    most, _ = await crowd(turns.TurnGate(100), 12)
    assert most == 12


async def test_too_many_waiting_messages_are_refused_at_once() -> None:
    gate = turns.TurnGate(1, max_waiting=2)
    release = asyncio.Event()

    async def hold() -> None:
        await release.wait()

    first = asyncio.ensure_future(gate.run(hold))
    waiting = [asyncio.ensure_future(gate.run(hold)) for _ in range(2)]
    await asyncio.sleep(0)
    assert gate.waiting == 2
    with pytest.raises(turns.TurnQueueFull):
        await gate.run(hold)
    release.set()
    await asyncio.gather(first, *waiting)
    assert gate.waiting == 0
    assert not gate.semaphore.locked()


async def test_a_failing_message_gives_its_turn_back() -> None:
    gate = turns.TurnGate(1)

    async def broken() -> None:
        raise ValueError("kapot")

    with pytest.raises(ValueError):
        await gate.run(broken)
    assert not gate.semaphore.locked()


async def test_the_gate_takes_its_size_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VRAAGBAAK_TURNS_AT_ONCE", "3")
    most, _ = await crowd(turns.gate(), 9)
    assert most == 3
    assert turns.gate() is turns.gate()


def test_each_event_loop_gets_its_own_gate() -> None:
    async def current() -> turns.TurnGate:
        return turns.gate()

    first = asyncio.run(current())
    second = asyncio.run(current())
    assert first is not second


@pytest.mark.parametrize("value", ["0", "-1", "veel"])
def test_the_setting_refuses_nonsense(value: str) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({"VRAAGBAAK_TURNS_AT_ONCE": value})


def test_the_setting_defaults_to_a_few() -> None:
    assert Settings.from_env({}).turns_at_once == 4


class Processor:
    """Stands in for Rasa's MessageProcessor: records each message and holds it until told to go on."""

    def __init__(self, hold: Set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.hold = hold
        self.release = asyncio.Event()
        self.started: List[str] = []
        self.finished: List[str] = []

    async def handle_message(self, message: UserMessage) -> List[Dict[str, Any]]:
        self.started.append(message.text or "")
        if message.sender_id in self.hold:
            await self.release.wait()
        self.finished.append(message.text or "")
        return [{"text": message.text}]


def ready_agent(processor: Processor, at_once: int) -> Agent:
    """An Agent with Rasa's in-memory lock store and a fresh gate of `at_once` turns for this loop."""
    agent = Agent(lock_store=InMemoryLockStore())
    agent.processor = processor  # type: ignore[assignment]
    turns._gates[asyncio.get_running_loop()] = turns.TurnGate(at_once)
    queue._queues[asyncio.get_running_loop()] = queue.ConversationQueues()
    return agent


def message(text: str, sender: str, channel: CollectingOutputChannel | None = None) -> UserMessage:
    return UserMessage(text, channel or CollectingOutputChannel(), sender)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def rasa_order(agent: Agent, user_message: UserMessage) -> Any:
    """Rasa's own order, as before this change: a shared turn first, the conversation's lock inside it."""

    async def work() -> Any:
        async with agent.lock_store.lock(user_message.sender_id, wait_time_in_seconds=0.01):
            return await agent.processor.handle_message(user_message)  # type: ignore[union-attr]

    return await turns.gate().run(work)


async def burst_then_bystander(agent: Agent, handle: Callable[[Agent, UserMessage], Awaitable[Any]]) -> bool:
    """Four messages of one conversation at once (the first one hangs), then a bystander's: did it finish?"""
    flood = [asyncio.ensure_future(handle(agent, message(f"vloed {n}", "rest:vloed"))) for n in range(4)]
    await settle()
    bystander = asyncio.ensure_future(handle(agent, message("omstander", "rest:omstander")))
    await asyncio.sleep(0.1)
    answered = bystander.done()
    agent.processor.release.set()  # type: ignore[union-attr]
    await asyncio.gather(*flood, bystander)
    return answered


async def test_waiting_messages_of_one_conversation_hold_no_shared_turn() -> None:
    processor = Processor(hold={"rest:vloed"})
    agent = ready_agent(processor, at_once=2)
    assert await burst_then_bystander(agent, turns.handle_in_turn)
    assert processor.finished[0] == "omstander"  # before every message of the burst


async def test_the_bystander_check_can_fail_in_rasas_own_order() -> None:
    # Mutation: with the lock taken inside the shared turn, the burst's waiting messages fill both turns and
    # the bystander is not answered while the first message hangs.
    processor = Processor(hold={"rest:vloed"})
    agent = ready_agent(processor, at_once=2)
    assert not await burst_then_bystander(agent, rasa_order)


async def test_a_conversations_messages_are_handled_one_at_a_time_in_order() -> None:
    processor = Processor()
    agent = ready_agent(processor, at_once=4)
    replies = await asyncio.gather(
        *(turns.handle_in_turn(agent, message(f"vraag {n}", "rest:a")) for n in range(4))
    )
    assert [r[0]["text"] for r in replies] == [f"vraag {n}" for n in range(4)]
    assert processor.started == [f"vraag {n}" for n in range(4)]


async def test_past_the_conversations_cap_the_dutch_one_at_a_time_reply_and_no_model_work(kb: Any) -> None:
    processor = Processor(hold={"rest:a"})
    agent = ready_agent(processor, at_once=4)
    kept = [
        asyncio.ensure_future(turns.handle_in_turn(agent, message(f"vraag {n}", "rest:a"))) for n in range(4)
    ]
    await settle()
    refused = CollectingOutputChannel()
    assert await turns.handle_in_turn(agent, message("vijfde", "rest:a", refused)) is None
    assert "vijfde" not in processor.started
    assert [m["text"] for m in refused.messages] == [kb.message("een_bericht_tegelijk")]
    assert refused.messages[0]["recipient_id"] == "rest:a"
    # The quick exit still gets in line, past the cap.
    forget = asyncio.ensure_future(turns.handle_in_turn(agent, message("/gesprek_vergeten", "rest:a")))
    await settle()
    processor.release.set()
    await asyncio.gather(*kept, forget)
    assert processor.finished[-1] == "/gesprek_vergeten"


async def test_a_full_process_gives_the_technical_problem_reply(kb: Any) -> None:
    processor = Processor(hold={"rest:a"})
    agent = ready_agent(processor, at_once=1)
    turns._gates[asyncio.get_running_loop()] = turns.TurnGate(1, max_waiting=0)
    first = asyncio.ensure_future(turns.handle_in_turn(agent, message("eerste", "rest:a")))
    await settle()
    refused = CollectingOutputChannel()
    assert await turns.handle_in_turn(agent, message("tweede", "rest:b", refused)) is None
    assert processor.started == ["eerste"]  # the refused message never reached the bot
    assert [m["text"] for m in refused.messages] == [kb.message("technisch_probleem")]
    processor.release.set()
    await first


async def test_an_agent_without_a_model_ignores_the_message() -> None:
    assert await turns.handle_in_turn(Agent(), message("hallo", "rest:a")) is None


async def test_every_message_the_agent_handles_goes_through_the_fair_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Patched on Rasa's Agent, so every channel (and any added later) shares the one queue.
    monkeypatch.setattr(Agent, "handle_message", Agent.handle_message)
    monkeypatch.setattr(patch, "REGISTRY", patch.Registry())  # installed here, whatever ran before
    turn_gate.PATCH.install()
    processor = Processor(hold={"rest:vloed"})
    agent = ready_agent(processor, at_once=2)
    assert await burst_then_bystander(agent, Agent.handle_message)


def test_the_rasa_launcher_installs_the_gate_and_its_other_start_up_patches() -> None:
    # In a process of its own: the patches are process-wide and would change the other tests' Rasa.
    check = (
        "import rasa.__main__, sys\n"
        "rasa.__main__.main = lambda: None\n"
        "from vraagbaak.ops import launcher\n"
        "launcher.run_rasa_cli([])\n"
        "from rasa.core.agent import Agent\n"
        "from rasa.core.actions.action import RemoteAction\n"
        "from rasa.shared.core.events import Event\n"
        "import rasa.core.processor\n"
        "from keras.engine import data_adapter\n"
        "from vraagbaak.adapters.rasa_patches import action_call, event_types, graph_runner, turn_gate\n"
        "from vraagbaak.adapters.rasa_patches import inference, training_input\n"
        "from rasa.utils.tensorflow.models import RasaModel\n"
        "from rasa.core.policies.rule_policy import RulePolicy\n"
        "from rasa.shared.core.domain import Domain\n"
        "from vraagbaak.adapters.rasa_patches import domain_empty, rules\n"
        "from vraagbaak.adapters.rasa_patches import sparse_join\n"
        "from rasa.shared.nlu.training_data.features import Features\n"
        "print(turn_gate.PATCH.installed, RemoteAction._action_call_format.__module__ == action_call.__name__,\n"
        "      Event.resolve_by_type is event_types.resolve_by_type,\n"
        "      rasa.core.processor.DaskGraphRunner is graph_runner.OrderedGraphRunner,\n"
        "      data_adapter.GeneratorDataAdapter.get_dataset is training_input.get_dataset,\n"
        "      RasaModel._rasa_predict is inference.rasa_predict,\n"
        "      RulePolicy._get_possible_keys is rules.get_possible_keys, Domain.is_empty is domain_empty.is_empty,\n"
        "      Features._combine_sparse_features is sparse_join.combine_sparse_features)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.split() == ["True"] * 9, done.stderr[-2000:]
