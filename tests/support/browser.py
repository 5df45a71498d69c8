"""Helpers for the browser tests: the system Chromium, its flags, axe-core, and the only reasons to skip."""
from __future__ import annotations

from pathlib import Path

import pytest

from vraagbaak.core.paths import PROJECT_DIR

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # reported as a skip with the reason below
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = PROJECT_DIR / "web" / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 30_000


def require_browser() -> None:
    """The only acceptable reasons to skip: no system Chromium, or no Playwright for Python."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} ontbreekt: draai `make web-deps` (apt-get install chromium)")
    if sync_playwright is None:
        pytest.skip("Python-pakket playwright ontbreekt: draai `make web-deps`")
