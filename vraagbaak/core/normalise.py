"""One normal form of user text, read by the safety layer and by the topic classifier alike.

People type danger and questions in fullwidth letters, with zero-width characters, in chat-speak and in
spoken Flemish ("kzit", "ni", "wa"). Both layers must read these the same way, so the rules live here only.
The text the user sent is never changed: this form is only what the classifiers read.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Dict

# Whole words and what they stand for. Flemish contractions and clitics, chat abbreviations, and the
# misspellings that stop a word from matching anything ("pooir", "politi"). Keys are already folded.
_WORDS: Dict[str, str] = {
    # Flemish and spoken forms
    "kzit": "ik zit",
    "kben": "ik ben",
    "kbn": "ik ben",
    "kheb": "ik heb",
    "khb": "ik heb",
    "kweet": "ik weet",
    "kwet": "ik weet",
    "kga": "ik ga",
    "kwil": "ik wil",
    "kkan": "ik kan",
    "kmoet": "ik moet",
    "kdurf": "ik durf",
    "kvind": "ik vind",
    "kdenk": "ik denk",
    "kvoel": "ik voel",
    "kzie": "ik zie",
    "khoor": "ik hoor",
    "kmag": "ik mag",
    "kloop": "ik loop",
    "kzou": "ik zou",
    "kwas": "ik was",
    "khad": "ik had",
    "kunde": "kun je",
    "kunt ge": "kun je",
    "hebde": "heb je",
    "zijde": "ben je",
    "weette": "weet je",
    "weetge": "weet je",
    "moete": "moet je",
    "wilde": "wil je",
    "ge": "je",
    "gij": "jij",
    "zijt": "bent",
    "ni": "niet",
    "nie": "niet",
    "nt": "niet",
    "da": "dat",
    "dak": "dat ik",
    "dadde": "dat je",
    "wa": "wat",
    "nen": "een",
    "ne": "een",
    "mn": "mijn",
    "m'n": "mijn",
    "mijne": "mijn",
    "zn": "zijn",
    "z'n": "zijn",
    "'t": "het",
    "t": "het",
    "moa": "maar",
    "tis": "het is",
    "'tis": "het is",
    "tzijn": "het zijn",
    "iem": "iemand",
    "ff": "even",
    "effe": "even",
    "efkes": "even",
    # chat abbreviations
    "wrm": "waarom",
    "wrom": "waarom",
    "gwn": "gewoon",
    "gwoon": "gewoon",
    "idd": "inderdaad",
    "mss": "misschien",
    "nx": "niks",
    "ofz": "of zo",
    "aub": "alsjeblieft",
    "avb": "alsjeblieft",
    "pls": "alsjeblieft",
    "plz": "alsjeblieft",
    "plis": "alsjeblieft",
    "svp": "alsjeblieft",
    "hlp": "help",
    "hulpp": "hulp",
    "dn": "dan",
    "vd": "van de",
    "wss": "waarschijnlijk",
    "ipv": "in plaats van",
    "tgen": "tegen",
    "vnavond": "vanavond",
    # misspellings of the words that matter most
    "pooir": "pooier",
    "pojer": "pooier",
    "pooijer": "pooier",
    "politi": "politie",
    "polisie": "politie",
    "amnasty": "amnesty",
    "amnestie": "amnesty",
    "sexwerk": "sekswerk",
    "sexwerker": "sekswerker",
    "sexwerkers": "sekswerkers",
    "seks-werk": "sekswerk",
    "prostitue": "prostituee",
    "prostitué": "prostituee",
    "decriminalizering": "decriminalisering",
    "decriminaliseering": "decriminalisering",
}
# Characters that carry no letter: zero-width spaces and joiners, the byte-order mark, soft hyphens.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_TOKEN = re.compile(r"[a-z0-9']+|[^a-z0-9'\s]")
# Three or more of the same letter ("hellllp", "neeeee") read as two; digits are left alone.
_REPEATS = re.compile(r"([a-z])\1{2,}")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def fold_accents(text: str) -> str:
    """Letters without their accents ("één" -> "een", "ça" -> "ca")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """The normal form: NFKC, no invisible characters, lower case, no accents, contractions written out.

    Punctuation stays as separate tokens (a "?" or "!!!" says something about the message), so the result is
    the tokens joined by single spaces.
    """
    text = unicodedata.normalize("NFKC", text or "").translate(_INVISIBLE).translate(_APOSTROPHES)
    text = fold_accents(text.casefold())
    text = _REPEATS.sub(r"\1\1", text)
    tokens = _TOKEN.findall(text)
    out = []
    i = 0
    while i < len(tokens):
        pair = f"{tokens[i]} {tokens[i + 1]}" if i + 1 < len(tokens) else None
        if pair in _WORDS:
            out.append(_WORDS[pair])
            i += 2
            continue
        word = tokens[i].strip("'") if tokens[i] not in _WORDS else tokens[i]
        out.append(_WORDS.get(word, word) if word else tokens[i])
        i += 1
    return " ".join(w for w in out if w)
