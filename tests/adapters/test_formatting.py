"""Channel layout: text splitting, numbered lists for button-less channels, Messenger button pages."""
from __future__ import annotations

import random
import re
from typing import List

import pytest

from vraagbaak.adapters.channels.formatting import (
    MARKER_KEY,
    MESSENGER_LIMIT,
    MESSENGER_MAX_BUTTONS,
    MESSENGER_PAYLOAD_LIMIT,
    MESSENGER_TEMPLATE_LIMIT,
    MESSENGER_TITLE_LIMIT,
    MORE_PREFIX,
    TELEGRAM_CALLBACK_LIMIT,
    TELEGRAM_LIMIT,
    TWILIO_LIMIT,
    ButtonPage,
    from_markdown_safe,
    markdown_safe,
    messenger_page,
    numbered_choices,
    numbered_list,
    read_more_payload,
    short_title,
    split_text,
    utf16_length,
    without_marker,
)
from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base

CHANNEL_LIMITS = [TELEGRAM_LIMIT, TWILIO_LIMIT, MESSENGER_LIMIT]
SMALL_LIMITS = [40, 80, 120, 200, 300, 640]
TOPIC_IDS = [t.id for t in knowledge_base().topics]
SEED = 20240611


def cut_positions(parts: List[str]) -> List[int]:
    """Offsets in the original text where one part ends and the next begins."""
    positions, offset = [], 0
    for part in parts[:-1]:
        offset += len(part)
        positions.append(offset)
    return positions


def assert_lossless(text: str, parts: List[str], limit: int, measure=len) -> None:
    assert "".join(parts) == text
    assert all(part and measure(part) <= limit for part in parts)


# --- split_text: examples -------------------------------------------------------------------------


def test_short_text_is_one_part_and_empty_text_no_parts() -> None:
    assert split_text("Hallo.", 10) == ["Hallo."]
    assert split_text("", 10) == []


def test_paragraph_boundary_is_preferred_over_sentence_boundary() -> None:
    text = "Eerste zin. Tweede zin.\n\nDerde zin. Vierde zin."
    assert split_text(text, 30) == ["Eerste zin. Tweede zin.\n\n", "Derde zin. Vierde zin."]


def test_line_boundary_is_preferred_over_sentence_boundary() -> None:
    text = "• punt een. nog iets\n• punt twee"
    assert split_text(text, 25) == ["• punt een. nog iets\n", "• punt twee"]


def test_sentence_boundary_is_preferred_over_a_space() -> None:
    text = "Een korte zin. En dan een lange zin zonder einde"
    assert split_text(text, 30) == ["Een korte zin. ", "En dan een lange zin zonder ", "einde"]


def test_sentence_end_after_a_closing_quote_counts() -> None:
    text = '"Als je de politie belt, verlies je alles." Zei een sekswerker.'
    assert split_text(text, 50)[0] == '"Als je de politie belt, verlies je alles." '


def test_words_are_never_cut_unless_longer_than_the_limit() -> None:
    assert split_text("aaa bbbbbbbbbbbb c", 5) == ["aaa ", "bbbbb", "bbbbb", "bb c"]


def test_separators_stay_at_the_end_of_the_part_before_them() -> None:
    parts = split_text("Een.\n\n\nTwee.", 7)
    assert parts == ["Een.\n\n\n", "Twee."]


def test_trailing_whitespace_never_becomes_a_part_of_its_own() -> None:
    parts = split_text("abcdefghi\n", 9)
    assert_lossless("abcdefghi\n", parts, 9)
    assert all(p.strip() for p in parts)


def test_utf16_measure_counts_emoji_as_two() -> None:
    text = "😀" * 5
    parts = split_text(text, 4, utf16_length)
    assert_lossless(text, parts, 4, utf16_length)
    assert parts == ["😀😀", "😀😀", "😀"]


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        split_text("tekst", 0)
    with pytest.raises(ValueError):
        split_text("😀😀", 1, utf16_length)


# --- split_text: properties over random text (seeded, so failures reproduce) -----------------------


def random_text(rng: random.Random, alphabet: str, longest: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))


def test_any_text_is_split_losslessly_within_the_limit() -> None:
    rng = random.Random(SEED)
    alphabet = 'ab é😀.?!,\n\t "”’•'
    for _ in range(5000):
        limit = rng.randint(1, 40)
        text = random_text(rng, alphabet, 200)
        assert_lossless(text, split_text(text, limit), limit)


def test_any_text_is_split_losslessly_in_utf16_units() -> None:
    rng = random.Random(SEED + 1)
    for _ in range(2000):
        limit = rng.randint(2, 30)
        text = random_text(rng, "ab😀 \n.", 150)
        assert_lossless(text, split_text(text, limit, utf16_length), limit, utf16_length)


SEPARATORS = [" ", " ", " ", ", ", ". ", "? ", "! ", "\n", "\n\n", ".\n\n", "\n• "]


def prose(rng: random.Random, limit: int) -> str:
    """Words no longer than the limit allows, joined by everyday separators."""
    words = ["".join(rng.choice("abcdeéëo😀") for _ in range(rng.randint(1, limit - 3))) for _ in range(50)]
    text = "".join(word + rng.choice(SEPARATORS) for word in words[: rng.randint(0, 50)])
    return text if rng.random() < 0.5 else text.rstrip()


def test_prose_is_only_cut_at_whitespace_and_no_part_is_blank() -> None:
    rng = random.Random(SEED + 2)
    for _ in range(5000):
        limit = rng.randint(4, 80)
        text = prose(rng, limit)
        parts = split_text(text, limit)
        assert_lossless(text, parts, limit)
        assert all(part.strip() for part in parts)
        for cut in cut_positions(parts):
            assert text[cut - 1].isspace() or text[cut].isspace(), (text, parts)


def test_whole_paragraphs_are_kept_together_when_they_fit() -> None:
    rng = random.Random(SEED + 3)
    for _ in range(500):
        paragraphs = [
            " ".join("woord" for _ in range(rng.randint(1, 15))) + "." for _ in range(rng.randint(2, 8))
        ]
        text = "\n\n".join(paragraphs)
        limit = max(len(p) for p in paragraphs) + 2
        parts = split_text(text, limit)
        assert_lossless(text, parts, limit)
        assert all(part.endswith("\n\n") for part in parts[:-1])


# --- split_text on every official answer ----------------------------------------------------------


@pytest.mark.parametrize("limit", CHANNEL_LIMITS + SMALL_LIMITS)
@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_every_official_answer_splits_losslessly(kb: KnowledgeBase, topic_id: str, limit: int) -> None:
    text = kb.by_id(topic_id).answer_text
    parts = split_text(text, limit)
    assert_lossless(text, parts, limit)
    assert all(part.strip() for part in parts)
    for cut in cut_positions(parts):
        assert text[cut - 1].isspace(), "official answers are only cut at whitespace"


@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_official_answers_are_cut_at_paragraphs_when_paragraphs_fit(kb: KnowledgeBase, topic_id: str) -> None:
    text = kb.by_id(topic_id).answer_text
    limit = max(len(p) for p in text.split("\n\n")) + 2
    assert all(part.endswith("\n\n") for part in split_text(text, limit)[:-1])


def test_the_longest_answer_needs_two_whatsapp_messages_cut_at_a_paragraph(kb: KnowledgeBase) -> None:
    text = max((t.answer_text for t in kb.topics), key=len)
    parts = split_text(text, TWILIO_LIMIT)
    assert len(parts) == 2 and parts[0].endswith("\n\n")


# --- numbered lists for channels without buttons -------------------------------------------------


def test_numbered_list() -> None:
    assert numbered_list(["Een", "Twee"]) == "1. Een\n2. Twee"
    assert numbered_list(["Vier"], first=4) == "4. Vier"


def test_numbered_choices_show_titles_and_hint_but_never_payloads(kb: KnowledgeBase) -> None:
    reply = replies.answer(kb, kb.by_id("pooiers"))
    related = reply.messages[1]
    hint = kb.message("keuze_hint")
    text = numbered_choices(related["text"], related["buttons"], hint)
    titles = [kb.by_id(r).title for r in kb.by_id("pooiers").related]
    assert (
        text
        == "Gerelateerde vragen:\n" + "\n".join(f"{n}. {t}" for n, t in enumerate(titles, 1)) + "\n\n" + hint
    )
    assert "/" not in text.replace(related["text"], "")
    assert hint == "Typ het nummer van je keuze."


def test_numbered_choices_number_like_the_bot_resolves_typed_numbers(kb: KnowledgeBase) -> None:
    reply = replies.menu(kb)
    text = numbered_choices(reply.messages[0]["text"], reply.messages[0]["buttons"], kb.message("keuze_hint"))
    for number, option in enumerate(reply.options or [], 1):
        assert f"\n{number}. {kb.by_id(option).title}\n" in text


def test_numbered_choices_without_buttons_is_the_text() -> None:
    assert numbered_choices("Alleen tekst.", [], "hint") == "Alleen tekst."


def test_menu_as_numbered_list_fits_one_whatsapp_message(kb: KnowledgeBase) -> None:
    menu = replies.menu(kb).messages[0]
    assert (
        len(
            split_text(
                numbered_choices(menu["text"], menu["buttons"], kb.message("keuze_hint")), TWILIO_LIMIT
            )
        )
        == 1
    )


# --- Messenger button groups ----------------------------------------------------------------------


def test_short_title_fits_a_messenger_button() -> None:
    assert short_title("Alle vragen") == "Alle vragen"
    assert short_title("Het rapport: onderzoek in vier landen") == "Het rapport…"
    assert short_title("Eenzeerlangwoordzonderspaties") == "Eenzeerlangwoordzon…"


def test_every_title_fits_a_messenger_button(kb: KnowledgeBase) -> None:
    for title in [t.title for t in kb.topics] + [
        kb.message(k) for k in ("knop_alle_vragen", "knop_geen_van_deze")
    ]:
        assert 0 < len(short_title(title)) <= MESSENGER_TITLE_LIMIT


def all_pages(kb: KnowledgeBase, text: str, buttons: List[replies.Message]) -> List[ButtonPage]:
    """Every page a Messenger user sees by tapping "Meer vragen" until there is no more."""
    pages = [messenger_page(text, buttons)]
    while pages[-1].more:
        read = read_more_payload(pages[-1].more)
        assert read is not None and len(pages[-1].more) <= MESSENGER_PAYLOAD_LIMIT
        first, payloads = read
        shown = [replies.button_for_payload(kb, p) for p in payloads]
        assert None not in shown, "every payload behind Meer vragen maps back to a button the bot offers"
        pages.append(messenger_page("", [b for b in shown if b], first))
        assert len(pages) <= 10
    return pages


def test_menu_shows_three_buttons_and_meer_vragen_without_dropping_an_option(kb: KnowledgeBase) -> None:
    menu = replies.menu(kb).messages[0]
    pages = all_pages(kb, menu["text"], menu["buttons"])
    assert len(pages) == 6
    assert all(len(p.buttons) == MESSENGER_MAX_BUTTONS for p in pages)
    assert all(p.more for p in pages[:-1]) and pages[-1].more is None
    assert [b["payload"] for p in pages for b in p.buttons] == [b["payload"] for b in menu["buttons"]]
    assert all(
        b["type"] == "postback" and len(b["title"]) <= MESSENGER_TITLE_LIMIT for p in pages for b in p.buttons
    )


def test_pages_number_on_with_full_titles_and_header_only_first(kb: KnowledgeBase) -> None:
    menu = replies.menu(kb).messages[0]
    pages = all_pages(kb, menu["text"], menu["buttons"])
    assert pages[0].text.startswith(menu["text"] + "\n1. ")
    assert pages[1].text.startswith("4. " + kb.topics[3].title)
    assert all(len(p.text) <= MESSENGER_TEMPLATE_LIMIT for p in pages)
    listed = re.findall(r"^(\d+)\. (.+)$", "\n".join(p.text for p in pages), re.MULTILINE)
    assert [(int(n), t) for n, t in listed] == list(enumerate([t.title for t in kb.topics], 1))


def test_three_related_questions_are_one_page_without_meer_vragen(kb: KnowledgeBase) -> None:
    related = replies.answer(kb, kb.by_id("pooiers")).messages[1]
    page = messenger_page(related["text"], related["buttons"])
    assert len(page.buttons) == 3 and page.more is None


def test_fourth_clarification_option_waits_behind_meer_vragen(kb: KnowledgeBase) -> None:
    ranking = [
        {"name": t.intent, "confidence": c} for t, c in zip(kb.topics[2:5], (0.3, 0.25, 0.2), strict=True)
    ]
    clarification = replies.clarify(kb, {"text": "iets vaags", "intent_ranking": ranking}).messages[0]
    assert len(clarification["buttons"]) == 4
    pages = all_pages(kb, clarification["text"], clarification["buttons"])
    assert [len(p.buttons) for p in pages] == [3, 1]
    assert pages[1].text == "4. " + kb.message("knop_geen_van_deze")


def test_a_single_short_button_is_not_numbered(kb: KnowledgeBase) -> None:
    reply = replies.out_of_scope(kb).messages[0]
    page = messenger_page(reply["text"], reply["buttons"])
    assert page.text == reply["text"] and page.more is None
    assert page.buttons == [{"type": "postback", "title": "Alle vragen", "payload": "/chat_wat_kan_je"}]


def test_every_template_text_of_the_bot_fits_above_messenger_buttons(kb: KnowledgeBase) -> None:
    headers = [
        kb.message(k) for k in ("gerelateerd_kop", "verduidelijk_kop", "buiten_bereik", "geen_van_deze")
    ]
    headers.append(replies.menu(kb).messages[0]["text"])
    buttons = [replies.topic_button(t) for t in kb.topics]
    for header in headers:
        assert all(len(p.text) <= MESSENGER_TEMPLATE_LIMIT for p in all_pages(kb, header, buttons))


@pytest.mark.parametrize(
    "payload",
    [
        "/faq_pooiers",
        MORE_PREFIX,
        MORE_PREFIX + "{kapot",
        MORE_PREFIX + "[4]",
        MORE_PREFIX + '{"vanaf": "4", "knoppen": []}',
        MORE_PREFIX + '{"vanaf": true, "knoppen": []}',
        MORE_PREFIX + '{"vanaf": 0, "knoppen": ["/faq_pooiers"]}',
        MORE_PREFIX + '{"vanaf": 9999, "knoppen": ["/faq_pooiers"]}',
        MORE_PREFIX + '{"vanaf": 4, "knoppen": "/faq_pooiers"}',
        MORE_PREFIX + '{"vanaf": 4, "knoppen": [1, 2]}',
    ],
)
def test_anything_but_a_well_formed_meer_vragen_payload_is_refused(payload: str) -> None:
    assert read_more_payload(payload) is None


def test_forged_payload_behind_meer_vragen_is_no_button(kb: KnowledgeBase) -> None:
    assert replies.button_for_payload(kb, "/faq_bestaat_niet") is None
    assert replies.button_for_payload(kb, "faq_pooiers") is None
    assert replies.button_for_payload(kb, "/faq_pooiers") == replies.topic_button(kb.by_id("pooiers"))


# --- other channel constraints ---------------------------------------------------------------------


def test_every_payload_fits_telegram_callback_data(kb: KnowledgeBase) -> None:
    payloads = [f"/{t.intent}" for t in kb.topics] + [
        replies.MENU_PAYLOAD,
        replies.NONE_OF_THESE_PAYLOAD,
    ]
    assert all(len(p.encode("utf-8")) <= TELEGRAM_CALLBACK_LIMIT for p in payloads)


def test_the_internal_marker_is_removed_from_custom_json() -> None:
    assert without_marker({MARKER_KEY: {"onderwerp": "x", "officieel": True}}) is None
    assert without_marker({MARKER_KEY: {}, "photo": "p"}) == {"photo": "p"}
    assert without_marker([{"a": 1}]) == [{"a": 1}]


# --- Markdown-rendering widgets (rasa-webchat) ---------------------------------------------------------


def test_markdown_safe_text_gives_back_every_official_text_exactly(kb: KnowledgeBase) -> None:
    texts = [t.answer_text for t in kb.topics] + [kb.message(key) for key in ("vergeten", "invoer_leeg")]
    for text in texts:
        assert from_markdown_safe(markdown_safe(text)) == text


def test_markdown_safe_marks_list_lines_and_markdown_characters() -> None:
    text = "Zoals:\n\n• een\n• twee\n- een sekswerker\n1. *niet* _vet_ [link](x) `c` \\ ~~weg~~ |t|\n# kop\n> citaat"
    marked = markdown_safe(text)
    # List lines end in a hard break (two spaces); paragraphs stay apart; marks are backslashes.
    assert marked.split("\n\n")[1].split("\n") == [
        "• een  ",
        "• twee  ",
        "\\- een sekswerker  ",
        "1\\. \\*niet\\* \\_vet\\_ \\[link\\](x) \\`c\\` \\\\ \\~\\~weg\\~\\~ \\|t\\|  ",
        "\\# kop  ",
        "\\> citaat",
    ]
    assert from_markdown_safe(marked) == text


@pytest.mark.parametrize("text", ["a \nb", "a  \nb", "a\n  \nb", "a\\.b\\x", "a  \n\nb", "\\\\*"])
def test_markdown_safe_round_trip_keeps_odd_spacing_and_backslashes(text: str) -> None:
    assert from_markdown_safe(markdown_safe(text)) == text


def test_text_without_markdown_characters_is_unchanged() -> None:
    plain = "Klaar. Ik heb dit gesprek vergeten en gewist. We beginnen opnieuw."
    assert markdown_safe(plain) == plain


def test_phone_spans_find_each_listed_number_once_longest_first() -> None:
    from vraagbaak.adapters.channels.formatting import phone_spans, utf16_length

    text = "Bel 112. Of 113 of 0800-0113 (gratis). Niet 11234 of 2112."
    spans = phone_spans(text, ["112", "113", "0800-0113"])
    found = [text[o : o + n] for o, n in spans]
    assert found == ["112", "113", "0800-0113"]
    emoji = "🙂 bel 112"
    assert phone_spans(emoji, ["112"], utf16_length) == [(utf16_length("🙂 bel "), 3)]
    assert phone_spans("geen nummer hier", ["112"]) == []
