"""The one normal form both layers read: Unicode tricks, chat-speak and Flemish contractions."""
from __future__ import annotations

import pytest

from vraagbaak.core.normalise import fold_accents, normalise


@pytest.mark.parametrize(
    "typed, read",
    [
        ("ＨＥＬＰ ｈｉｊ ｈｅｅｆｔ ｅｅｎ ｍｅｓ", "help hij heeft een mes"),  # fullwidth letters (NFKC)
        ("h\u200be\u200dl\ufeffp", "help"),  # zero-width characters
        ("kzit hier vast", "ik zit hier vast"),
        ("kben bang van mn pooier", "ik ben bang van mijn pooier"),
        ("ze laten me ni gaan", "ze laten me niet gaan"),
        ("wa vindt ge daarvan", "wat vindt je daarvan"),
        ("da klopt nie", "dat klopt niet"),
        ("wrm is da gwn zo", "waarom is dat gewoon zo"),
        ("Wat vindt Amnesty van sexwerk?", "wat vindt amnesty van sekswerk ?"),
        ("HEEEELP", "heelp"),
        ("m’n pooier", "mijn pooier"),
        ("Ça va? België!", "ca va ? belgie !"),
    ],
)
def test_the_normal_form(typed: str, read: str) -> None:
    assert normalise(typed) == read


def test_words_that_only_look_like_contractions_stay() -> None:
    assert normalise("de mensenhandel in nederland") == "de mensenhandel in nederland"
    assert normalise("de tweede vraag") == "de tweede vraag"


def test_accents_fold_but_letters_stay() -> None:
    assert fold_accents("één café naïef") == "een cafe naief"


def test_the_normal_form_is_stable() -> None:
    once = normalise("Kzit ni goed!!! ＨＥＬＰ")
    assert normalise(once) == once
