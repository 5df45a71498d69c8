"""The one vocabulary for what the bot did with a message, and the intent names the code relies on."""
from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    """What the bot did with one message. The value is stored (insights); the label is what staff read."""

    ANSWERED = "beantwoord"
    CLARIFIED = "verduidelijkt"
    OUT_OF_SCOPE = "buiten_bereik"
    OTHER_LANGUAGE = "andere_taal"
    EMERGENCY = "nood"
    GREETING = "begroeting"
    GOODBYE = "afscheid"
    THANKS = "bedankt"
    ABOUT_BOT = "uitleg_bot"
    MENU = "menu"
    FORGOTTEN = "gewist"
    PRIVACY = "privacy_uitleg"
    NONE_OF_THESE = "geen_van_deze"
    INVALID = "ongeldige_invoer"
    UNKNOWN_BUTTON = "onbekende_knop"
    UNKNOWN_CHOICE = "onbekende_keuze"
    TECHNICAL = "technisch_probleem"
    NO_REPLY = "geen_antwoord"
    OTHER = "ander_antwoord"

    @property
    def label(self) -> str:
        """The Dutch words staff read in reports and CSV files."""
        return LABELS[self]

    def __str__(self) -> str:
        return self.value


LABELS = {
    Outcome.ANSWERED: "beantwoord",
    Outcome.CLARIFIED: "verduidelijkt",
    Outcome.OUT_OF_SCOPE: "buiten bereik",
    Outcome.OTHER_LANGUAGE: "andere taal",
    Outcome.EMERGENCY: "noodbericht",
    Outcome.GREETING: "begroeting",
    Outcome.GOODBYE: "afscheid",
    Outcome.THANKS: "bedankt",
    Outcome.ABOUT_BOT: "uitleg over de bot",
    Outcome.MENU: "lijst met alle vragen",
    Outcome.FORGOTTEN: "gesprek gewist",
    Outcome.PRIVACY: "uitleg over privacy",
    Outcome.NONE_OF_THESE: "geen van deze",
    Outcome.INVALID: "ongeldige invoer",
    Outcome.UNKNOWN_BUTTON: "onbekende knop",
    Outcome.UNKNOWN_CHOICE: "onbekende keuze",
    Outcome.TECHNICAL: "technisch probleem",
    Outcome.NO_REPLY: "geen antwoord",
    Outcome.OTHER: "ander antwoord",
}


def outcome_from_label(label: str) -> Outcome | None:
    """The outcome whose staff label (or value) this is, or None."""
    wanted = label.strip().lower()
    return next((o for o in Outcome if wanted in (o.label, o.value)), None)


# The slot that holds the option ids of the last list the user received, which a typed number refers to.
OPTIONS_SLOT = "aangeboden_keuzes"

# Intent names the code depends on (the rest live only in domain.yml and data/).
CHOICE_INTENT = "keuze_nummer"
NONE_OF_THESE_INTENT = "keuze_geen_van_deze"
SAFETY_INTENT = "veilig_in_nood"
MENU_INTENT = "chat_wat_kan_je"
OUT_OF_SCOPE_INTENT = "chat_buiten_bereik"
OTHER_LANGUAGE_INTENT = "chat_andere_taal"
GREETING_INTENT = "chat_groet"
GOODBYE_INTENT = "chat_afscheid"
THANKS_INTENT = "chat_bedankt"
ABOUT_BOT_INTENT = "chat_bot_vraag"
FORGET_INTENT = "gesprek_vergeten"
PRIVACY_INTENT = "gesprek_privacy"
# Rasa's name for "the classifier was not sure" (rasa.shared.constants.DEFAULT_NLU_FALLBACK_INTENT_NAME).
FALLBACK_INTENT = "nlu_fallback"

# What each non-topic intent leads to in a fresh conversation (data/rules/*.yml).
INTENT_OUTCOMES = {
    OUT_OF_SCOPE_INTENT: Outcome.OUT_OF_SCOPE,
    OTHER_LANGUAGE_INTENT: Outcome.OTHER_LANGUAGE,
    SAFETY_INTENT: Outcome.EMERGENCY,
    GREETING_INTENT: Outcome.GREETING,
    GOODBYE_INTENT: Outcome.GOODBYE,
    THANKS_INTENT: Outcome.THANKS,
    ABOUT_BOT_INTENT: Outcome.ABOUT_BOT,
    MENU_INTENT: Outcome.MENU,
    FORGET_INTENT: Outcome.FORGOTTEN,
    PRIVACY_INTENT: Outcome.PRIVACY,
    NONE_OF_THESE_INTENT: Outcome.NONE_OF_THESE,
    # A typed number in a fresh conversation has no list to choose from.
    CHOICE_INTENT: Outcome.UNKNOWN_CHOICE,
}
