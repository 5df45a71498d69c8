"""Verbeteren: a phrasing is refused when it is a duplicate, leaks a test sentence or holds personal data."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from tests.support.console import Running
from vraagbaak.console import review
from vraagbaak.console.audit import AuditLog
from vraagbaak.console.review import Protected, ReviewChecks, normalise
from vraagbaak.console.workspace import Workspace
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import OUT_OF_SCOPE_INTENT
from vraagbaak.evaluation import offline as ev

TRAINING = [("Wat vindt Amnesty van pooiers?", "faq_pooiers"), ("Hoe laat is het?", OUT_OF_SCOPE_INTENT)]
HELD_OUT = "Beschermt Amnesty ook de souteneurs?"
BLIND = "Waarom praten jullie over decriminaliseren?"


@pytest.fixture
def checks(kb: KnowledgeBase) -> ReviewChecks:
    protected = [
        Protected(normalise(HELD_OUT), "een testzin"),
        Protected(normalise(BLIND), "een zin uit de blinde test"),
    ]
    return ReviewChecks(kb, TRAINING, protected)


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Wát  vindt Amnesty van ‘pooiërs’?! ") == "wat vindt amnesty van pooiers"
    assert normalise("café, CRÈME-brûlée") == "cafe creme brulee"


def test_a_new_phrasing_passes(checks: ReviewChecks) -> None:
    assert checks.check("Mag een pooier van Amnesty gewoon zijn gang gaan?", "faq_pooiers") is None
    assert checks.check("Wat is het weer morgen aan zee?", OUT_OF_SCOPE_INTENT) is None


@pytest.mark.parametrize(
    "text",
    ["Wat vindt Amnesty van pooiers?", "wat VINDT amnesty van pooiers", "Wát vindt Amnesty, van pooiërs!"],
)
def test_a_duplicate_is_refused_whatever_its_case_accents_or_punctuation(
    checks: ReviewChecks, text: str
) -> None:
    refusal = checks.check(text, "faq_kritiek")
    assert refusal is not None and refusal.code == "dubbel"
    assert "Beschermt Amnesty pooiers?" in refusal.message  # the topic's title, never the intent name
    assert "faq_" not in refusal.message


@pytest.mark.parametrize(
    "text, where",
    [
        (HELD_OUT, "testzin"),
        ("beschermt amnesty óók de SOUTENEURS", "testzin"),
        (BLIND, "blinde test"),
        ("Waarom práten jullie over decriminaliseren", "blinde test"),
    ],
)
def test_a_held_out_or_blind_sentence_is_refused_with_accents_folded(
    checks: ReviewChecks, text: str, where: str
) -> None:
    refusal = checks.check(text, "faq_pooiers")
    assert refusal is not None and refusal.code == "testzin" and where in refusal.message


@pytest.mark.parametrize(
    "text", ["Beschermt Amnesty ook de souteneur?", "Waarom praat jullie over decriminaliseren?"]
)
def test_a_near_copy_of_a_test_sentence_is_refused(checks: ReviewChecks, text: str) -> None:
    assert review.similarity(normalise(text), normalise(HELD_OUT if "souteneur" in text else BLIND)) >= 0.9
    refusal = checks.check(text, "faq_pooiers")
    assert refusal is not None and refusal.code == "lijkt_op_testzin"


def test_a_phrasing_below_the_similarity_line_is_accepted(checks: ReviewChecks) -> None:
    text = "Komt Amnesty op voor souteneurs en bordeelhouders?"
    assert review.similarity(normalise(text), normalise(HELD_OUT)) < 0.9
    assert checks.check(text, "faq_pooiers") is None


@pytest.mark.parametrize(
    "text",
    [
        "Mail me op lies.peeters@example.be over pooiers",
        "Bel me op 0470 12 34 56 over pooiers",
        "Mijn rekening BE71 0961 2345 6769 en pooiers",
        "Zie www.voorbeeld.be over pooiers",
        "Mijn dossiernummer is 12345678",
    ],
)
def test_personal_data_is_refused(checks: ReviewChecks, text: str) -> None:
    refusal = checks.check(text, "faq_pooiers")
    assert refusal is not None and refusal.code == "persoonsgegevens"


@pytest.mark.parametrize(
    "text, intent, code",
    [
        ("", "faq_pooiers", "leeg"),
        ("?!", "faq_pooiers", "leeg"),
        ("a" * 301, "faq_pooiers", "te_lang"),
        ("Wat met [pooiers](x)?", "faq_pooiers", "tekens"),
        ("/faq_pooiers", "faq_pooiers", "tekens"),
        ("Een nieuwe vraag", "chat_groet", "onderwerp"),
        ("Een nieuwe vraag", "bestaat_niet", "onderwerp"),
    ],
)
def test_other_refusals(checks: ReviewChecks, text: str, intent: str, code: str) -> None:
    refusal = checks.check(text, intent)
    assert refusal is not None and refusal.code == code


def test_the_real_test_sets_are_protected(kb: KnowledgeBase) -> None:
    workspace = Workspace()
    checks = ReviewChecks.load(kb, workspace.training_nlu_files(), workspace.protected_files())
    held_out = ev.load_nlu_examples(workspace.held_out)
    blind = [e for path in workspace.blind for e in ev.load_nlu_examples(path)]
    assert len(workspace.blind) >= 2 and held_out and blind
    for text, intent in held_out[:20] + blind[:20]:
        refusal = checks.check(text.upper() + "!", intent)
        assert refusal is not None and refusal.code in ("testzin", "dubbel", "persoonsgegevens"), text


# ---------------------------------------------------------------- the staff NLU file and the audit log


def test_the_staff_file_is_rasa_nlu_yaml_with_one_block_per_intent(tmp_path: Path) -> None:
    path = tmp_path / "medewerkers.yml"
    review.add_staff_phrasing(path, "  Wat met   pooiers en: #bordelen? ", "faq_pooiers")
    review.add_staff_phrasing(path, "Hoe laat is het in Brussel?", OUT_OF_SCOPE_INTENT)
    review.add_staff_phrasing(path, "En souteneurs dan?", "faq_pooiers")
    content = path.read_text(encoding="utf-8")
    assert content.count("- intent: faq_pooiers") == 1
    examples = review.read_staff_phrasings(path)
    assert examples == [
        ("Wat met pooiers en: #bordelen?", "faq_pooiers"),
        ("En souteneurs dan?", "faq_pooiers"),
        ("Hoe laat is het in Brussel?", OUT_OF_SCOPE_INTENT),
    ]
    # Rasa's own reader sees exactly the same phrasings.
    data = RasaYAMLReader().read(str(path))
    assert sorted((m.get("text"), m.get("intent")) for m in data.intent_examples) == sorted(examples)
    assert review.remove_staff_phrasing(path, "En souteneurs dan?", "faq_pooiers")
    assert not review.remove_staff_phrasing(path, "En souteneurs dan?", "faq_pooiers")
    assert len(review.read_staff_phrasings(path)) == 2
    review.remove_staff_phrasing(path, "Wat met pooiers en: #bordelen?", "faq_pooiers")
    review.remove_staff_phrasing(path, "Hoe laat is het in Brussel?", OUT_OF_SCOPE_INTENT)
    assert not path.exists()


def test_the_audit_log_only_grows(tmp_path: Path) -> None:
    path = tmp_path / "var" / "console-audit.jsonl"
    log = AuditLog(path)
    log.record("Ann", "zin_toegevoegd", zin="En souteneurs dan?", onderwerp="faq_pooiers")
    first = path.read_bytes()
    log.record("Bo", "model_geactiveerd", model="kandidaat-1.tar.gz", zin=None)
    assert path.read_bytes().startswith(first)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["actie"] for r in records] == ["zin_toegevoegd", "model_geactiveerd"]
    assert (
        records[0]["wie"] == "Ann" and records[0]["zin"] == "En souteneurs dan?" and "wanneer" in records[0]
    )
    assert "zin" not in records[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [e["wie"] for e in log.entries()] == ["Bo", "Ann"]


# ---------------------------------------------------------------- through the app


async def test_adding_through_the_page_checks_writes_and_records(running: Running) -> None:
    async with running.client() as client:
        await running.login(client, name=" ann ")  # the log names the account, never what was typed
        token = await running.csrf(client, "/verbeteren")
        data = {
            "csrf": token,
            "vraag": "Bel 0470 12 34 56 als pooiers je lastig vallen",
            "onderwerp": "faq_pooiers",
        }
        async with client.post(running.url + "/verbeteren/toevoegen", data=data) as response:
            assert response.status == 422 and "persoonlijke gegevens" in await response.text()
        data = {
            "csrf": token,
            "vraag": "Staat Amnesty achter souteneurs die vrouwen uitbuiten?",
            "onderwerp": "faq_pooiers",
        }
        async with client.post(running.url + "/verbeteren/toevoegen", data=data) as response:
            assert response.status == 200 and "Toegevoegd aan" in await response.text()
        async with client.post(running.url + "/verbeteren/toevoegen", data=data) as response:
            assert response.status == 422 and "staat al in de oefenzinnen" in await response.text()
    workspace = running.console.workspace
    assert review.read_staff_phrasings(workspace.staff_nlu) == [(data["vraag"], "faq_pooiers")]
    records = [json.loads(line) for line in workspace.audit_log.read_text(encoding="utf-8").splitlines()]
    assert records == [
        {
            "wanneer": records[0]["wanneer"],
            "wie": "Ann",
            "actie": "zin_toegevoegd",
            "zin": data["vraag"],
            "onderwerp": "faq_pooiers",
        }
    ]
