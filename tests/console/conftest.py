"""Fixtures for the console tests: a fake clock, a fake bot API, a workspace in tmp_path, an in-process console.

The console runs in this process on a free loopback port (no Rasa, no TensorFlow), so these tests are fast.
"""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.support.console import ACCOUNT_NAMES, Running, make_settings, password_hash, serve
from vraagbaak.console.accounts import Account, write_accounts
from vraagbaak.console.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """Every file of the console in tmp_path; the test sets are the real ones."""
    space = Workspace(
        var_dir=tmp_path / "var",
        staff_nlu=tmp_path / "medewerkers.yml",
        models_dir=tmp_path / "models",
        default_model=tmp_path / "models" / "vraagbaak.tar.gz",
        coverage_dir=tmp_path / "coverage",
        accounts_file=tmp_path / "console-accounts",
        password_file=tmp_path / "console-password",
    )
    write_accounts(
        {name.casefold(): Account(name, password_hash()) for name in ACCOUNT_NAMES}, space.accounts_file
    )
    return space


@pytest.fixture
async def running(workspace: Workspace) -> AsyncIterator[Running]:
    """A console on a free port with fake clocks and a fake bot."""
    async for served in serve(workspace, make_settings()):
        yield served
