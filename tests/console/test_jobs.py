"""Background jobs: counted and estimated progress, honest time left, Dutch failures, one training at a time."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.console import FakeClock
from vraagbaak.console.coverage_job import last_step
from vraagbaak.console.durations import TRAINING, Durations, describe_estimate, minutes
from vraagbaak.console.jobs import (
    DONE,
    ESTIMATE_CAP,
    FAILED,
    RUNNING,
    ConsoleError,
    Job,
    JobBusy,
    JobRunner,
)


def test_counted_progress_and_time_left() -> None:
    clock = FakeClock()
    job = Job("lijst", "Lijst testen", clock)
    job.progress(0, 200)
    assert job.percent() == 0 and job.seconds_left() is None
    clock.advance(10)
    job.progress(50)
    assert job.percent() == 25 and job.seconds_left() == pytest.approx(30)
    status = job.status()
    assert status["gedaan"] == 50 and status["totaal"] == 200 and status["procent"] == 25.0
    assert status["seconden_te_gaan"] == 30 and not status["klaar"]


def test_estimated_progress_never_claims_to_be_done() -> None:
    clock = FakeClock()
    job = Job("training", "Opnieuw trainen", clock, expected_seconds=100)
    clock.advance(40)
    assert job.percent() == 40 and job.seconds_left() == 60
    clock.advance(200)
    assert job.percent() == ESTIMATE_CAP and job.seconds_left() == 0
    job.state = DONE
    assert job.percent() == 100


def test_a_job_without_total_or_estimate_says_nothing_about_time() -> None:
    job = Job("dekking", "Dekking", FakeClock())
    assert job.percent() == 0 and job.seconds_left() is None and job.status()["seconden_te_gaan"] is None


def test_the_runner_keeps_the_result() -> None:
    runner = JobRunner(FakeClock())

    def work(job: Job) -> str:
        job.progress(1, 1, "klaar")
        return "resultaat"

    job = runner.start("lijst", "Lijst", work, background=False)
    assert job.state == DONE and job.result == "resultaat" and job.status()["klaar"]
    assert runner.get(job.id) is job and runner.latest("lijst") is job and runner.get("onbekend") is None


def test_failures_carry_a_dutch_message_and_never_the_error_text(caplog: pytest.LogCaptureFixture) -> None:
    runner = JobRunner(FakeClock())

    def leaks(job: Job) -> None:
        raise ValueError("vraag van een bezoeker GEHEIM")

    def explains(job: Job) -> None:
        raise ConsoleError("Trainen is mislukt.")

    with caplog.at_level("INFO"):
        failed = runner.start("training", "Trainen", leaks, background=False)
        explained = runner.start("training", "Trainen", explains, background=False)
    assert failed.state == FAILED and "ValueError" in failed.error and "GEHEIM" not in failed.error
    assert explained.error == "Trainen is mislukt."
    assert "GEHEIM" not in caplog.text and "taak training mislukt" in caplog.text


def test_one_training_at_a_time() -> None:
    runner = JobRunner(FakeClock())
    release = threading.Event()
    first = runner.start("training", "Trainen", lambda job: release.wait(10), exclusive=True)
    with pytest.raises(JobBusy) as busy:
        runner.start("training", "Trainen", lambda job: None, exclusive=True)
    assert busy.value.job is first and first.state == RUNNING
    runner.start("lijst", "Lijst", lambda job: None, exclusive=True, background=False)  # other kinds may run
    release.set()
    for _ in range(100):
        if first.state != RUNNING:
            break
        threading.Event().wait(0.02)
    assert first.state == DONE
    assert (
        runner.start("training", "Trainen", lambda job: None, exclusive=True, background=False).state == DONE
    )


def test_the_runner_forgets_old_finished_jobs() -> None:
    runner = JobRunner(FakeClock(), keep=3)
    jobs = [runner.start("lijst", "Lijst", lambda job: None, background=False) for _ in range(5)]
    assert runner.get(jobs[0].id) is None and runner.get(jobs[-1].id) is jobs[-1]


def test_durations_give_an_honest_estimate(tmp_path: Path) -> None:
    durations = Durations(tmp_path / "tijden.json")
    assert durations.last(TRAINING) is None and durations.expected(TRAINING) == 120
    assert "schatting" in describe_estimate(None, 120)
    durations.remember(TRAINING, 93.4)
    assert Durations(tmp_path / "tijden.json").last(TRAINING) == 93.4
    assert describe_estimate(93.4, 120) == "Dit duurt ongeveer 2 minuten: zo lang duurde het de vorige keer."
    assert minutes(45) == "45 seconden" and minutes(60) == "60 seconden" and minutes(100) == "2 minuten"


def test_the_coverage_step_comes_from_the_tools_progress_lines(tmp_path: Path) -> None:
    log = tmp_path / "dekking.log"
    assert last_step(log) == ""
    log.write_text(
        "Testzinnen ontleden met vraagbaak.tar.gz…\nWARNING iets\nKruisvalidatie: deel 2 van 5 trainen en testen…\n"
    )
    assert last_step(log) == "Kruisvalidatie: deel 2 van 5 trainen en testen…"


def test_the_coverage_job_runs_the_tool_for_the_active_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vraagbaak.console import coverage_job
    from vraagbaak.console.durations import COVERAGE_WITHOUT_CV
    from vraagbaak.console.workspace import Workspace

    workspace = Workspace(var_dir=tmp_path / "var", coverage_dir=tmp_path / "cov")
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"model")
    seen: list = []

    class Finished:
        returncode = 0

        def poll(self) -> int:
            return 0

    def fake_start(argv: list, log: Path | None = None, env: object = None) -> Finished:
        seen.append(argv)
        workspace.coverage_dir.mkdir(parents=True)
        (workspace.coverage_dir / "index.html").write_text("<html></html>")
        return Finished()

    monkeypatch.setattr(coverage_job, "start_process", fake_start)
    durations = Durations(workspace.timings)
    report = coverage_job.run_coverage(workspace, model, False, durations, Job("dekking", "Dekking"))
    assert report.exists() and durations.last(COVERAGE_WITHOUT_CV) is not None
    (argv,) = seen
    assert argv[argv.index("--model") + 1] == str(model) and "--skip-cv" in argv
    with pytest.raises(ConsoleError, match="model van de bot"):
        coverage_job.run_coverage(
            workspace, tmp_path / "weg.tar.gz", True, durations, Job("dekking", "Dekking")
        )
