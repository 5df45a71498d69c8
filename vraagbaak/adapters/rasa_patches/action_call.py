"""Lean calls from Rasa to the action server: a trimmed tracker, one kept-alive connection, a compiled check.

Rasa 3.6 sends the whole tracker and the whole domain with every action call, opens a new HTTP connection for
each, and compiles the JSON schema of the answer anew every time. The actions read only the latest message,
the slots and the question of the turn before, so that is what they get.
"""
from __future__ import annotations

import asyncio
import copy
import functools
from typing import Any, Dict, List, Tuple

import aiohttp
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings

# The actions read the latest message and, for "Geen van deze", the question one turn before it.
SENT_USER_TURNS = 2
# Below Sanic's keep-alive timeout (5 s), so Rasa never reuses a connection the action server just closed.
KEEP_ALIVE_SECONDS = 3.0


def action_call(
    action_name: str, tracker: DialogueStateTracker, domain: Domain | None = None
) -> Dict[str, Any]:
    """The request body for the action server: the tracker's state with only the last user turns."""
    state = tracker.current_state(EventVerbosity.NONE)
    events = list(tracker.events)
    user_turns = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    first = user_turns[-SENT_USER_TURNS] if len(user_turns) >= SENT_USER_TURNS else 0
    state["events"] = [event.as_dict() for event in events[first:]]
    call: Dict[str, Any] = {
        "next_action": action_name,
        "sender_id": tracker.sender_id,
        "tracker": state,
        "version": rasa.__version__,
    }
    # Only an action the domain marks with `send_domain: true` gets the domain (none does today).
    if domain is not None and domain.does_custom_action_explicitly_need_domain(action_name):
        call["domain"] = domain.as_dict()
    return call


class _OpenSession:
    """`async with` on a shared session that leaves it open for the next call."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


# One session per event loop and action server URL: aiohttp sessions belong to the loop that made them.
_SESSIONS: Dict[Tuple[int, str], aiohttp.ClientSession] = {}


class KeepAliveEndpointConfig(EndpointConfig):
    """An action endpoint whose requests reuse open connections instead of opening one per call."""

    def session(self) -> Any:
        key = (id(asyncio.get_running_loop()), str(self.url))
        session = _SESSIONS.get(key)
        if session is None or session.closed:
            auth = aiohttp.BasicAuth(**self.basic_auth) if self.basic_auth else None
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
            )
            _SESSIONS[key] = session
        return _OpenSession(session)


def keep_alive(endpoint: EndpointConfig | None) -> EndpointConfig | None:
    """The same endpoint, with kept-alive connections."""
    if endpoint is None or isinstance(endpoint, KeepAliveEndpointConfig):
        return endpoint
    return KeepAliveEndpointConfig(
        endpoint.url,
        endpoint.params,
        endpoint.headers,
        endpoint.basic_auth,
        endpoint.token,
        endpoint.token_name,
        endpoint.cafile,
        **endpoint.kwargs,
    )


class AnswerCheck:
    """Rasa's JSON schema for the action server's answer, with each event checked against its own type only.

    Why: the schema lists one branch per event type under `oneOf`, so every event is tried against all 23 of
    them. Each branch pins its own `event` name, so only the branch of that name can match, and checking just
    that one accepts exactly what the `oneOf` accepts. An answer this does not accept goes through the full
    schema, which raises Rasa's own error.
    """

    def __init__(self, schema: Dict[str, Any]) -> None:
        from jsonschema.validators import validator_for

        validator = validator_for(schema)
        validator.check_schema(schema)
        self._full = validator(schema)
        event = schema["properties"]["events"]["items"]
        branches = {branch["properties"]["event"]["const"]: branch for branch in event["oneOf"]}
        if len(branches) != len(event["oneOf"]):
            raise ValueError("twee takken van het schema met dezelfde gebeurtenisnaam")
        shape = copy.deepcopy(schema)
        del shape["properties"]["events"]["items"]["oneOf"]
        self._shape = validator(shape)
        self._by_event = {name: validator(branch) for name, branch in branches.items()}

    def accepts(self, answer: Any) -> bool:
        """Whether the answer is valid, looking at each event's own branch only."""
        if not self._shape.is_valid(answer):
            return False
        for event in answer.get("events") or []:
            branch = self._by_event.get(event["event"])
            if branch is None or not branch.is_valid(event):
                return False
        return True

    def validate(self, answer: Any) -> None:
        """Raise Rasa's `jsonschema.ValidationError` for an invalid answer, as Rasa's own check does."""
        if not self.accepts(answer):
            self._full.validate(answer)


@functools.lru_cache(maxsize=1)
def answer_check() -> AnswerCheck:
    """The check for Rasa's answer schema, built once per process."""
    return AnswerCheck(RemoteAction.action_response_format_spec())


def _replacements(settings: Settings) -> List[Replacement]:
    original_init = RemoteAction.__init__

    def init(self: RemoteAction, name: str, action_endpoint: EndpointConfig | None) -> None:
        original_init(self, name, keep_alive(action_endpoint))

    def call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> Dict[str, Any]:
        return action_call(self.name(), tracker, domain)

    def validate(self: RemoteAction, result: Dict[str, Any]) -> bool:
        # Same schema and same error as Rasa's check; the schema itself is checked once, not per answer.
        answer_check().validate(result)
        return True

    return [
        Replacement(RemoteAction, "__init__", init),
        Replacement(RemoteAction, "_action_call_format", call_format),
        Replacement(RemoteAction, "_validate_action_result", validate),
    ]


PATCH = Patch(
    name="action_call",
    why="A trimmed tracker over a kept-alive connection: the action call costs the same at every turn.",
    proof="tests/adapters/test_action_call.py",
    replacements=_replacements,
)
