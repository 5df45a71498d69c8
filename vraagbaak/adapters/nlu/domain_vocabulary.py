"""The words the FAQ topics are asked with: an official answer needs at least one of them in the question.

The classifier always ranks some topic first, so a question that shares no word with the subject ("when did
the Second World War start?") could still get an official answer. The vocabulary is learnt from the FAQ
training phrasings; spaCy's Dutch stop words are left out, so "wat", "hoe" or "jullie" never count.
"""
from __future__ import annotations

import difflib
from typing import Iterable, List, Set

from rasa.nlu.tokenizers.tokenizer import Token
from spacy.lang.nl.stop_words import STOP_WORDS

# Typos ("prostitusie", "sekwerkers") still count as a domain word at this difflib similarity.
TYPO_SIMILARITY = 0.85
# Shorter words are too easily a near-miss of an unrelated word.
MIN_TYPO_LENGTH = 5
# A domain word this long inside a longer word counts too: Dutch glues words together ("sekswerkbeleid").
MIN_COMPOUND_PART = 6


def content_words(tokens: Iterable[Token]) -> Set[str]:
    """Lower-cased words and lemmas of the tokens that carry meaning: letters only, no stop words."""
    words: Set[str] = set()
    for token in tokens:
        for word in (token.text.lower(), (token.lemma or "").lower()):
            if len(word) > 2 and word.isalpha() and word not in STOP_WORDS:
                words.add(word)
    return words


class DomainVocabulary:
    """Content words of the FAQ training phrasings, with typo- and compound-tolerant look-up."""

    def __init__(self, words: Iterable[str]) -> None:
        """Keep the words; long ones separately for the compound check."""
        self.words: List[str] = sorted(set(words))
        self._set = set(self.words)
        self._long = [w for w in self.words if len(w) >= MIN_COMPOUND_PART]

    def __bool__(self) -> bool:
        return bool(self.words)

    def knows(self, word: str) -> bool:
        """True if the word is a domain word, a typo of one, or a compound containing one."""
        if word in self._set:
            return True
        if len(word) >= MIN_TYPO_LENGTH and difflib.get_close_matches(word, self.words, 1, TYPO_SIMILARITY):
            return True
        return any(part in word for part in self._long if len(part) < len(word))

    def shares_a_word(self, tokens: Iterable[Token]) -> bool:
        """True if the message has at least one domain word (then the classifier decides)."""
        return any(self.knows(word) for word in content_words(tokens))
