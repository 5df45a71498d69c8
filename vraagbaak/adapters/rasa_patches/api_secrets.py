"""Rasa's HTTP API token and JWT secret from the environment, never from its command line.

Why: Rasa 3.6 reads them only as `--auth-token` and `--jwt-secret`, and any local user can read a command line
in /proc/*/cmdline; with the token they could read a conversation or `PUT /model`. The launcher reads them
from the environment (VRAAGBAAK_RASA_TOKEN, VRAAGBAAK_JWT_SECRET), which only the process's owner can read.
"""
from __future__ import annotations

import inspect
from typing import Any, List

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings


def _replacements(settings: Settings) -> List[Replacement]:
    """Rasa's app gets the token and secret this process was started with, unless its command line gave them."""
    import rasa.core.run

    auth_token, jwt_secret = settings.rasa_token, settings.jwt_secret if settings.production else ""
    original = rasa.core.run.configure_app
    signature = inspect.signature(original)

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind_partial(*args, **kwargs)
        for name, value in (("auth_token", auth_token), ("jwt_secret", jwt_secret)):
            if value and not bound.arguments.get(name):
                bound.arguments[name] = value
        return original(*bound.args, **bound.kwargs)

    # serve_application calls configure_app by its module-level name, so this is the one it gets.
    return [Replacement(rasa.core.run, "configure_app", configure_app)]


PATCH = Patch(
    name="api_secrets",
    why="Rasa takes its API token and JWT secret only from its command line, which every local user can read.",
    proof="tests/adapters/test_log_privacy.py::test_api_secrets_reach_rasas_app_without_a_command_line",
    replacements=_replacements,
)
