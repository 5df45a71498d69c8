"""The audit log: one JSON line per change staff made (var/console-audit.jsonl), append-only.

It holds who (the name of the logged-in account, never a name typed at will), when, what was done and, for
phrasings, the phrasing and topic staff chose to add. Never visitor text beyond what staff chose to add,
never a password or token.
"""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)


class AuditLog:
    """Appends records; never rewrites or truncates the file."""

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()

    def record(self, who: str, action: str, **details: Any) -> Dict[str, Any]:
        """Append one record: when, who, which action, and details such as phrasing, topic and model."""
        entry: Dict[str, Any] = {
            "wanneer": self.clock().isoformat(timespec="seconds"),
            "wie": who,
            "actie": action,
        }
        entry.update({key: value for key, value in details.items() if value is not None})
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_APPEND: every write goes to the end, whatever else has the file open.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return entry

    def entries(self, last: int = 50) -> List[Dict[str, Any]]:
        """The most recent records, newest first (for the Verbeteren page)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        result = []
        for line in reversed(lines[-last:]):
            try:
                result.append(json.loads(line))
            except ValueError:
                continue
        return result
