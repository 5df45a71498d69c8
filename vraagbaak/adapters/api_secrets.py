"""Rasa's HTTP API token and JWT secret from the environment, never from its command line."""
from __future__ import annotations

import inspect
from typing import Any


def install_api_secrets(auth_token: str, jwt_secret: str) -> None:
    """Give Rasa's app the token and secret this process was started with, unless its command line gave them.

    Rasa 3.6 reads them only as `--auth-token` and `--jwt-secret`, and any local user can read a command line
    in /proc/*/cmdline; with the token they could read a conversation or `PUT /model`. The launcher reads them
    from the environment (VRAAGBAAK_RASA_TOKEN, VRAAGBAAK_JWT_SECRET), which only the process's owner can read.
    """
    import rasa.core.run

    original = getattr(rasa.core.run.configure_app, "vraagbaak_original", rasa.core.run.configure_app)
    signature = inspect.signature(original)

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind_partial(*args, **kwargs)
        for name, value in (("auth_token", auth_token), ("jwt_secret", jwt_secret)):
            if value and not bound.arguments.get(name):
                bound.arguments[name] = value
        return original(*bound.args, **bound.kwargs)

    configure_app.vraagbaak_original = original  # type: ignore[attr-defined]
    # serve_application calls configure_app by its module-level name, so this is the one it gets.
    rasa.core.run.configure_app = configure_app
