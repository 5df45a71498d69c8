"""Custom actions: each one asks vraagbaak.core.replies for a Reply and sends it."""
from __future__ import annotations

import abc
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from vraagbaak import insights
from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import OPTIONS_SLOT, Outcome


def send(
    dispatcher: CollectingDispatcher, reply: replies.Reply, tracker: Tracker | None = None
) -> List[EventType]:
    """Send a Reply, count its outcome for the staff insights, and remember its options for typed numbers."""
    for message in reply.messages:
        dispatcher.utter_message(
            text=message.get("text"), buttons=message.get("buttons", []), json_message=message.get("custom")
        )
    insights.record_reply(reply, tracker)  # never raises; reads user text only in opt-in mode
    return [SlotSet(OPTIONS_SLOT, reply.options)] if reply.options is not None else []


class ReplyAction(Action, abc.ABC):
    """Base class: subclasses only say which Reply to build."""

    @abc.abstractmethod
    def reply(self, tracker: Tracker) -> replies.Reply:
        """The Reply for this turn."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Build and send the reply."""
        return send(dispatcher, self.reply(tracker), tracker)


class MessageAction(ReplyAction):
    """Sends one editable bot message from the knowledge base."""

    action_name: str
    outcome: Outcome

    @property
    @abc.abstractmethod
    def message_key(self) -> str:
        """Key of the message in the knowledge base."""

    def name(self) -> str:
        """Rasa action name."""
        return self.action_name

    def reply(self, tracker: Tracker) -> replies.Reply:
        """The knowledge-base message."""
        return replies.text_reply(knowledge_base(), self.message_key, self.outcome)


class ActionAnswerFaq(ReplyAction):
    """Answers any FAQ intent with its official text and related questions."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_beantwoord_faq"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """Official answer for the latest intent."""
        return replies.answer_intent(knowledge_base(), tracker.get_intent_of_latest_message())


class ActionShowMenu(ReplyAction):
    """Lists all topics."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_toon_menu"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """The menu."""
        return replies.menu(knowledge_base())


class ActionClarify(ReplyAction):
    """Handles low confidence: bad input, 'Bedoelde je…?', or out of scope."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_verduidelijk"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """Clarification built from the classifier ranking."""
        return replies.clarify(knowledge_base(), tracker.latest_message)


class ActionChooseOption(ReplyAction):
    """Answers the offered option a typed number points at."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_kies_optie"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """Answer for the chosen option."""
        options = tracker.get_slot(OPTIONS_SLOT) or []
        return replies.choose(knowledge_base(), options, tracker.latest_message)


class ActionNoneOfThese(ReplyAction):
    """Explains what the bot can answer after 'Geen van deze'."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_geen_van_deze"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """Honest explanation plus menu."""
        return replies.none_of_these(knowledge_base())


class ActionOutOfScope(ReplyAction):
    """Says honestly that the question is outside what the bot knows."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_buiten_bereik"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """Out-of-scope reply plus menu."""
        return replies.out_of_scope(knowledge_base())


class ActionDefaultFallback(MessageAction):
    """Core fallback, e.g. a forged or unknown button payload."""

    action_name = "action_default_fallback"
    message_key = "onbekende_knop"
    outcome = Outcome.UNKNOWN_BUTTON

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the message once, then listen.

        No rule follows a payload of one of Rasa's own intents (`/out_of_scope`), so Rasa would predict this
        fallback again and again: ten replies, until its circuit breaker stops the turn.
        """
        return [*await super().run(dispatcher, tracker, domain), FollowupAction("action_listen")]


class ActionForgetConversation(MessageAction):
    """Confirms, then restarts; the tracker store drops everything before the restart."""

    action_name = "action_vergeet_gesprek"
    message_key = "vergeten"
    outcome = Outcome.FORGOTTEN

    def reply(self, tracker: Tracker) -> replies.Reply:
        """The confirmation, marked so a website's widget can wipe its copy of the transcript too."""
        reply = super().reply(tracker)
        reply.messages[-1]["custom"] = {"vraagbaak": {"gewist": True}}
        return reply

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Send the confirmation and restart the conversation."""
        send(dispatcher, self.reply(tracker))
        return [Restarted()]


class ActionExplainPrivacy(ReplyAction):
    """Answers a question about privacy honestly, for the channel it came from, and wipes nothing."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_leg_privacy_uit"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """The privacy explanation for this channel."""
        return replies.privacy(knowledge_base(), tracker.get_latest_input_channel())


class ActionRestart(ActionForgetConversation):
    """The /restart button forgets the conversation too."""

    action_name = "action_restart"


class ActionGreet(MessageAction):
    """Greeting."""

    action_name, message_key, outcome = "action_groet", "groet", Outcome.GREETING


class ActionGoodbye(MessageAction):
    """Goodbye."""

    action_name, message_key, outcome = "action_afscheid", "afscheid", Outcome.GOODBYE


class ActionThanks(MessageAction):
    """Reply to thanks."""

    action_name, message_key, outcome = "action_bedankt", "bedankt", Outcome.THANKS


class ActionAmIABot(MessageAction):
    """Says it is a bot."""

    action_name, message_key, outcome = "action_ben_ik_een_bot", "bot", Outcome.ABOUT_BOT


class ActionOtherLanguage(MessageAction):
    """Says the bot answers in Dutch."""

    action_name, message_key, outcome = "action_andere_taal", "andere_taal", Outcome.OTHER_LANGUAGE


class ActionSafePath(ReplyAction):
    """Calm emergency reply with 112 and help that is not the police, before anything else."""

    def name(self) -> str:
        """Rasa action name."""
        return "action_veilig_pad"

    def reply(self, tracker: Tracker) -> replies.Reply:
        """The safe path, with the self-harm lines or the asked topic when the message had them."""
        return replies.safe_path(knowledge_base(), tracker.latest_message)
