"""The batch tool's pure parts: reading question lines, judging expectations, reading REST replies."""
from __future__ import annotations

from typing import List

import pytest

from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import FALLBACK_INTENT, Outcome
from vraagbaak.evaluation import offline as ev
from vraagbaak.reports import ask, ask_questions
from vraagbaak.reports import shared as rp


@pytest.mark.parametrize(
    "line, text, topic_id, outcome",
    [
        ("Wat is decriminalisering?", "Wat is decriminalisering?", None, None),
        ("  Wat is decriminalisering?  ", "Wat is decriminalisering?", None, None),
        (
            "Wat is decriminalisering? || wat_is_decriminalisering",
            "Wat is decriminalisering?",
            "wat_is_decriminalisering",
            None,
        ),
        (
            "Wat is decriminalisering?||WAT_IS_DECRIMINALISERING",
            "Wat is decriminalisering?",
            "wat_is_decriminalisering",
            None,
        ),
        ("Betalen? || Is betalen voor seks een mensenrecht?", "Betalen?", "betalen_mensenrecht", None),
        ("Betalen? || is betalen voor seks een mensenrecht", "Betalen?", "betalen_mensenrecht", None),
        ("Hoe laat is het? || buiten bereik", "Hoe laat is het?", None, Outcome.OUT_OF_SCOPE),
        ("Hoe laat is het? || Buiten_bereik", "Hoe laat is het?", None, Outcome.OUT_OF_SCOPE),
        ("Ik ben in gevaar || noodbericht", "Ik ben in gevaar", None, Outcome.EMERGENCY),
        ("Ik ben in gevaar || nood", "Ik ben in gevaar", None, Outcome.EMERGENCY),
        ("iets over beleid || verduidelijking", "iets over beleid", None, Outcome.CLARIFIED),
        ("a | b || beleid", "a | b", "beleid", None),
    ],
)
def test_a_valid_line_gives_its_question_and_expectation(
    kb: KnowledgeBase, line: str, text: str, topic_id: str | None, outcome: str | None
) -> None:
    questions, problems = ask_questions.parse_questions(kb, line)
    assert problems == []
    assert [(q.line, q.text) for q in questions] == [(1, text)]
    expected = questions[0].expected
    if topic_id is None and outcome is None:
        assert expected is None
    else:
        assert expected is not None
        assert (expected.topic_id, expected.outcome) == (topic_id, outcome)


def test_blank_lines_and_comments_are_skipped_but_line_numbers_stay_true(kb: KnowledgeBase) -> None:
    content = "# kop\n\nEerste vraag\n   \n  # ingesprongen commentaar\nTweede vraag || beleid\n"
    questions, problems = ask_questions.parse_questions(kb, content)
    assert problems == []
    assert [(q.line, q.text) for q in questions] == [(3, "Eerste vraag"), (6, "Tweede vraag")]


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("|| beleid", "geen vraag vóór '||'"),
        ("   ||   ", "geen vraag vóór '||'"),
        ("vraag || beleid || kritiek", "meer dan één keer '||'"),
        ("vraag || ", "na '||' staat niets"),
        ("vraag || een_onderwerp_dat_niet_bestaat", "'een_onderwerp_dat_niet_bestaat' ken ik niet"),
        ("vraag || faq_beleid", "'faq_beleid' ken ik niet"),  # intent names are not for staff
    ],
)
def test_an_invalid_line_gets_a_dutch_message_with_its_line_number(
    kb: KnowledgeBase, line: str, fragment: str
) -> None:
    questions, problems = ask_questions.parse_questions(kb, f"Goede vraag\n{line}\nNog een goede vraag")
    assert [q.line for q in questions] == [1, 3]
    assert len(problems) == 1
    assert problems[0].line == 2
    assert str(problems[0]).startswith("Regel 2: ")
    assert fragment in problems[0].message


@pytest.mark.parametrize("content", ["", "\n\n  \n", "# alleen commentaar\n# nog meer\n", "\ufeff"])
def test_an_empty_file_is_reported_without_a_line_number(kb: KnowledgeBase, content: str) -> None:
    questions, problems = ask_questions.parse_questions(kb, content.lstrip("\ufeff"))
    assert questions == []
    assert [p.line for p in problems] == [None]
    assert "geen vragen" in str(problems[0])


def test_a_file_with_only_invalid_lines_reports_those_lines_not_emptiness(kb: KnowledgeBase) -> None:
    questions, problems = ask_questions.parse_questions(kb, "|| beleid\n")
    assert questions == []
    assert [p.line for p in problems] == [1]


@pytest.mark.parametrize(
    "written, action, expected",
    [
        ("beleid", ev.BotAction(Outcome.ANSWERED, "beleid"), ask.YES),
        ("beleid", ev.BotAction(Outcome.ANSWERED, "kritiek"), ask.NO),
        ("beleid", ev.BotAction(Outcome.CLARIFIED, candidates=("kritiek", "beleid")), ask.NO_BUT_OFFERED),
        ("beleid", ev.BotAction(Outcome.CLARIFIED, candidates=("kritiek",)), ask.NO),
        ("beleid", ev.BotAction(Outcome.OUT_OF_SCOPE), ask.NO),
        (
            "oproep_decriminaliseren",
            ev.BotAction(Outcome.ANSWERED, "voor_decriminalisering"),
            ask.NO_BUT_TWIN,
        ),
        ("buiten bereik", ev.BotAction(Outcome.OUT_OF_SCOPE), ask.YES),
        ("buiten bereik", ev.BotAction(Outcome.OTHER_LANGUAGE), ask.YES),
        ("buiten bereik", ev.BotAction(Outcome.ANSWERED, "belgie"), ask.NO),
        ("noodbericht", ev.BotAction(Outcome.EMERGENCY), ask.YES),
        ("noodbericht", ev.BotAction(Outcome.OUT_OF_SCOPE), ask.NO),
    ],
)
def test_an_answer_is_judged_against_the_expectation(
    kb: KnowledgeBase, written: str, action: ev.BotAction, expected: str
) -> None:
    expectation = ask_questions.parse_expectation(kb, written)
    assert expectation is not None
    assert ask.verdict(kb, expectation, action) == expected
    assert ask.is_miss(expected) == (expected != ask.YES)


def test_without_an_expectation_there_is_no_verdict(kb: KnowledgeBase) -> None:
    assert ask.verdict(kb, None, ev.BotAction(Outcome.OUT_OF_SCOPE)) == ""
    assert not ask.is_miss("")


def _messages(reply: replies.Reply) -> List[dict]:
    """The reply as the REST channel returns it: text, buttons and the custom marker."""
    return [
        {
            k: v
            for k, v in (("text", m.get("text")), ("buttons", m.get("buttons")), ("custom", m.get("custom")))
            if v
        }
        for m in reply.messages
    ]


def test_rest_reply_with_the_topic_marker_is_an_answer(kb: KnowledgeBase) -> None:
    topic = kb.by_id("pooiers")
    assert topic is not None
    action = rp.action_from_reply(kb, _messages(replies.answer(kb, topic)))
    assert (action.outcome, action.topic_id, action.confidence) == (Outcome.ANSWERED, "pooiers", None)


def test_rest_reply_with_geen_van_deze_as_last_button_is_a_clarification(kb: KnowledgeBase) -> None:
    parse = {
        "text": "iets over beleid",
        "intent": {"name": FALLBACK_INTENT, "confidence": 0.5},
        "intent_ranking": [
            {"name": FALLBACK_INTENT, "confidence": 0.5},
            {"name": "faq_beleid", "confidence": 0.45},
            {"name": "faq_kritiek", "confidence": 0.40},
        ],
    }
    reply = replies.clarify(kb, parse)
    assert reply.outcome == "verduidelijkt"
    action = rp.action_from_reply(kb, _messages(reply))
    assert action.outcome == Outcome.CLARIFIED
    assert set(action.candidates) == {"beleid", "kritiek"}


@pytest.mark.parametrize(
    "key, outcome",
    [
        ("buiten_bereik", Outcome.OUT_OF_SCOPE),
        ("andere_taal", Outcome.OTHER_LANGUAGE),
        ("nood", Outcome.EMERGENCY),
        ("groet", Outcome.GREETING),
        ("vergeten", Outcome.FORGOTTEN),
        ("onbekende_keuze", Outcome.UNKNOWN_CHOICE),
        ("invoer_te_lang", Outcome.INVALID),
    ],
)
def test_rest_reply_text_is_recognised_from_the_bots_own_messages(
    kb: KnowledgeBase, key: str, outcome: str
) -> None:
    reply = replies.text_reply(kb, key, key, maximum="1000")
    assert rp.action_from_reply(kb, _messages(reply)).outcome == outcome


def test_rest_safe_path_is_recognised_from_its_first_paragraph_alone(kb: KnowledgeBase) -> None:
    first = kb.message("nood").split("\n\n")[0]
    assert rp.action_from_reply(kb, [{"text": first}, {"text": "nog een deel"}]).outcome == Outcome.EMERGENCY


def test_rest_reply_that_is_empty_or_unknown(kb: KnowledgeBase) -> None:
    assert rp.action_from_reply(kb, []).outcome == Outcome.NO_REPLY
    assert rp.action_from_reply(kb, [{"text": "iets heel anders"}]).outcome == Outcome.OTHER
