"""Actions run with the real domain and a JSON tracker, as the action server would run them."""
from __future__ import annotations

from typing import Any, Dict

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions import actions
from vraagbaak.core.knowledge_base import KnowledgeBase


def tracker_from(tracker_dict: Dict[str, Any]) -> Tracker:
    return Tracker.from_dict(tracker_dict)


def test_every_domain_action_is_implemented(domain) -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(domain["actions"]) <= set(executor.actions)


async def test_answer_action_sends_official_answer_and_sets_options(
    kb: KnowledgeBase, tracker_dict, domain
) -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionAnswerFaq().run(dispatcher, tracker_from(tracker_dict), domain)
    assert dispatcher.messages[0]["text"] == kb.by_id("pooiers").answer_text
    assert dispatcher.messages[0]["custom"] == {"vraagbaak": {"onderwerp": "pooiers", "officieel": True}}
    assert len(dispatcher.messages[1]["buttons"]) == 3
    assert events == [
        {
            "event": "slot",
            "timestamp": None,
            "name": "aangeboden_keuzes",
            "value": list(kb.by_id("pooiers").related),
        }
    ]


async def test_choose_action_uses_the_offered_options(kb: KnowledgeBase, tracker_dict, domain) -> None:
    tracker_dict["slots"]["aangeboden_keuzes"] = ["belgie", "kritiek"]
    tracker_dict["latest_message"] = {"text": "2", "intent": {"name": "keuze_nummer", "confidence": 1.0}}
    dispatcher = CollectingDispatcher()
    await actions.ActionChooseOption().run(dispatcher, tracker_from(tracker_dict), domain)
    assert dispatcher.messages[0]["text"] == kb.by_id("kritiek").answer_text


async def test_forget_action_confirms_and_restarts(kb: KnowledgeBase, tracker_dict, domain) -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionForgetConversation().run(dispatcher, tracker_from(tracker_dict), domain)
    assert dispatcher.messages[0]["text"] == kb.message("vergeten")
    assert [e["event"] for e in events] == ["restart"]


@pytest.mark.parametrize(
    "action, key",
    [
        (actions.ActionSafePath, "nood"),
        (actions.ActionGreet, "groet"),
        (actions.ActionOtherLanguage, "andere_taal"),
        (actions.ActionDefaultFallback, "onbekende_knop"),
        (actions.ActionAmIABot, "bot"),
    ],
)
async def test_message_actions_send_their_knowledge_base_text(kb, tracker_dict, domain, action, key) -> None:
    dispatcher = CollectingDispatcher()
    await action().run(dispatcher, tracker_from(tracker_dict), domain)
    assert dispatcher.messages[0]["text"] == kb.message(key)


async def test_the_fallback_replies_once_then_waits_for_the_user(kb, tracker_dict, domain) -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionDefaultFallback().run(dispatcher, tracker_from(tracker_dict), domain)
    assert [m["text"] for m in dispatcher.messages] == [kb.message("onbekende_knop")]
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}


def test_safe_path_text_names_112_and_says_the_bot_cannot_call(kb: KnowledgeBase) -> None:
    text = kb.message("nood")
    assert "112" in text and "geen hulp bellen" in text
