"""Activate, discard and restore: Rasa's PUT /model with the right file, every change in the audit log."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.console import FakeRasa, Running
from vraagbaak.console.audit import AuditLog
from vraagbaak.console.durations import Durations
from vraagbaak.console.jobs import ConsoleError
from vraagbaak.console.models import ModelManager
from vraagbaak.console.review import add_staff_phrasing
from vraagbaak.console.workspace import Workspace
from vraagbaak.core.knowledge_base import KnowledgeBase


def manager(kb: KnowledgeBase, workspace: Workspace, rasa: FakeRasa) -> ModelManager:
    return ModelManager(kb, workspace, rasa, AuditLog(workspace.audit_log), Durations(workspace.timings))


def with_models(workspace: Workspace) -> Path:
    workspace.models_dir.mkdir(parents=True)
    workspace.default_model.write_bytes(b"oud")
    candidate = workspace.models_dir / "kandidaat-20261202-120000.tar.gz"
    candidate.write_bytes(b"nieuw")
    return candidate


def actions(workspace: Workspace) -> list:
    return [
        json.loads(line)["actie"] for line in workspace.audit_log.read_text(encoding="utf-8").splitlines()
    ]


def test_activate_then_restore_then_restore_again(kb: KnowledgeBase, workspace: Workspace) -> None:
    candidate = with_models(workspace)
    rasa = FakeRasa()
    models = manager(kb, workspace, rasa)
    assert models.active_model() == workspace.default_model
    models.state.candidate = str(candidate)
    assert models.activate("Ann") == candidate
    assert rasa.loaded == [str(candidate.resolve())]
    assert models.active_model() == candidate and models.previous() == workspace.default_model
    assert models.candidate() is None
    assert models.restore("Bo") == workspace.default_model
    assert rasa.loaded[-1] == str(workspace.default_model.resolve())
    assert models.previous() == candidate  # restoring can itself be undone
    models.restore("Bo")
    assert models.active_model() == candidate
    assert actions(workspace) == ["model_geactiveerd", "model_teruggezet", "model_teruggezet"]
    # The state survives a restart of the console.
    again = manager(kb, workspace, rasa)
    assert again.active_model() == candidate and again.previous() == workspace.default_model


def test_discard_deletes_the_candidate_and_never_loads_it(kb: KnowledgeBase, workspace: Workspace) -> None:
    candidate = with_models(workspace)
    rasa = FakeRasa()
    models = manager(kb, workspace, rasa)
    models.state.candidate = str(candidate)
    models.discard("Ann")
    assert not candidate.exists() and rasa.loaded == [] and models.candidate() is None
    with pytest.raises(ConsoleError, match="geen nieuw model"):
        models.activate("Ann")
    with pytest.raises(ConsoleError, match="geen vorig model"):
        models.restore("Ann")
    assert actions(workspace) == ["model_weggegooid"]


def test_staff_phrasings_are_compared_with_the_topic_they_chose(
    kb: KnowledgeBase, workspace: Workspace
) -> None:
    add_staff_phrasing(workspace.staff_nlu, "Komt Amnesty op voor souteneurs?", "faq_pooiers")
    add_staff_phrasing(workspace.staff_nlu, "Wanneer gaat de trein naar Gent?", "chat_buiten_bereik")
    items = manager(kb, workspace, FakeRasa())._staff_items()
    assert [i["verwacht"] for i in items] == [kb.by_intent("faq_pooiers").id, "buiten bereik"]
    assert {i["bron"] for i in items} == {"toegevoegd"}


def test_training_data_includes_a_staff_file_outside_data(workspace: Workspace) -> None:
    assert workspace.training_data_args() == [str(workspace.data_dir)]
    add_staff_phrasing(workspace.staff_nlu, "Komt Amnesty op voor souteneurs?", "faq_pooiers")
    assert workspace.training_data_args() == [str(workspace.data_dir), str(workspace.staff_nlu)]
    assert workspace.training_nlu_files()[-1] == workspace.staff_nlu
    assert Workspace().training_data_args() == [str(Workspace().data_dir)]  # the real one lives in data/nlu


async def test_the_buttons_on_the_page(running: Running) -> None:
    candidate = with_models(running.console.workspace)
    running.console.models.state.candidate = str(candidate)
    running.console.models.state.comparison = {
        "voor": {"model": "vraagbaak.tar.gz", "nauwkeurigheid": 0.9},
        "na": {"model": candidate.name, "nauwkeurigheid": 0.92},
        "onderwerpen": [
            {"onderwerp": "Beschermt Amnesty pooiers?", "is_onderwerp": True, "voor": [9, 10], "na": [10, 10]}
        ],
        "lijst": [],
        "testzinnen": 251,
    }
    async with running.client() as client:
        await running.login(client, name="Ann")
        async with client.get(running.url + "/verbeteren") as response:
            page = await response.text()
        assert "90,0%" in page and "92,0%" in page and "beter (+1)" in page and 'id="activeren"' in page
        token = await running.csrf(client, "/verbeteren")
        async with client.post(running.url + "/verbeteren/activeren", data={"csrf": token}) as response:
            page = await response.text()
        assert "is actief" in page and "Lopende gesprekken gaan gewoon door" in page
        assert running.rasa.loaded == [str(candidate.resolve())] and 'id="terugzetten"' in page
        async with client.post(running.url + "/verbeteren/terugzetten", data={"csrf": token}) as response:
            assert "weer actief" in await response.text()
    assert actions(running.console.workspace) == ["model_geactiveerd", "model_teruggezet"]


class FakeProcess:
    """What start_process returns, for a command that has already finished."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode

    def poll(self) -> int:
        return self.returncode


def test_training_makes_a_candidate_compares_and_records(
    kb: KnowledgeBase, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vraagbaak.console import models as models_module
    from vraagbaak.console.jobs import Job

    with_models(workspace)
    add_staff_phrasing(workspace.staff_nlu, "Komt Amnesty op voor souteneurs?", "faq_pooiers")
    commands: list = []

    def fake_start(argv: list, log: Path | None = None, env: object = None) -> FakeProcess:
        commands.append(list(argv))
        if "train" in argv:
            name = argv[argv.index("--fixed-model-name") + 1]
            (Path(argv[argv.index("--out") + 1]) / f"{name}.tar.gz").write_bytes(b"kandidaat")
        else:
            listing = json.loads(Path(argv[argv.index("--lijst") + 1]).read_text(encoding="utf-8"))
            result = {"voor": {"nauwkeurigheid": 0.9}, "na": {"nauwkeurigheid": 0.91}, "lijst": listing}
            Path(argv[argv.index("--uit") + 1]).write_text(json.dumps(result), encoding="utf-8")
        return FakeProcess()

    monkeypatch.setattr(models_module, "start_process", fake_start)
    models = manager(kb, workspace, FakeRasa())
    staff_list = [{"vraag": "Wat met pooiers?", "verwacht": "pooiers", "bron": "lijst"}]
    comparison = models.train(Job("training", "Trainen"), "Ann", staff_list)
    train, compare = commands
    assert train[train.index("--data") + 1 :] == [str(workspace.data_dir), str(workspace.staff_nlu)]
    assert "vraagbaak.console.compare" in compare
    assert compare[compare.index("--voor") + 1] == str(workspace.default_model)
    assert [item["bron"] for item in comparison["lijst"]] == ["toegevoegd", "lijst"]
    candidate = models.candidate()
    assert (
        candidate is not None and candidate.name.startswith("kandidaat-") and models.state.trained_by == "Ann"
    )
    assert actions(workspace) == ["model_getraind"]
    durations = json.loads(workspace.timings.read_text(encoding="utf-8"))
    assert set(durations) == {"training", "vergelijken"}


def test_a_failed_training_says_so_in_dutch(
    kb: KnowledgeBase, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vraagbaak.console import models as models_module
    from vraagbaak.console.jobs import Job

    with_models(workspace)
    monkeypatch.setattr(models_module, "start_process", lambda argv, log=None, env=None: FakeProcess(1))
    with pytest.raises(ConsoleError, match="Trainen is mislukt"):
        manager(kb, workspace, FakeRasa()).train(Job("training", "Trainen"), "Ann", [])


def test_compare_reports_accuracy_per_topic_and_the_staff_list(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compare.py with a fake ModelParser: the old model misses the staff phrasing, the new one answers it."""
    from tests.support.console import parse_result
    from vraagbaak.console import compare
    from vraagbaak.evaluation import offline as ev

    held_out = tmp_path / "test_nlu.yml"
    held_out.write_text(
        'version: "3.1"\nnlu:\n- intent: faq_pooiers\n  examples: |\n    - pooiers?\n    - souteneurs?\n',
        encoding="utf-8",
    )

    class FakeParser:
        def __init__(self, model: Path) -> None:
            self.new = "nieuw" in model.name

        def parse(self, texts: list) -> list:
            def one(text: str) -> dict:
                if text == "pooiers?" or self.new:
                    return parse_result(text, "faq_pooiers", [("faq_pooiers", 0.9), ("faq_kritiek", 0.05)])
                return parse_result(text, "nlu_fallback", [("faq_kritiek", 0.4), ("faq_pooiers", 0.35)])

            return [one(t) for t in texts]

    monkeypatch.setattr(ev, "ModelParser", FakeParser)
    items = [{"vraag": "souteneurs?", "verwacht": "pooiers", "bron": "toegevoegd"}]
    result = compare.compare(kb, Path("oud.tar.gz"), Path("nieuw.tar.gz"), items, held_out)
    assert result["voor"]["nauwkeurigheid"] == 0.5 and result["na"]["nauwkeurigheid"] == 1.0
    pooiers = kb.by_id("pooiers")
    assert result["onderwerpen"] == [
        {"onderwerp": pooiers.title, "is_onderwerp": True, "voor": [1, 2], "na": [2, 2]}
    ]
    (row,) = result["lijst"]
    assert row["klopt_voor"].startswith("nee") and row["klopt_na"] == "ja"
    assert row["na"] == f"beantwoord: {pooiers.title}" and row["verwacht"] == pooiers.title
    json.dumps(result)  # the console reads it back as JSON
