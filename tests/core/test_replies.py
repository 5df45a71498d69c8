"""Reply building: answers, clarification, twins, typed choices and bad input."""
from __future__ import annotations

from typing import Any, Dict, List

import pytest

from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.user_input import MAX_LENGTH, input_problem, parse_choice, pick_option


def parse(text: str, ranking: List[tuple]) -> Dict[str, Any]:
    entries = [{"name": n, "confidence": c} for n, c in ranking]
    return {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": 0.4},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.4}, *entries],
    }


def test_answer_is_official_text_then_related_buttons(kb: KnowledgeBase) -> None:
    topic = kb.by_id("pooiers")
    reply = replies.answer(kb, topic)
    assert reply.messages[0]["text"] == topic.answer_text
    assert reply.messages[1]["text"] == kb.message("gerelateerd_kop")
    assert [b["payload"] for b in reply.messages[1]["buttons"]] == [
        f"/{kb.by_id(r).intent}" for r in topic.related
    ]
    assert [b["title"] for b in reply.messages[1]["buttons"]] == [kb.by_id(r).title for r in topic.related]
    assert reply.options == list(topic.related)


def test_menu_lists_every_topic(kb: KnowledgeBase) -> None:
    reply = replies.menu(kb)
    assert len(reply.messages[0]["buttons"]) == len(kb.topics)
    assert str(len(kb.topics)) in reply.messages[0]["text"]


def test_close_call_offers_top_topics_plus_none_of_these(kb: KnowledgeBase) -> None:
    reply = replies.clarify(
        kb,
        parse(
            "hoe zit dat",
            [("faq_pooiers", 0.4), ("faq_mensenhandel", 0.35), ("faq_belgie", 0.1), ("faq_kritiek", 0.05)],
        ),
    )
    buttons = reply.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [
        "/faq_pooiers",
        "/faq_mensenhandel",
        "/faq_belgie",
        replies.NONE_OF_THESE_PAYLOAD,
    ]
    assert buttons[-1]["title"] == "Geen van deze"
    assert reply.options == ["pooiers", "mensenhandel", "belgie", replies.NONE_OF_THESE]
    assert reply.outcome == "verduidelijkt"


def test_near_duplicate_official_questions_get_one_answer_not_a_choice(kb: KnowledgeBase) -> None:
    reply = replies.clarify(
        kb,
        parse(
            "waarom decriminaliseren",
            [("faq_voor_decriminalisering", 0.46), ("faq_oproep_decriminaliseren", 0.44)],
        ),
    )
    assert reply.outcome == "beantwoord"
    assert reply.topic_id == "voor_decriminalisering"
    twin = kb.by_id("oproep_decriminaliseren")
    assert twin.title in [b["title"] for b in reply.messages[-1]["buttons"]]


def test_twins_take_one_place_among_clarification_candidates(kb: KnowledgeBase) -> None:
    reply = replies.clarify(
        kb,
        parse(
            "x y",
            [("faq_oproep_decriminaliseren", 0.2), ("faq_voor_decriminalisering", 0.2), ("faq_beleid", 0.25)],
        ),
    )
    assert reply.options == ["oproep_decriminaliseren", "beleid", replies.NONE_OF_THESE]


def test_one_unsure_topic_is_offered_not_answered(kb: KnowledgeBase) -> None:
    reply = replies.clarify(
        kb, parse("vergunning massagesalon", [("faq_legaliseren_decriminaliseren", 0.45)])
    )
    assert reply.outcome == "verduidelijkt"
    assert reply.options == ["legaliseren_decriminaliseren", replies.NONE_OF_THESE]


@pytest.mark.parametrize(
    "ranking",
    [
        [("chat_buiten_bereik", 0.5), ("faq_pooiers", 0.3)],
        [("faq_pooiers", 0.05), ("faq_belgie", 0.04)],
        [("faq_pooiers", 0.15), ("faq_belgie", 0.14), ("faq_kritiek", 0.1)],
        [],
    ],
)
def test_unsure_without_a_likely_topic_is_out_of_scope(kb: KnowledgeBase, ranking) -> None:
    reply = replies.clarify(kb, parse("wat is het weer", ranking))
    assert reply.outcome == "buiten_bereik"
    assert reply.messages[0]["text"] == kb.message("buiten_bereik")
    assert reply.messages[0]["buttons"][0]["payload"] == replies.MENU_PAYLOAD


@pytest.mark.parametrize(
    "text, key",
    [
        ("", "invoer_leeg"),
        ("   \n\t", "invoer_leeg"),
        ("x" * (MAX_LENGTH + 1), "invoer_te_lang"),
        ("\x00\x01\x02", "invoer_onleesbaar"),
        ("?!?!", "invoer_onleesbaar"),
        ("/onbekend", "onbekende_knop"),
        ('/faq_onbekend{"onderwerp": "x"}', "onbekende_knop"),
    ],
)
def test_bad_input_gets_a_clear_dutch_message(kb: KnowledgeBase, text: str, key: str) -> None:
    reply = replies.clarify(kb, parse(text, [("faq_pooiers", 0.9)]))
    assert reply.messages[0]["text"] == kb.message(key, maximum=str(MAX_LENGTH))


@pytest.mark.parametrize(
    "text, number",
    [
        ("2", 2),
        (" 3 ", 3),
        ("nummer 1", 1),
        ("optie 4", 4),
        ("nr. 2", 2),
        ("de tweede", 2),
        ("Derde", 3),
        ("2.", 2),
        ("de laatste", -1),
        ("pooiers", None),
        ("2 vragen", None),
        ("", None),
    ],
)
def test_typed_choices_are_parsed(text: str, number) -> None:
    assert parse_choice(text) == number


def test_pick_option_stays_in_range() -> None:
    assert pick_option(["a", "b"], 2) == "b"
    assert pick_option(["a", "b"], -1) == "b"
    assert pick_option(["a", "b"], 3) is None
    assert pick_option([], 1) is None
    assert pick_option(["a"], 0) is None


def test_choosing_a_number_answers_that_option(kb: KnowledgeBase) -> None:
    options = list(kb.by_id("pooiers").related)

    def typed(text: str) -> Dict[str, Any]:
        return {"text": text, "intent_ranking": [{"name": "chat_buiten_bereik", "confidence": 0.6}]}

    reply = replies.choose(kb, options, typed("2"))
    assert reply.topic_id == options[1]
    assert replies.choose(kb, options + [replies.NONE_OF_THESE], typed("4")).outcome == "geen_van_deze"
    assert replies.choose(kb, options, typed("9")).messages[0]["text"] == kb.message("onbekende_keuze")
    assert replies.choose(kb, [], typed("1")).messages[0]["text"] == kb.message("onbekende_keuze")
    forged = typed('/keuze_nummer{"nummer": "99"}')
    assert replies.choose(kb, options, forged).messages[0]["text"] == kb.message("onbekende_keuze")
    # A sentence with digits that the classifier took for a choice is treated as a question.
    assert replies.choose(kb, options, typed("recept lasagne? bel 0470 12 34 56")).outcome == "buiten_bereik"


def test_unknown_intent_gets_unknown_button_message(kb: KnowledgeBase) -> None:
    assert replies.answer_intent(kb, "faq_bestaat_niet").messages[0]["text"] == kb.message("onbekende_knop")


def test_input_problem_accepts_html_and_sql_as_ordinary_text() -> None:
    assert input_problem("<script>alert(1)</script> wat met pooiers") is None
    assert input_problem("'; DROP TABLE users; --") is None


@pytest.mark.parametrize(
    "text, danger, expected",
    [
        ("hij houdt me hier vast", True, "veilig_in_nood"),
        ("hij houdt me hier vast", False, None),
        # The safety layer's verdict comes before the input checks: a long cry for help is still one.
        ("help " * 300, True, "veilig_in_nood"),
        ("help " * 300, False, "nlu_fallback"),
        ("2", False, "keuze_nummer"),
        ("/faq_bestaat_niet", True, "nlu_fallback"),
        ("", False, "nlu_fallback"),
        ("geen van deze", False, "keuze_geen_van_deze"),
        ("Beschermt Amnesty pooiers", False, "faq_pooiers"),
    ],
)
def test_deterministic_overrides(text: str, danger: bool, expected) -> None:
    from vraagbaak.adapters.nlu.input_guard import override_intent

    assert override_intent(text, danger) == expected
