"""The one installer of the patches: each process kind gets its list, in order, after the version check.

    install(settings)                   # Rasa: the launcher's `rasa …` and the evaluation parser
    install(settings, ACTION_SERVER)    # the rasa-sdk action server (without loading Rasa, ~400 MB)
"""
from __future__ import annotations

import importlib
from typing import Dict, List, Tuple

from vraagbaak.adapters.rasa_patches.patch import REGISTRY, Patch
from vraagbaak.adapters.rasa_patches.versions import UnsupportedVersion, check_versions
from vraagbaak.core.settings import Settings

RASA = "rasa"
ACTION_SERVER = "action_server"
CONSOLE = "console"

# In install order: a patch that wraps another's object comes after it (identifier_scope wraps turn_gate,
# dutch_error_pages wraps api_secrets). docs/architecture.md lists each one with why and its proof.
PATCH_MODULES: Dict[str, Tuple[str, ...]] = {
    RASA: (
        "log_user_text",
        "action_failure",
        "api_secrets",
        "action_call",
        "event_types",
        "graph_runner",
        "inference",
        "rules",
        "domain_empty",
        "sparse_join",
        "turn_gate",
        "options_snapshot",
        "origin_record",
        "identifier_scope",
        "request_checks",
        "dutch_error_pages",
        "training_input",
    ),
    ACTION_SERVER: ("request_checks", "action_server"),
    # The staff console is a Sanic app of its own: a malformed request gets its Dutch 400.
    CONSOLE: ("request_checks",),
}
# The packages whose code the patches of each process replace.
PATCHED_PACKAGES: Dict[str, Tuple[str, ...]] = {
    RASA: ("rasa", "sanic"),
    ACTION_SERVER: ("rasa-sdk", "sanic"),
    CONSOLE: ("sanic",),
}

__all__ = [
    "ACTION_SERVER",
    "CONSOLE",
    "RASA",
    "UnsupportedVersion",
    "install",
    "installed",
    "patches",
    "uninstall",
]


def patches(process: str = RASA) -> List[Patch]:
    """The patches of this process kind, in install order (importing them imports what they patch)."""
    return [
        importlib.import_module(f"vraagbaak.adapters.rasa_patches.{name}").PATCH
        for name in PATCH_MODULES[process]
    ]


def install(settings: Settings | None = None, process: str = RASA) -> None:
    """Check the versions, then install every patch of this process kind; a second call changes nothing.

    Raises UnsupportedVersion (a Dutch sentence for the operator) before anything is patched.
    """
    check_versions(PATCHED_PACKAGES[process])
    settings = settings or Settings.from_env()
    for patch in patches(process):
        patch.install(settings)


def uninstall(process: str = RASA) -> None:
    """Put back everything the patches of this process kind replaced, the last installed first (for tests)."""
    for patch in reversed(patches(process)):
        patch.uninstall()


def installed() -> Tuple[str, ...]:
    """The names of the patches in place in this process, in install order."""
    return tuple(name for name in REGISTRY.installed() if REGISTRY.in_place(name))
