"""The turn gate: at most N messages at once per process, the rest in arrival order, a bounded queue."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import List

import pytest

from vraagbaak.adapters import turns
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


async def test_in_turn_passes_the_message_and_the_result() -> None:
    seen = []

    async def on_new_message(message: str) -> str:
        seen.append(message)
        return message.upper()

    assert await turns.in_turn(on_new_message)("hallo") == "HALLO"  # type: ignore[arg-type]
    assert seen == ["hallo"]


@pytest.mark.parametrize("value", ["0", "-1", "veel"])
def test_the_setting_refuses_nonsense(value: str) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({"VRAAGBAAK_TURNS_AT_ONCE": value})


def test_the_setting_defaults_to_a_few() -> None:
    assert Settings.from_env({}).turns_at_once == 4


async def test_a_refused_message_gets_the_dutch_apology_on_its_own_channel() -> None:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from vraagbaak.core.knowledge_base import knowledge_base

    turns._gates[asyncio.get_running_loop()] = turns.TurnGate(1, max_waiting=0)
    release = asyncio.Event()
    handled: List[str] = []

    async def on_new_message(message: UserMessage) -> None:
        handled.append(message.text or "")
        await release.wait()

    handle = turns.in_turn(on_new_message)
    first = asyncio.ensure_future(handle(UserMessage("eerste", CollectingOutputChannel(), "rest:a")))
    await asyncio.sleep(0)
    refused = CollectingOutputChannel()
    assert await handle(UserMessage("tweede", refused, "rest:b")) is None
    assert handled == ["eerste"]  # the refused message never reached the bot
    assert [m["text"] for m in refused.messages] == [knowledge_base().message("technisch_probleem")]
    assert refused.messages[0]["recipient_id"] == "rest:b"
    release.set()
    await first


async def test_every_message_the_agent_handles_waits_for_a_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    # Patched on Rasa's Agent, so every channel (and any added later) shares the one queue.
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    running, most = 0, 0

    async def handle_message(self: Agent, message: UserMessage) -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return message.text or ""

    monkeypatch.setattr(Agent, "handle_message", handle_message)
    monkeypatch.delattr(Agent, "vraagbaak_turns", raising=False)
    turns._gates[asyncio.get_running_loop()] = turns.TurnGate(2)
    turns.install_turn_gate()
    agent = Agent()
    texts = [f"vraag {n}" for n in range(10)]
    replies = await asyncio.gather(
        *(agent.handle_message(UserMessage(text, CollectingOutputChannel(), "a")) for text in texts)
    )
    assert replies == texts
    assert most == 2


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
        "from vraagbaak.adapters import event_types, graph_runner\n"
        "from vraagbaak.adapters.nlu import inference, training_input\n"
        "from rasa.utils.tensorflow.models import RasaModel\n"
        "from rasa.core.policies.rule_policy import RulePolicy\n"
        "from rasa.shared.core.domain import Domain\n"
        "from vraagbaak.adapters import domain_empty, rules\n"
        "from vraagbaak.adapters.nlu import sparse_join\n"
        "from rasa.shared.nlu.training_data.features import Features\n"
        "print(getattr(Agent, 'vraagbaak_turns', False), getattr(RemoteAction, 'vraagbaak_lean', False),\n"
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
