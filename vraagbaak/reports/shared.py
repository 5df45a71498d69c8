"""Shared pieces of the staff reports: Dutch labels for what the bot did, HTML building and embedded plots.

Staff never see intent names: every label shown comes from a topic's display title or from the Dutch
labels below. Every piece of text that goes into HTML passes through `esc` (or `table`, which escapes), and
every cell of a CSV file through `spreadsheet_cell`.
"""
from __future__ import annotations

import base64
import html
import io
import os
import re
import warnings
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Sequence

from vraagbaak.core.knowledge_base import KnowledgeBase, normalise_title
from vraagbaak.core.outcomes import (
    ABOUT_BOT_INTENT,
    CHOICE_INTENT,
    FALLBACK_INTENT,
    FORGET_INTENT,
    GOODBYE_INTENT,
    GREETING_INTENT,
    MENU_INTENT,
    NONE_OF_THESE_INTENT,
    OTHER_LANGUAGE_INTENT,
    OUT_OF_SCOPE_INTENT,
    PRIVACY_INTENT,
    SAFETY_INTENT,
    THANKS_INTENT,
    Outcome,
)
from vraagbaak.evaluation.offline import BotAction
from vraagbaak.ops.processes import PRIVATE_ENV

if TYPE_CHECKING:  # matplotlib is imported lazily: the ask tool in URL mode does not need it
    from matplotlib.figure import Figure

# The bot's own messages (berichten.yml) and the outcome they stand for in a REST reply.
MESSAGE_OUTCOMES: Dict[str, Outcome] = {
    "nood": Outcome.EMERGENCY,
    "buiten_bereik": Outcome.OUT_OF_SCOPE,
    "andere_taal": Outcome.OTHER_LANGUAGE,
    "geen_van_deze": Outcome.NONE_OF_THESE,
    "verduidelijk_kop": Outcome.CLARIFIED,
    "menu_intro": Outcome.MENU,
    "groet": Outcome.GREETING,
    "afscheid": Outcome.GOODBYE,
    "bedankt": Outcome.THANKS,
    "bot": Outcome.ABOUT_BOT,
    "vergeten": Outcome.FORGOTTEN,
    "privacy": Outcome.PRIVACY,
    "invoer_leeg": Outcome.INVALID,
    "invoer_te_lang": Outcome.INVALID,
    "invoer_onleesbaar": Outcome.INVALID,
    "ongeldig_verzoek": Outcome.INVALID,
    "onbekende_knop": Outcome.UNKNOWN_BUTTON,
    "onbekende_keuze": Outcome.UNKNOWN_CHOICE,
    "technisch_probleem": Outcome.TECHNICAL,
}

# Display names of the kinds of messages that are not topics (the expected side of the held-out set).
INTENT_LABELS: Dict[str, str] = {
    OUT_OF_SCOPE_INTENT: "Buiten bereik (ander onderwerp)",
    OTHER_LANGUAGE_INTENT: "Andere taal",
    SAFETY_INTENT: "Iemand in nood",
    GREETING_INTENT: "Begroeting",
    GOODBYE_INTENT: "Afscheid",
    THANKS_INTENT: "Bedankje",
    ABOUT_BOT_INTENT: "Vraag of dit een bot is",
    MENU_INTENT: "Vraag naar alle onderwerpen",
    FORGET_INTENT: "Gesprek laten wissen",
    PRIVACY_INTENT: "Vraag over privacy",
    NONE_OF_THESE_INTENT: "Keuze 'Geen van deze'",
    CHOICE_INTENT: "Nummer uit een lijst",
    FALLBACK_INTENT: "Twijfel",
}
UNKNOWN_KIND = "Ander soort bericht"


def intent_label(kb: KnowledgeBase, intent: str) -> str:
    """Display name of an intent: the topic's title, or a Dutch description; never the intent name."""
    topic = kb.by_intent(intent)
    if topic:
        return topic.title
    return INTENT_LABELS.get(intent, UNKNOWN_KIND)


def intent_order(kb: KnowledgeBase, intents: Sequence[str]) -> List[str]:
    """Topics in knowledge-base order first, then the other kinds in the order of INTENT_LABELS."""
    present = set(intents)
    known = [i for i in kb.intents if i in present] + [i for i in INTENT_LABELS if i in present]
    return known + sorted(present - set(known))


def _first_paragraph(text: str) -> str:
    return text.strip().split("\n\n")[0].strip()


def _message_pattern(template: str) -> re.Pattern[str]:
    """A regex for a bot message whose {placeholders} may hold any value."""
    parts = re.split(r"\{[a-z_]+\}", _first_paragraph(template))
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


def action_from_reply(kb: KnowledgeBase, messages: Sequence[Mapping[str, Any]]) -> BotAction:
    """What the bot did, read from the messages of a REST reply (no confidence over REST)."""
    if not messages:
        return BotAction(Outcome.NO_REPLY)
    for message in messages:
        marker = (message.get("custom") or {}).get("vraagbaak") or {}
        if marker.get("onderwerp"):
            return BotAction(Outcome.ANSWERED, str(marker["onderwerp"]))
    none_title = normalise_title(kb.message("knop_geen_van_deze"))
    for message in messages:
        titles = [str(b.get("title") or "") for b in message.get("buttons") or []]
        if titles and normalise_title(titles[-1]) == none_title:
            offered = [kb.by_title(t) for t in titles[:-1]]
            return BotAction(Outcome.CLARIFIED, candidates=tuple(t.id for t in offered if t))
    first = _first_paragraph(str(messages[0].get("text") or ""))
    for key, outcome in MESSAGE_OUTCOMES.items():
        if key in kb.messages and _message_pattern(kb.messages[key]).fullmatch(first):
            return BotAction(outcome)
    return BotAction(Outcome.OTHER)


def describe(kb: KnowledgeBase, action: BotAction) -> str:
    """One line for staff: 'beantwoord: <title>', 'verduidelijkt: A / B', or the outcome alone."""
    if action.outcome == Outcome.ANSWERED and action.topic_id:
        topic = kb.by_id(action.topic_id)
        return f"{action.outcome.label}: {topic.title if topic else action.topic_id}"
    if action.outcome == Outcome.CLARIFIED and action.candidates:
        titles = [t.title for t in (kb.by_id(c) for c in action.candidates) if t]
        return f"{action.outcome.label}: {' / '.join(titles)}"
    return action.outcome.label


def quiet_process() -> None:
    """Rasa in this process gets the launcher's privacy settings; staff see the tool's lines, not library noise."""
    os.environ.update(PRIVATE_ENV)  # before TensorFlow is first imported, so its start-up chatter stays off
    warnings.simplefilter("ignore")
    # Libraries imported later reset the filters; replacing the printer keeps their warnings quiet anyway.
    warnings.showwarning = lambda *args, **kwargs: None


# ---------------------------------------------------------------- formatting and HTML


def pct(value: float) -> str:
    """A share as a Dutch percentage with one decimal: 0.9612 -> '96,1%'."""
    return f"{value * 100:.1f}".replace(".", ",") + "%"


def esc(value: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(value), quote=True)


# Excel, LibreOffice and Google Sheets read a cell starting with one of these as a formula (tab and carriage
# return because some of them skip those first); a formula in a question could open links or run commands.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading apostrophe before anything that could be a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Html(str):
    """Text that is already HTML (built from escaped parts); `table` inserts it as is."""


def cell(value: object) -> str:
    """A table cell's content: escaped unless it is Html."""
    return value if isinstance(value, Html) else esc(value)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    row_classes: Sequence[str] | None = None,
    table_id: str = "",
) -> Html:
    """An HTML table with escaped cells."""
    head = "".join(f"<th scope='col'>{esc(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        css = row_classes[index] if row_classes else ""
        attr = f" class='{esc(css)}'" if css else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>")
    ident = f" id='{esc(table_id)}'" if table_id else ""
    return Html(f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d1d1f;line-height:1.5}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #ffcc00;padding-bottom:.2em}
.sub{color:#555;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:1em;margin:1.5em 0}
.card{flex:1 1 200px;border:1px solid #ddd;border-radius:8px;padding:1em;background:#fafafa}
.card .value{font-size:2em;font-weight:700;display:block}
.card .label{color:#333}
.card .note{color:#666;font-size:.85em;display:block;margin-top:.3em}
table{border-collapse:collapse;width:100%;margin:1em 0;font-size:.93em}
th,td{border:1px solid #ddd;padding:.4em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2}
tr.mis td{background:#fdecea}
tr.goed td{background:#f1f8f1}
.score-hoog{color:#1b5e20;font-weight:600}.score-mid{color:#8a5a00;font-weight:600}
.score-laag{color:#b71c1c;font-weight:700}
.box{border-left:5px solid #b71c1c;background:#fdecea;padding:.6em 1em;margin:1em 0}
.info{border-left:5px solid #1565c0;background:#e8f0fb;padding:.6em 1em;margin:1em 0}
img{max-width:100%;height:auto;border:1px solid #eee}
.klein{font-size:.85em;color:#555}
"""


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML page (inline CSS, no external files)."""
    return (
        "<!DOCTYPE html>\n<html lang='nl'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def score_class(value: float) -> str:
    """CSS class for a score, so weak topics stand out (shown as text too, never by colour only)."""
    return "score-hoog" if value >= 0.9 else "score-mid" if value >= 0.8 else "score-laag"


# ---------------------------------------------------------------- plots


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib figure drawn off-screen (Agg), so no display is needed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def png_data_uri(figure: Figure) -> str:
    """The figure as an embedded PNG, so the HTML file can be e-mailed on its own."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def image(figure: Figure, alt: str) -> Html:
    """An <img> with the figure embedded."""
    return Html(f"<img src='{png_data_uri(figure)}' alt='{esc(alt)}'>")
