"""Dekking: regenerate reports/coverage/index.html in the background with `python -m vraagbaak.reports.coverage`.

A separate process, so TensorFlow and the cross-validation models never load into the console.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from vraagbaak.console.durations import COVERAGE_WITH_CV, COVERAGE_WITHOUT_CV, Durations
from vraagbaak.console.jobs import ConsoleError, Job
from vraagbaak.console.workspace import Workspace
from vraagbaak.ops.processes import start_process

POLL_SECONDS = 0.5
STEP_WORDS = ("Testzinnen", "Kruisvalidatie", "Rapport")


def coverage_kind(cross_validation: bool) -> str:
    """The durations key for this kind of run."""
    return COVERAGE_WITH_CV if cross_validation else COVERAGE_WITHOUT_CV


def last_step(log: Path) -> str:
    """The latest progress line the coverage tool printed (it prints no questions)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    steps = [line.strip() for line in lines if line.strip().startswith(STEP_WORDS)]
    return steps[-1][:120] if steps else ""


def run_coverage(
    workspace: Workspace, model: Path, cross_validation: bool, durations: Durations, job: Job
) -> Path:
    """Run the coverage tool for this model; returns the report's path."""
    if not model.exists():
        raise ConsoleError(
            "Het model van de bot is niet gevonden. Vraag een technische collega om `make model`."
        )
    workspace.var_dir.mkdir(parents=True, exist_ok=True)
    log = workspace.var_dir / "console-dekking.log"
    log.write_bytes(b"")
    args = [
        sys.executable,
        "-m",
        "vraagbaak.reports.coverage",
        "--model",
        str(model),
        "--out",
        str(workspace.coverage_dir),
    ]
    if not cross_validation:
        args.append("--skip-cv")
    started = time.monotonic()
    job.progress(step="Testzinnen ontleden")
    process = start_process(args, log=log)
    while process.poll() is None:
        step = last_step(log)
        if step:
            job.progress(step=step)
        time.sleep(POLL_SECONDS)
    if process.returncode != 0:
        raise ConsoleError(
            "Het rapport kon niet gemaakt worden. Vraag een technische collega om `make coverage` te draaien."
        )
    durations.remember(coverage_kind(cross_validation), time.monotonic() - started)
    return workspace.coverage_dir / "index.html"
