"""Scans of what the servers wrote: markers that must not be there, lines that are too long or forged."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, List

from vraagbaak.core.log_lines import MAX_LINE

# What a visitor puts after a newline in an id to forge a line of its own.
FORGED = "2026-12-08 00:00:00 ERROR vervalst"


def log_findings(paths: Iterable[Path], markers: Iterable[str], max_line: int = MAX_LINE) -> List[str]:
    """Every line of these files that holds a marker, is longer than max_line, or is a forged line."""
    markers = [marker for marker in markers if marker]
    findings: List[str] = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        # splitlines: every character a log viewer may take for a line break counts as one.
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{path.name}:{number}"
            findings += [f"{where}: merkteken {marker[:24]}…" for marker in markers if marker in line]
            if len(line) > max_line:
                findings.append(f"{where}: {len(line)} tekens")
            if line.startswith(FORGED):
                findings.append(f"{where}: vervalste regel")
    return findings


def secrets_on_command_lines(secrets: Iterable[str]) -> List[str]:
    """Every process on this machine whose command line holds one of the secrets (readable by any local user)."""
    secrets = [secret.encode() for secret in secrets if secret]
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            content = cmdline.read_bytes()
        except OSError:
            continue  # the process ended while we looked
        if any(secret in content for secret in secrets):
            for secret in secrets:
                content = content.replace(secret, b"<geheim>")
            found.append(f"{cmdline.parent.name}: {content[:120]!r}")
    return found
