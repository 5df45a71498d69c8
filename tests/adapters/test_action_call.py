"""The action server gets a trimmed tracker, no domain, over one kept-alive connection; answers are still checked."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, List

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

from actions import actions
from tests.support.trackers import long_session
from vraagbaak.adapters.rasa_patches import action_call
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.insights import unanswered_text
from vraagbaak.ops.processes import (
    action_server_arguments,
    free_port,
    launcher_command,
    start_process,
    stop_processes,
    wait_for,
)


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_DIR / "domain.yml"))


@pytest.fixture(autouse=True, scope="module")
def lean_calls() -> None:
    action_call.PATCH.install()


def test_a_300_turn_conversation_sends_only_the_last_two_turns_and_no_domain(rasa_domain: Domain) -> None:
    events = long_session(300, slot_every=7)
    tracker = DialogueStateTracker.from_events("a", events, slots=rasa_domain.slots)
    body = RemoteAction(
        "action_geen_van_deze", EndpointConfig("http://127.0.0.1:1/webhook")
    )._action_call_format(tracker, rasa_domain)
    assert "domain" not in body
    sent = body["tracker"]["events"]
    assert [e["text"] for e in sent if e["event"] == "user"] == ["vraag 298", "vraag 299"]
    assert len(sent) < 15
    assert body["tracker"]["slots"][actions.OPTIONS_SLOT] == ["onderwerp-294"]
    assert body["tracker"]["latest_message"]["text"] == "vraag 299"
    # What the action server builds from it still gives insights the question asked one turn before.
    sdk_tracker = Tracker.from_dict(body["tracker"])
    assert unanswered_text(Outcome.NONE_OF_THESE, sdk_tracker) == "vraag 298"
    # The full state Rasa would have sent is more than 30 times larger.
    full = tracker.current_state()
    full_events = [e.as_dict() for e in tracker.events]
    assert len(json.dumps(body)) * 30 < len(json.dumps({**full, "events": full_events}))


def test_answers_are_still_checked_against_rasas_schema() -> None:
    action = RemoteAction("action_groet", None)
    assert action._validate_action_result({"events": [], "responses": [{"text": "hallo"}]})
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result({"events": [{"event": "geen-bestaand-event"}]})


USER = {"event": "user", "text": "hoi", "parse_data": {"intent": {"name": "groet", "confidence": 0.9}}}
SLOT = {"event": "slot", "name": "vorige_vraag", "value": "faq_rapport", "timestamp": None}
BOT = {"event": "bot", "text": "Hallo!", "data": {"buttons": [{"title": "Ja", "payload": "/ja"}]}}


@pytest.mark.parametrize(
    "answer",
    [
        {"events": [], "responses": [{"text": "hallo"}]},
        {"events": [SLOT, BOT, {"event": "action", "name": "action_listen"}], "responses": []},
        {"events": [USER, {"event": "followup", "name": "action_antwoord"}]},
        {},
        # Wrong: an unknown event, a field of the wrong type, an event without its name, not an object at all.
        {"events": [{"event": "geen-bestaand-event"}]},
        {"events": [{**SLOT, "name": 3}]},
        {"events": [{**BOT, "text": ["Hallo!"]}]},
        {"events": [{"name": "action_listen"}]},
        {"events": {"event": "bot"}},
        {"events": [BOT], "responses": "hallo"},
        ["events"],
        {"events": [{**USER, "parse_data": {"intent": {"name": 1}}}]},
    ],
)
def test_the_per_event_check_accepts_exactly_what_rasas_full_schema_accepts(answer: Any) -> None:
    schema = RemoteAction.action_response_format_spec()
    full = jsonschema.validators.validator_for(schema)(schema)
    check = action_call.answer_check()
    assert check.accepts(answer) == full.is_valid(answer)
    if full.is_valid(answer):
        check.validate(answer)
    else:
        with pytest.raises(jsonschema.ValidationError) as raised:
            check.validate(answer)
        assert raised.value.message == next(iter(full.iter_errors(answer))).message


def test_a_schema_whose_branches_share_an_event_name_is_refused() -> None:
    schema = RemoteAction.action_response_format_spec()
    branches = schema["properties"]["events"]["items"]["oneOf"]
    branches.append(branches[0])
    with pytest.raises(ValueError):
        action_call.AnswerCheck(schema)


def client_sockets() -> List[Any]:
    """Local addresses of the kept-alive connections to the action server."""
    return [
        proto.transport.get_extra_info("sockname")
        for session in action_call._SESSIONS.values()
        for conns in session.connector._conns.values()  # type: ignore[union-attr]
        for proto, _ in conns
    ]


@pytest.mark.servers
async def test_calls_to_the_real_action_server_reuse_one_connection(
    rasa_domain: Domain, tmp_path: Path
) -> None:
    port = free_port()
    server = start_process(launcher_command(action_server_arguments(port)), tmp_path / "actions.log")
    try:
        await asyncio.to_thread(wait_for, f"http://127.0.0.1:{port}/health", server)
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        tracker = DialogueStateTracker.from_events("a", long_session(5), slots=rasa_domain.slots)
        nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
        seen = []
        for _ in range(3):
            result = await RemoteAction("action_groet", endpoint).run(
                CollectingOutputChannel(), nlg, tracker, rasa_domain
            )
            assert isinstance(result[0], BotUttered) and result[0].text
            seen += client_sockets()
        assert len(seen) == 3 and len(set(seen)) == 1  # the same client socket every time
    finally:
        for session in list(action_call._SESSIONS.values()):
            await session.close()
        action_call._SESSIONS.clear()
        stop_processes([server])
