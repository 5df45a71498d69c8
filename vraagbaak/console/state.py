"""Everything one running console holds: settings, files, the bot's API, sessions, jobs and the model manager."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Tuple

from vraagbaak.console.accounts import AccountBook
from vraagbaak.console.addresses import IPNetwork, networks
from vraagbaak.console.audit import AuditLog
from vraagbaak.console.auth import Session, SessionStore
from vraagbaak.console.batch import ListResult
from vraagbaak.console.durations import Durations
from vraagbaak.console.jobs import DONE, JobRunner
from vraagbaak.console.models import ModelManager
from vraagbaak.console.password import dummy_hash
from vraagbaak.console.rasa_client import RasaClient
from vraagbaak.console.review import ReviewChecks
from vraagbaak.console.similar import PhrasingIndex
from vraagbaak.console.throttle import LoginThrottle
from vraagbaak.console.web import Pages
from vraagbaak.console.workspace import Workspace
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.settings import Settings

LIST_JOB, COVERAGE_JOB, TRAINING_JOB = "lijst", "dekking", "training"


@dataclass
class Console:
    """The state shared by all requests of one console process."""

    settings: Settings
    workspace: Workspace
    kb: KnowledgeBase
    client: RasaClient
    sessions: SessionStore
    accounts: AccountBook
    throttle: LoginThrottle
    proxies: Tuple[IPNetwork, ...]
    jobs: JobRunner
    index: PhrasingIndex
    audit: AuditLog
    durations: Durations
    models: ModelManager
    pages: Pages
    flashes: Dict[str, List[str]] = field(default_factory=dict)
    proxy_hint_given: bool = False

    @classmethod
    def create(
        cls,
        settings: Settings,
        workspace: Workspace,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        client: RasaClient | None = None,
    ) -> Console:
        """A console with a fresh session secret (a restart logs everyone out)."""
        kb = knowledge_base()
        dummy_hash()  # made now, so no login waits for it
        client = client or RasaClient(settings.console_rasa_url, settings.console_rasa_token)
        audit = AuditLog(workspace.audit_log)
        durations = Durations(workspace.timings)
        return cls(
            settings=settings,
            workspace=workspace,
            kb=kb,
            client=client,
            sessions=SessionStore(secrets.token_bytes(32), settings.console_session_minutes * 60, wall_clock),
            accounts=AccountBook(workspace.accounts_file),
            throttle=LoginThrottle(clock),
            proxies=networks(settings.console_trusted_proxies),
            jobs=JobRunner(clock),
            index=PhrasingIndex(workspace.training_nlu_files),
            audit=audit,
            durations=durations,
            models=ModelManager(kb, workspace, client, audit, durations),
            pages=Pages(settings.console_base_path),
        )

    def session_still_valid(self, session: Session) -> bool:
        """The session's account still exists with the password it logged in with."""
        return session.still_valid_for(self.accounts.get(session.account))

    def review_checks(self) -> ReviewChecks:
        """The duplicate, leak and personal-data checks against the files as they are now."""
        return ReviewChecks.load(
            self.kb, self.workspace.training_nlu_files(), self.workspace.protected_files()
        )

    def last_list_items(self) -> List[Dict[str, Any]]:
        """The questions of the most recent finished list, for the before/after comparison."""
        job = self.jobs.latest(LIST_JOB)
        if job is None or job.state != DONE or not isinstance(job.result, ListResult):
            return []
        return [
            {
                "vraag": row.question.text,
                "verwacht": row.question.expected.written if row.question.expected else None,
                "bron": "lijst",
            }
            for row in job.result.rows
        ]

    def flash(self, session_id: str, message: str) -> None:
        """A one-time message for the next page this session sees."""
        self.flashes.setdefault(session_id, []).append(message)

    def take_flashes(self, session_id: str) -> List[str]:
        """The messages waiting for this session (then gone)."""
        return self.flashes.pop(session_id, [])
