"""Background jobs with progress: lists of questions, the coverage report, training.

A job runs in a thread of the console process; the page polls its JSON status. Progress is either counted
(done of total) or estimated from the time the same kind of job took last time. Failures carry a Dutch
message for staff; the log gets only the kind of job and the type of error.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict

Clock = Callable[[], float]
LOG = logging.getLogger("vraagbaak.console")

RUNNING, DONE, FAILED = "bezig", "klaar", "mislukt"
KEEP_JOBS = 30
# A time-based estimate never reaches 100 % before the job says it is done.
ESTIMATE_CAP = 95.0


class ConsoleError(Exception):
    """A failure with a Dutch message that staff may read (never containing a secret)."""


class JobBusy(Exception):
    """A job of this kind is already running (only one training or coverage run at a time)."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.kind)
        self.job = job


@dataclass
class Job:
    """One background task and how far it got."""

    kind: str
    title: str
    clock: Clock = time.monotonic
    expected_seconds: float | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    state: str = RUNNING
    done: int = 0
    total: int = 0
    step: str = ""
    error: str = ""
    result: Any = None
    owner: str = ""
    started: float = 0.0
    finished: float | None = None

    def __post_init__(self) -> None:
        self.started = self.clock()

    def progress(self, done: int | None = None, total: int | None = None, step: str | None = None) -> None:
        """Report progress: items done of a total, and/or the step in words."""
        if total is not None:
            self.total = total
        if done is not None:
            self.done = done
        if step is not None:
            self.step = step

    def elapsed(self) -> float:
        """Seconds since the start (until the end, once finished)."""
        return (self.finished if self.finished is not None else self.clock()) - self.started

    def percent(self) -> float:
        """0-100: counted when there is a total, else estimated from the expected duration."""
        if self.state != RUNNING:
            return 100.0
        if self.total:
            return min(100.0, 100.0 * self.done / self.total)
        if self.expected_seconds:
            return min(ESTIMATE_CAP, 100.0 * self.elapsed() / self.expected_seconds)
        return 0.0

    def seconds_left(self) -> float | None:
        """An honest estimate of the time left, or None when there is nothing to base it on."""
        if self.state != RUNNING:
            return 0.0
        elapsed = self.elapsed()
        if self.total and self.done:
            return elapsed / self.done * (self.total - self.done)
        if self.expected_seconds:
            return max(0.0, self.expected_seconds - elapsed)
        return None

    def status(self) -> Dict[str, Any]:
        """What the progress bar shows (JSON)."""
        left = self.seconds_left()
        return {
            "id": self.id,
            "soort": self.kind,
            "titel": self.title,
            "status": self.state,
            "klaar": self.state != RUNNING,
            "gedaan": self.done,
            "totaal": self.total,
            "procent": round(self.percent(), 1),
            "stap": self.step,
            "seconden_bezig": round(self.elapsed(), 1),
            "seconden_te_gaan": None if left is None else round(left),
            "fout": self.error,
        }


class JobRunner:
    """Starts jobs in threads and keeps the last KEEP_JOBS of them."""

    def __init__(self, clock: Clock = time.monotonic, keep: int = KEEP_JOBS) -> None:
        self.clock = clock
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(
        self,
        kind: str,
        title: str,
        work: Callable[[Job], Any],
        expected_seconds: float | None = None,
        exclusive: bool = False,
        owner: str = "",
        background: bool = True,
    ) -> Job:
        """Run work(job) in a thread; its return value becomes job.result. Exclusive kinds run one at a time."""
        with self._lock:
            if exclusive:
                running = self.running(kind)
                if running:
                    raise JobBusy(running)
            job = Job(kind, title, self.clock, expected_seconds, owner=owner)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                oldest = next(iter(self._jobs.values()))
                if oldest.state == RUNNING:
                    break
                self._jobs.popitem(last=False)
        if background:
            threading.Thread(target=self._run, args=(job, work), name=f"console-{kind}", daemon=True).start()
        else:
            self._run(job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        LOG.info("taak %s gestart", job.kind)
        try:
            job.result = work(job)
            job.state = DONE
        except ConsoleError as error:
            job.error, job.state = str(error), FAILED
        except Exception as error:  # the message may quote a question: only its type goes anywhere
            job.error = f"Er ging iets mis ({type(error).__name__}). Probeer het opnieuw of vraag een technische collega."
            job.state = FAILED
        job.finished = self.clock()
        LOG.info("taak %s %s na %.1f s", job.kind, job.state, job.elapsed())

    def get(self, job_id: str) -> Job | None:
        """A job by id."""
        return self._jobs.get(job_id)

    def running(self, kind: str) -> Job | None:
        """The running job of this kind, if any."""
        return next((j for j in self._jobs.values() if j.kind == kind and j.state == RUNNING), None)

    def latest(self, kind: str) -> Job | None:
        """The most recently started job of this kind."""
        return next((j for j in reversed(self._jobs.values()) if j.kind == kind), None)
