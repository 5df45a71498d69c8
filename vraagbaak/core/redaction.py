"""Finds personal data in free text and replaces it by placeholders; used for stored questions and staff phrasings."""
from __future__ import annotations

import contextlib
import functools
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, NamedTuple, Set

import phonenumbers
import yaml
from stdnum import iban
from stdnum.be import nn
from stdnum.nl import bsn

from vraagbaak.core.paths import CORE_DIR

LISTS_FILE = CORE_DIR / "redactie.yml"

# Each kind (Dutch, as staff see it) and its placeholder word. On overlap the longer find wins, on equal length
# the kind that comes first here.
PLACEHOLDERS: Dict[str, str] = {
    "e-mailadres": "e-mail",
    "link": "link",
    "rekeningnummer": "rekeningnummer",
    "telefoonnummer": "telefoonnummer",
    "rijksregisternummer": "nummer",
    "burgerservicenummer": "nummer",
    "nummer": "nummer",
    "adres": "adres",
    "plaats": "plaats",
    "naam": "naam",
}
PLACEHOLDER = re.compile(r"\[[a-z-]+\]")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_END = r"[^\s<>\"']*[^\s<>\"'.,;:!?)]"
URL = re.compile(
    rf"\b(?:https?://|www\.){_URL_END}"
    rf"|\b[\w-]+(?:\.[\w-]+)*\.(?:be|nl|com|org|net|eu|info|io)\b(?:/{_URL_END})?",
    re.IGNORECASE,
)
IBAN_START = re.compile(r"\b[A-Za-z]{2}\d{2}")
# Any run of 6+ digits (national register numbers, client or case numbers), single separators allowed; a
# range of years such as 2015-2016 is no number of anyone.
DIGITS = re.compile(r"\d(?:[ ./-]?\d){5,}")
YEAR_RANGE = re.compile(r"(?:19|20)\d\d\s?[-/]\s?(?:19|20)\d\d")
# phonenumbers' strict check rejects numbers outside today's allocated ranges, which people still type (or
# mistype), so the lenient one is used; requiring a leading + or 0 keeps years and amounts out.
PHONE_START = re.compile(r"\(?[+0]")
WORD = r"[^\W\d_][\w'’-]*"
_STREET_ENDS = "straat|laan|steenweg|plein|dreef|lei|kaai|gracht|singel|steeg"
# A street with a house number; a lowercase street only with an unmistakable ending ("onderweg 2", "loopbaan
# 10" are no addresses).
STREET = re.compile(
    rf"(?:\b[A-Z]\w*\s)?\b[A-Z]\w*(?:{_STREET_ENDS}|str|weg|baan|dijk|kade|markt|vest|rui|hof|pad|park)"
    rf"\s\d{{1,4}}[a-zA-Z]?\b"
    rf"|(?:\bGrote |\bKleine |\bOude )?\b(?:Markt|Plein|Kaai|Vest|Meir)\s\d{{1,4}}[a-zA-Z]?\b"
    rf"|\b\w+(?:{_STREET_ENDS})\s\d{{1,4}}[a-zA-Z]?\b",
)
POSTCODE_BEFORE = re.compile(r"\b\d{4}\s$")
# Someone saying who they are: after these words the next word is a name even in lowercase.
STRONG_CUE = re.compile(
    r"\b(?:ik\s+heet|mijn\s+naam\s+is|noem\s+me|ze\s+noemen\s+me|naam\s*:)\s+", re.IGNORECASE
)
# After these words a capitalised word, or a known first name in lowercase, is a name.
WEAK_CUE = re.compile(
    r"\b(?:ik\s+ben|dit\s+is|mevrouw|meneer|mevr\.?|dhr\.?|mw\.?|madame|monsieur|"
    r"(?:mijn|onze|haar|zijn)\s+(?:vriend|vriendin|man|vrouw|lief|pooier|baas|bazin|klant|collega|buurman|"
    r"buurvrouw|broer|zus|partner|ex|manager|huisbaas|chauffeur|begeleider|pimp))\s+",
    re.IGNORECASE,
)
NAME_WORD = re.compile(WORD)
NEXT_NAME_PART = re.compile(
    r"\s+(?:(?:van\s+de[nr]?|van|de[nr]?|te[nr]?|vander|vanden|'t|el|al|ben)\s+)?([^\W\d_a-z][\w'’-]*)"
)
PLACE_CUE = re.compile(r"\b(?:uit|in|te|van|naar)\s+", re.IGNORECASE)
PLACE_CUE_BEFORE = re.compile(r"\b(?:uit|in|te|van|naar)\s+$", re.IGNORECASE)
# The parts of deduce that find names and places; dates, ages and institutions are no identifying data here,
# and the other kinds are found above.
DEDUCE_OFF = {"institutions", "dates", "ages", "identifiers", "phone_numbers", "email_addresses", "urls"}


class Span(NamedTuple):
    """One find: where it is and what kind of personal data it is."""

    start: int
    end: int
    kind: str


class Lists(NamedTuple):
    """Word lists: deduce's Dutch names and common words plus this project's own lists."""

    places: re.Pattern[str]
    lowercase_places: FrozenSet[str]
    ambiguous_places: FrozenSet[str]
    first_names: FrozenSet[str]
    common_words: FrozenSet[str]
    public_names: re.Pattern[str]


def _alternation(words: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    """One pattern for whole words or phrases, longest first, hyphens counting as part of a word."""
    options = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{options})(?![\w-])", flags)


@contextlib.contextmanager
def _root_logging_kept() -> Iterator[None]:
    """Undo what deduce does to root logging: DEBUG to stdout on import, a handler when it logs while building."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


@functools.lru_cache(maxsize=1)
def _deduce() -> Any:
    """The deduce package."""
    with _root_logging_kept():
        import deduce
        import deduce.lookup_structs
    return deduce


def _deduce_lists() -> Path:
    """Where the installed deduce keeps its lookup lists, such as names/lst_first_name."""
    return Path(_deduce().__file__).parent / "data" / "lookup" / "src"


def _deduce_items(*names: str) -> Set[str]:
    return set().union(*(_deduce().lookup_structs.load_raw_itemset(_deduce_lists() / n) for n in names))


@functools.lru_cache(maxsize=1)
def lists() -> Lists:
    """The word lists, read once."""
    with open(LISTS_FILE, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    dutch = _deduce_items("locations/lst_placename/lst_municipality")
    common = {w.lower() for w in _deduce_items("whitelist/lst_common_word", "whitelist/lst_stop_word")}
    ambiguous = set(raw["ook_gewoon_woord"])
    lowercase = {p.lower() for p in [*raw["plaatsen_belgie"], *dutch]} - common - ambiguous
    return Lists(
        places=_alternation(raw["plaatsen_belgie"]),
        lowercase_places=frozenset(lowercase),
        ambiguous_places=frozenset(ambiguous),
        first_names=frozenset(n.lower() for n in _deduce_items("names/lst_first_name")) - common,
        common_words=frozenset(common),
        public_names=_alternation(raw["openbare_namen"], re.IGNORECASE),
    )


@functools.lru_cache(maxsize=1)
def deidentifier() -> Any:
    """Deduce, built once per process from its name and place lists (about 1.5 s and 80 MB)."""
    # Deduce's street and care-institution lists cost over 1 GB of memory, more than the action server may
    # use; streets are found by their endings instead. Built in a temporary copy so nothing is written into
    # the installed package, which may be read-only.
    with tempfile.TemporaryDirectory() as tmp, _root_logging_kept():
        shutil.copytree(_deduce_lists(), Path(tmp) / "src", ignore=shutil.ignore_patterns("__pycache__"))
        for folder in ("locations/lst_street", "institutions"):
            for items in (Path(tmp) / "src" / folder).rglob("items.txt"):
                items.write_text("", encoding="utf-8")
        return _deduce().Deduce(lookup_data_path=tmp, cache_path=tmp, build_lookup_structs=True)


def _ibans(text: str) -> Iterator[Span]:
    position = 0
    for match in IBAN_START.finditer(text):
        start = match.start()
        if start < position:
            continue
        # Letters and digits with single spaces (an IBAN is at most 34 + 8 spaces long); the longest prefix
        # that ends between words and passes the checksum is the IBAN.
        stretch = re.match(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*", text[start : start + 42])
        chunk = stretch.group(0) if stretch else ""
        for end in range(len(chunk), 14, -1):
            if not text[start + end : start + end + 1].isalnum() and _is_iban(chunk[:end]):
                yield Span(start, start + end, "rekeningnummer")
                position = start + end
                break


def _is_iban(candidate: str) -> bool:
    # Only the international checksum: the national check digits would reject IBANs people mistype or invent.
    with contextlib.suppress(ValueError):
        return bool(iban.validate(candidate, check_country=False))
    return False


def _phones(text: str) -> Iterator[Span]:
    for region in ("BE", "NL"):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
            if PHONE_START.match(match.raw_string):
                yield Span(match.start, match.end, "telefoonnummer")


def _numbers(text: str) -> Iterator[Span]:
    for match in DIGITS.finditer(text):
        if YEAR_RANGE.fullmatch(match.group(0)):
            continue
        digits = re.sub(r"\D", "", match.group(0))
        kind = "nummer"
        if nn.is_valid(digits):
            kind = "rijksregisternummer"
        elif len(digits) in (8, 9) and bsn.is_valid(digits):
            kind = "burgerservicenummer"
        yield Span(match.start(), match.end(), kind)


def _is_place(text: str, start: int, end: int) -> bool:
    """False for a place name that is also a word ("Landen zoals Zweden") unless "in", "uit" or so precedes it."""
    return text[start:end].lower() not in lists().ambiguous_places or bool(
        PLACE_CUE_BEFORE.search(text[:start])
    )


def _deduce_finds(text: str) -> Iterator[Span]:
    for annotation in deidentifier().deidentify(text, disabled=DEDUCE_OFF).annotations:
        start, end = annotation.start_char, annotation.end_char
        if annotation.tag in ("persoon", "patient"):
            yield Span(start, end, "naam")
        elif any(c.isdigit() for c in annotation.text):
            yield Span(start, end, "adres")
        elif _is_place(text, start, end):
            yield Span(start, end, "plaats")


def _name_after(text: str, start: int, strong: bool) -> Span | None:
    """The name that starts at `start`, if the word there is one; surname parts after it are included."""
    word = NAME_WORD.match(text, start)
    if not word:
        return None
    low = word.group(0).lower()
    known = lists()
    if strong:
        ok = low not in known.common_words
    else:
        ok = low in known.first_names or (word.group(0)[0].isupper() and low not in known.common_words)
    if not ok:
        return None
    end = word.end()
    # Further capitalised words, with Dutch and Flemish particles between them, belong to the name.
    while after := NEXT_NAME_PART.match(text, end):
        if after.group(1).lower() in known.common_words:
            break
        end = after.end()
    return Span(start, end, "naam")


def _cued_names(text: str) -> Iterator[Span]:
    for cue, strong in ((STRONG_CUE, True), (WEAK_CUE, False)):
        for match in cue.finditer(text):
            span = _name_after(text, match.end(), strong)
            if span:
                yield span


def _places(text: str) -> Iterator[Span]:
    known = lists()
    spans = [
        Span(m.start(), m.end(), "plaats")
        for m in known.places.finditer(text)
        if _is_place(text, m.start(), m.end())
    ]
    for cue in PLACE_CUE.finditer(text):
        for length in (3, 2, 1):  # the longest lowercase place name after the preposition
            words = re.match(rf"{WORD}(?:\s+{WORD}){{{length - 1}}}", text[cue.end() :])
            if words and words.group(0).lower() in known.lowercase_places:
                spans.append(Span(cue.end(), cue.end() + words.end(), "plaats"))
                break
    spans += [Span(m.start(), m.end(), "adres") for m in STREET.finditer(text)]
    for span in spans:
        # A postcode right before a place makes it part of an address ("9000 Gent").
        postcode = POSTCODE_BEFORE.search(text[: span.start])
        yield Span(postcode.start(), span.end, "adres") if postcode else span


def _merge(spans: List[Span]) -> List[Span]:
    """Overlapping finds become one, of the longest find's kind (on a tie, the kind listed first)."""
    order = list(PLACEHOLDERS)
    merged: List[Span] = []
    best: Span | None = None
    for span in sorted(spans):
        if merged and span.start < merged[-1].end:
            assert best is not None
            rank = (span.end - span.start, -order.index(span.kind))
            if rank > (best.end - best.start, -order.index(best.kind)):
                best = span
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end), best.kind)
        else:
            best = span
            merged.append(span)
    return merged


def find(text: str) -> List[Span]:
    """Every piece of personal data in the text, in order, without overlaps."""
    spans = [Span(m.start(), m.end(), "e-mailadres") for m in EMAIL.finditer(text)]
    spans += [Span(m.start(), m.end(), "link") for m in URL.finditer(text)]
    for finder in (_ibans, _phones, _numbers):
        spans += finder(text)
    # Names and places are guessed on a copy in which public names are blanked out, so that neither they nor
    # their parts ("Zeeland" in "Nieuw-Zeeland", "van Zweden") can start a guess. Same length, same offsets.
    masked = lists().public_names.sub(lambda m: "x" * len(m.group(0)), text)
    for guesser in (_deduce_finds, _cued_names, _places):
        spans += guesser(masked)
    return _merge(spans)


def redact(text: str) -> str:
    """The text with every piece of personal data replaced by a placeholder such as [naam]; nothing else changes."""
    out: List[str] = []
    position = 0
    for span in find(text):
        out.append(text[position : span.start] + f"[{PLACEHOLDERS[span.kind]}]")
        position = span.end
    return "".join(out) + text[position:]


def personal_data(text: str) -> List[str]:
    """The kinds of personal data in the text, in Dutch and in order of appearance, each once."""
    return list(dict.fromkeys(span.kind for span in find(text)))
