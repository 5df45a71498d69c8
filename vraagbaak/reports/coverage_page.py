"""The coverage report as one self-contained Dutch HTML page, with its plots."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.outcomes import OUT_OF_SCOPE_INTENT, Outcome
from vraagbaak.reports import shared as rp
from vraagbaak.reports.coverage_analysis import (
    Coverage,
    Record,
    confused_with,
    consequence,
    hard_pairs,
    per_intent_accuracy,
    pipeline_descriptions,
)
from vraagbaak.reports.shared import Html, esc

# ---------------------------------------------------------------- plots


def heatmap(
    kb: KnowledgeBase, records: Sequence[Record], labels: Sequence[str], number: Mapping[str, int]
) -> Html:
    """Confusion heatmap: rows what was meant, columns what the model recognised (share per row)."""
    import numpy as np

    index = {intent: i for i, intent in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    for r in records:
        counts[index[r.expected], index[r.predicted]] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = len(labels)
    figure = rp.new_figure(4 + 0.42 * size, 1.5 + 0.36 * size)
    axes = figure.subplots()
    shown = axes.imshow(shares, cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
    axes.set_yticks(range(size))
    axes.set_yticklabels(
        [f"{number[intent]}. {rp.intent_label(kb, intent)}" for intent in labels], fontsize=8
    )
    axes.set_xticks(range(size))
    axes.set_xticklabels([str(number[intent]) for intent in labels], fontsize=8)
    axes.set_xlabel("Wat het model herkende (zelfde nummers als links)")
    axes.set_ylabel("Wat de testzin bedoelde")
    for row in range(size):
        for col in range(size):
            if counts[row, col]:
                colour = "white" if shares[row, col] > 0.6 else "black"
                axes.text(col, row, int(counts[row, col]), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(shown, ax=axes, fraction=0.03, label="Deel van de testzinnen in die rij")
    return rp.image(figure, "Verwarringstabel: per onderwerp waar de testzinnen terechtkwamen")


def histogram(records: Sequence[Record], threshold: float) -> Html:
    """Confidence of the recognised intent, recognised correctly vs not."""
    from matplotlib.ticker import MaxNLocator

    right = [r.confidence for r in records if r.correct]
    wrong = [r.confidence for r in records if not r.correct]
    figure = rp.new_figure(9, 5)
    top, bottom = figure.subplots(2, 1, sharex=True)
    bins = [i / 20 for i in range(21)]
    for axes, values, colour, title in (
        (top, right, "#2e7d32", f"Goed herkend ({len(right)} testzinnen)"),
        (bottom, wrong, "#c62828", f"Niet goed herkend ({len(wrong)} testzinnen)"),
    ):
        axes.hist(values, bins=bins, color=colour, edgecolor="white")
        axes.axvline(threshold, color="#333", linestyle="--", linewidth=1)
        axes.set_title(title, fontsize=10)
        axes.set_ylabel("Aantal")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_xlabel(f"Zekerheid van het model (onder {threshold:.0%} vraagt de bot door: stippellijn)")
    bottom.set_xlim(0, 1)
    return rp.image(figure, "Histogram van de zekerheid, goed en niet goed herkende testzinnen apart")


# ---------------------------------------------------------------- HTML


def card(value: str, label: str, note: str, ident: str = "", data: str = "") -> str:
    """A headline figure."""
    ident_attr = f" id='{esc(ident)}'" if ident else ""
    data_attr = f" data-waarde='{esc(data)}'" if data else ""
    return (
        f"<div class='card'><span class='value'{ident_attr}{data_attr}>{esc(value)}</span>"
        f"<span class='label'>{esc(label)}</span><span class='note'>{esc(note)}</span></div>"
    )


def score_html(correct: int, total: int) -> Html:
    """'9 van 10 (90,0%)' with a colour class."""
    if not total:
        return Html("—")
    share = correct / total
    return Html(f"<span class='{rp.score_class(share)}'>{esc(rp.pct(share))}</span> ({correct} van {total})")


def confused_html(kb: KnowledgeBase, counter: Counter[str] | None) -> str:
    """'Title (3×), Title (1×)' for the three most frequent."""
    if not counter:
        return "—"
    return "; ".join(f"{rp.intent_label(kb, i)} ({n}×)" for i, n in counter.most_common(3))


def pipeline_text(pipeline: Dict[str, Any] | None) -> str:
    """Which spaCy pipeline the model was built with, in words."""
    if not pipeline:
        return "onbekend (het model bevat geen vraagbaak_pipeline.json)"
    name = str(pipeline.get("pipeline"))
    description = pipeline_descriptions().get(name, "onbekende pipeline")
    return f"{name} (spaCy {pipeline.get('spacy', '?')}): {description}"


def render(kb: KnowledgeBase, coverage: Coverage) -> str:
    """The whole report as one HTML page."""
    held = coverage.held_out
    threshold = coverage.thresholds["threshold"]
    training_counts = Counter(i for _, i in coverage.training)
    # The heatmap shows what the held-out set touches; the tables also list kinds only seen in training.
    labels = rp.intent_order(kb, [r.expected for r in held] + [r.predicted for r in held])
    rows_order = rp.intent_order(kb, labels + list(training_counts))
    number = {intent: i + 1 for i, intent in enumerate(rows_order)}
    held_counts = per_intent_accuracy(held)
    cv_counts = per_intent_accuracy(coverage.cv.records) if coverage.cv else {}
    mixed = confused_with(list(held) + (coverage.cv.records if coverage.cv else []))
    correct = sum(r.correct for r in held)
    out_scope = [r for r in held if r.expected == OUT_OF_SCOPE_INTENT]
    rejected = sum(r.action.outcome != Outcome.ANSWERED for r in out_scope)

    parts: List[str] = [
        "<h1>Hoe goed begrijpt Vraagbaak de vragen?</h1>",
        f"<p class='sub'>Rapport van {esc(coverage.generated.strftime('%d-%m-%Y %H:%M'))}, "
        f"model {esc(coverage.model.name)}. Taalverwerking: {esc(pipeline_text(coverage.pipeline))}.</p>",
        "<div class='cards'>",
        card(
            rp.pct(coverage.accuracy),
            "testzinnen goed herkend",
            f"{correct} van {len(held)} zinnen die de bot nooit eerder zag",
            "kop-nauwkeurigheid",
            repr(coverage.accuracy),
        ),
    ]
    if coverage.cv:
        parts.append(
            card(
                rp.pct(coverage.cv.accuracy),
                f"kruisvalidatie ({coverage.cv.folds} delen)",
                "oefenzinnen, telkens één deel achtergehouden",
                "kop-kruisvalidatie",
                repr(coverage.cv.accuracy),
            )
        )
    else:
        parts.append(
            card("—", "kruisvalidatie", "niet gemeten: overgeslagen om tijd te winnen", "kop-kruisvalidatie")
        )
    parts += [
        card(
            rp.pct(rejected / max(len(out_scope), 1)),
            "vragen over iets anders afgewezen",
            f"{rejected} van {len(out_scope)} testzinnen buiten het onderwerp kregen geen FAQ-antwoord",
            "kop-buiten-bereik",
            repr(rejected / max(len(out_scope), 1)),
        ),
        card(
            str(len(coverage.training)),
            "oefenzinnen",
            f"en {len(held)} testzinnen (apart gehouden, niet om te leren)",
            "kop-zinnen",
            f"{len(coverage.training)}/{len(held)}",
        ),
        "</div>",
        "<div class='info'><strong>Zo lees je dit.</strong> Een testzin is <em>goed herkend</em> als het model "
        "het juiste onderwerp koos. Dat is dezelfde meting als <code>rasa test nlu</code> van Rasa. Wat de bot "
        f"daarna doet, hangt af van hoe zeker hij is: onder {esc(rp.pct(threshold))} zekerheid vraagt hij eerst "
        "wat je bedoelt, of zegt hij eerlijk dat hij het niet weet.</div>",
    ]

    topic_rows: List[List[object]] = []
    other_rows: List[List[object]] = []
    for intent in rows_order:
        if intent not in held_counts and intent not in training_counts:
            continue
        ok, total = held_counts.get(intent, (0, 0))
        row: List[object] = [
            number[intent],
            rp.intent_label(kb, intent),
            training_counts.get(intent, 0),
            total,
        ]
        row.append(score_html(ok, total))
        if coverage.cv:
            row.append(score_html(*cv_counts.get(intent, (0, 0))))
        row.append(confused_html(kb, mixed.get(intent)))
        (topic_rows if kb.by_intent(intent) else other_rows).append(row)
    headers = ["Nr", "Onderwerp", "Oefenzinnen", "Testzinnen", "Goed herkend (test)"]
    headers += ["Goed herkend (kruisvalidatie)"] if coverage.cv else []
    headers += ["Vaak verward met"]
    parts += [
        "<h2>Per onderwerp</h2>",
        "<p>Per onderwerp: hoeveel zinnen de bot heeft om van te leren, hoe vaak hij de testzinnen goed herkende, "
        "en met welke onderwerpen hij het het vaakst verwart (in beide richtingen, geteld over de testzinnen"
        + (" en de kruisvalidatie" if coverage.cv else "")
        + ").</p>",
        rp.table(headers, topic_rows, table_id="onderwerpen"),
        "<h3>Andere soorten berichten</h3>",
        "<p>Geen vragen over het standpunt, maar berichten waarop de bot ook moet reageren.</p>",
        rp.table(headers, other_rows, table_id="andere-berichten"),
        "<h2>Waar gaat het mis?</h2>",
        "<p>Elke rij is wat een testzin bedoelde, elke kolom wat het model herkende. Goed herkende zinnen staan op "
        "de diagonaal. Een vakje buiten de diagonaal betekent een verwisseling.</p>",
        heatmap(kb, held, labels, number),
        "<h2>Hoe zeker is de bot?</h2>",
        "<p>Boven: zinnen die goed herkend werden. Onder: zinnen die fout gingen. Fouten met een lage zekerheid "
        "vangt de bot meestal op door door te vragen. Fouten met een hoge zekerheid zijn het gevaarlijkst: dan "
        "geeft de bot zonder twijfel het verkeerde antwoord.</p>",
        histogram(held, threshold),
    ]

    failing = [r for r in held if not r.correct]
    parts += [
        f"<h2>Testzinnen die niet goed herkend werden ({len(failing)})</h2>",
        "<p>Elke testzin waarbij het model een ander onderwerp koos, met wat de bot daarna echt deed.</p>",
        rp.table(
            ["Testzin", "Bedoeld", "Model herkende", "Zekerheid", "Wat de bot deed", "Gevolg voor de vrager"],
            [
                [
                    r.text,
                    rp.intent_label(kb, r.expected),
                    rp.intent_label(kb, r.predicted),
                    rp.pct(r.confidence),
                    rp.describe(kb, r.action),
                    consequence(kb, r),
                ]
                for r in failing
            ],
            row_classes=["mis"] * len(failing),
            table_id="fouten",
        )
        if failing
        else "<p>Geen: alle testzinnen werden goed herkend.</p>",
    ]
    doubted = [
        r for r in held if r.correct and kb.by_intent(r.expected) and r.action.outcome != Outcome.ANSWERED
    ]
    if doubted:
        parts += [
            f"<h3>Goed herkend, maar de bot twijfelde ({len(doubted)})</h3>",
            "<p>Het model koos het juiste onderwerp, maar was niet zeker genoeg om meteen te replies.</p>",
            rp.table(
                ["Testzin", "Bedoeld", "Zekerheid", "Wat de bot deed"],
                [
                    [r.text, rp.intent_label(kb, r.expected), rp.pct(r.confidence), rp.describe(kb, r.action)]
                    for r in doubted
                ],
                table_id="twijfel",
            ),
        ]

    pairs = hard_pairs(kb, coverage, coverage.thresholds["ambiguity_threshold"])
    pair_rows = []
    for p in pairs:
        first, second = kb.by_intent(p.first), kb.by_intent(p.second)
        twins = bool(first and second and first.twin == second.id)
        row = [rp.intent_label(kb, p.first), rp.intent_label(kb, p.second), p.swapped_held_out]
        row += [p.swapped_cv] if coverage.cv else []
        row += [p.close, "bijna gelijke officiële vragen" if twins else ""]
        pair_rows.append(row)
    pair_headers = ["Onderwerp", "Onderwerp", "Verwisseld (test)"]
    pair_headers += ["Verwisseld (kruisvalidatie)"] if coverage.cv else []
    pair_headers += ["Bijna gelijk scorend", "Opmerking"]
    parts += [
        "<h2>Onderwerpen die moeilijk uit elkaar te houden zijn</h2>",
        "<p>Paren die verwisseld werden, of waarbij het model twijfelde tussen de twee (minder dan "
        f"{esc(rp.pct(coverage.thresholds['ambiguity_threshold']))} verschil in zekerheid). Meer en duidelijker "
        "oefenzinnen voor zulke paren helpen het meest.</p>",
        rp.table(pair_headers, pair_rows, table_id="paren")
        if pair_rows
        else "<p>Geen: het model hield alle onderwerpen goed uit elkaar.</p>",
        "<h2>Hoe is dit gemeten?</h2>",
        "<ul>"
        f"<li><strong>Testzinnen</strong> ({len(held)}): zinnen die apart gehouden worden en nooit gebruikt om te "
        "leren. Ze lijken op echte vragen, met tikfouten en Vlaamse spreektaal.</li>"
        "<li><strong>Goed herkend</strong>: het model koos het onderwerp dat de zin bedoelde. Dit is precies het "
        "cijfer 'accuracy' van Rasa's eigen <code>rasa test nlu</code>.</li>"
        "<li><strong>Kruisvalidatie</strong>: de oefenzinnen worden in gelijke delen gesplitst. Telkens leert "
        "een nieuw model van alle delen behalve één, en wordt het op dat ene deel getest.</li>"
        "<li><strong>Afgewezen</strong>: een vraag over iets anders kreeg geen FAQ-antwoord, maar de melding "
        "dat de bot daar niet mee kan helpen (of een vraag wat je bedoelt).</li>"
        "</ul>",
    ]
    return rp.page("Vraagbaak: hoe goed begrijpt de bot de vragen?", "\n".join(parts))


def write_report(coverage: Coverage, out_dir: Path) -> Path:
    """Write index.html and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(render(knowledge_base(), coverage), encoding="utf-8")
    return path
