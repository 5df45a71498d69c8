"""Activate, discard and restore: Rasa's PUT /model with the right file, every change in the audit log."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.staff.console.conftest import FakeRasa, Running
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.staff.console.audit import AuditLog
from vraagbaak.staff.console.durations import Durations
from vraagbaak.staff.console.jobs import ConsoleError
from vraagbaak.staff.console.models import ModelManager
from vraagbaak.staff.console.review import add_staff_phrasing
from vraagbaak.staff.console.workspace import Workspace


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
