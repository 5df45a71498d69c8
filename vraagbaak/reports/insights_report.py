"""`make insights`: a self-contained Dutch HTML report on answered and unanswered questions for staff."""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Sequence

from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.paths import REPORTS_DIR
from vraagbaak.core.redaction import PLACEHOLDER
from vraagbaak.core.settings import INSIGHTS_KEEP_TEXT_ENV, INSIGHTS_RETENTION_ENV, Settings
from vraagbaak.insights import CATEGORIES, InsightStore
from vraagbaak.reports import shared as rp

DEFAULT_OUTPUT = REPORTS_DIR / "insights" / "index.html"
DEFAULT_PERIOD_DAYS = 30
COLOURS = {
    Outcome.ANSWERED: "#2e7d32",
    Outcome.CLARIFIED: "#f9a825",
    Outcome.NONE_OF_THESE: "#ef6c00",
    Outcome.OUT_OF_SCOPE: "#c62828",
    Outcome.EMERGENCY: "#6a1b9a",
}
EXPLANATIONS = {
    Outcome.ANSWERED: "De bot gaf een officieel antwoord.",
    Outcome.CLARIFIED: "De bot twijfelde en stelde 2 of 3 vragen voor.",
    Outcome.NONE_OF_THESE: "Geen van de voorgestelde vragen paste.",
    Outcome.OUT_OF_SCOPE: "De vraag ging over iets anders dan het standpunt over sekswerk.",
    Outcome.EMERGENCY: "Iemand leek in gevaar; de bot verwees naar 112.",
}
# Words that say nothing about the subject of a question, on top of spaCy's Dutch stop words.
EXTRA_STOP_WORDS = frozenset(
    "amnesty international jullie vraag vragen weten graag willen kunnen mogen moeten zeggen zien "
    "hallo hoi dag goed beter ding iets iemand waarom hoeveel welke wanneer waar vinden denken per".split()
)
MIN_THEME_QUESTIONS = 2
MAX_THEMES = 15
MAX_EXAMPLES = 3

Lemmatizer = Callable[[str], List[str]]


@dataclass(frozen=True)
class Theme:
    """A word (lemma) that comes back in several unanswered questions."""

    word: str
    questions: int
    examples: List[str]


def spacy_lemmatizer() -> Lemmatizer:
    """Dutch tokens as lower-case lemmas, stop words removed (spaCy's offline lookup table)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # spaCy imports TensorFlow; its chatter helps nobody
    import spacy
    from spacy.lang.nl.stop_words import STOP_WORDS

    nlp = spacy.blank("nl")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except Exception:  # without spacy-lookups-data the words are simply not lemmatised
        nlp = spacy.blank("nl")
    stop = {w.lower() for w in STOP_WORDS} | EXTRA_STOP_WORDS

    def lemmas(text: str) -> List[str]:
        words = [(t.lemma_ or t.text).lower() for t in nlp(text) if t.is_alpha and len(t.text) >= 3]
        return [w for w in words if w not in stop and len(w) >= 3]

    return lemmas


def themes(texts: Sequence[str], lemmatize: Lemmatizer, top: int = MAX_THEMES) -> List[Theme]:
    """Lemmas that occur in at least two questions, ranked by how many questions mention them."""
    counter: Counter = Counter()
    examples: Dict[str, List[str]] = {}
    for text in texts:
        # Placeholders such as [link] are redaction marks, not what people asked about.
        for word in sorted(set(lemmatize(PLACEHOLDER.sub(" ", text)))):
            counter[word] += 1
            found = examples.setdefault(word, [])
            if len(found) < MAX_EXAMPLES and text not in found:
                found.append(text)
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [Theme(w, n, examples[w]) for w, n in ranked if n >= MIN_THEME_QUESTIONS][:top]


def days_between(first: date, last: date) -> List[date]:
    """Every day from first to last, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def trend_image(category: Outcome, days: Sequence[date], values: Sequence[int]) -> rp.Html:
    """A bar chart of one category per day, embedded."""
    figure = rp.new_figure(8, 2.4)
    axes = figure.subplots()
    axes.bar(range(len(days)), values, color=COLOURS[category])
    axes.set_title(CATEGORIES[category], loc="left", fontsize=11)
    axes.set_ylabel("aantal per dag")
    step = max(1, len(days) // 10)
    axes.set_xticks(range(0, len(days), step))
    axes.set_xticklabels([d.strftime("%d-%m") for d in days[::step]], fontsize=8)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_xlim(-0.6, len(days) - 0.4)
    axes.set_ylim(0, max(1, *values) * 1.1)  # an empty category still shows a clean zero line
    axes.spines[["top", "right"]].set_visible(False)
    return rp.image(figure, f"{CATEGORIES[category]}: aantal per dag")


def build_report(
    store: InsightStore,
    kb: KnowledgeBase,
    period_days: int = DEFAULT_PERIOD_DAYS,
    lemmatize: Lemmatizer | None = None,
) -> str:
    """The full HTML report; old stored questions are purged first."""
    removed = store.purge()
    today = store.today()
    first = today - timedelta(days=period_days - 1)
    days = days_between(first, today)
    counts = store.daily_counts(first)
    parts = [
        "<h1>Vraagbaak: inzichten</h1>",
        f"<p class='sub'>Periode: {first.strftime('%d-%m-%Y')} tot en met {today.strftime('%d-%m-%Y')} "
        f"({period_days} dagen). Dit rapport telt per dag hoe de bot antwoordde. "
        "Het rapport zegt nooit wie iets vroeg.</p>",
        "<h2>Totalen</h2>",
        rp.table(
            ["Uitkomst", "Wat betekent het?", "Aantal"],
            [
                [label, EXPLANATIONS[category], sum(counts.get(category, {}).values())]
                for category, label in CATEGORIES.items()
            ],
        ),
        "<h2>Per dag</h2>",
    ]
    for category in CATEGORIES:
        parts.append(trend_image(category, days, [counts.get(category, {}).get(d, 0) for d in days]))
    topics = store.topic_counts(first)
    if topics:
        parts.append("<h2>Meest beantwoorde onderwerpen</h2>")
        rows = [[topic.title if (topic := kb.by_id(t)) else t, n] for t, n in list(topics.items())[:10]]
        parts.append(rp.table(["Onderwerp", "Aantal"], rows))
    parts.append("<h2>Onbeantwoorde vragen: terugkerende thema's</h2>")
    parts.extend(question_section(store, lemmatize, removed))
    return rp.page("Vraagbaak: inzichten", "\n".join(parts))


def question_section(store: InsightStore, lemmatize: Lemmatizer | None, removed: int) -> List[str]:
    """Themes of stored questions in opt-in mode, otherwise a note that text storage is off."""
    retention = store.settings.insights_retention_days
    if not store.settings.insights_keep_text:
        return [
            "<p class='info'>Tekstopslag staat uit. De bot bewaart alleen aantallen, geen vragen. "
            "Zo blijft elke bezoeker anoniem. Wil je zien welke vragen de bot niet kon beantwoorden? "
            f"Lees dan de handleiding (docs/medewerkers/inzichten.md): daar staat hoe je het aanzet ({INSIGHTS_KEEP_TEXT_ENV}=true).</p>"
        ]
    questions = store.questions()
    parts = [
        f"<p>Tekstopslag staat aan. Vragen die de bot niet kon beantwoorden, worden {retention} dagen bewaard "
        "en daarna automatisch gewist. E-mailadressen, telefoonnummers, links, rekeningnummers, lange "
        "nummers, namen, plaatsen en adressen zijn vervangen door een label zoals [e-mail] of [naam]. De bot "
        "herkent niet elke naam of elk adres: lees de vragen met zorg en deel ze niet. "
        f"Nu bewaard: {len(questions)} vragen. "
        f"Net gewist omdat ze te oud waren: {removed}.</p>",
        "<p>Hoe de thema's gekozen worden: van elke vraag nemen we de woorden in hun basisvorm "
        "(bijvoorbeeld 'sekswerkers' wordt 'sekswerker'). Kleine woorden zoals 'de', 'het' en 'hoe' tellen "
        f"niet mee. Een woord is een thema als het in minstens {MIN_THEME_QUESTIONS} vragen staat.</p>",
    ]
    found = themes([q.text for q in questions], lemmatize or spacy_lemmatizer())
    if not found:
        return parts + ["<p>Er zijn nog te weinig vragen om thema's te tonen.</p>"]
    rows = [[t.word, t.questions, rp.Html("<br>".join(rp.esc(x) for x in t.examples))] for t in found]
    parts.append(rp.table(["Thema", "Aantal vragen", "Voorbeelden"], rows))
    return parts


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; settings come from the same environment variables as the bot."""
    parser = argparse.ArgumentParser(description="Maak het inzichtenrapport van Vraagbaak.")
    parser.add_argument("--dagen", type=int, default=DEFAULT_PERIOD_DAYS, help="aantal dagen in het rapport")
    parser.add_argument("--uit", type=Path, default=DEFAULT_OUTPUT, help="pad van het HTML-bestand")
    args = parser.parse_args(argv)
    if args.dagen < 1:
        parser.error("--dagen moet minstens 1 zijn")
    try:
        settings = Settings.from_env()
    except ValueError:
        print(f"{INSIGHTS_RETENTION_ENV} moet een heel getal van minstens 1 zijn.", file=sys.stderr)
        return 2
    report = build_report(InsightStore(settings), knowledge_base(), args.dagen)
    args.uit.parent.mkdir(parents=True, exist_ok=True)
    args.uit.write_text(report, encoding="utf-8")
    # The database URL can hold a password; show only where the report went.
    print(f"Rapport geschreven: {args.uit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
