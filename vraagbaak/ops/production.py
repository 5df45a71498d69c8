"""Production settings from environment variables: Redis stores, closed API, token-protected REST.

    python -m vraagbaak.ops.production rasa      # start Rasa with the production configuration
    python -m vraagbaak.ops.production actions   # start the action server on its internal address
    python -m vraagbaak.ops.production config --out DIR   # only write endpoints.yml and credentials.yml

Without VRAAGBAAK_ENV=production nothing changes: the repository's endpoints.yml and credentials.yml
are used as they are (in-memory store, open REST channel for development and tests).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import yaml

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.session_tokens import session_key
from vraagbaak.core.settings import LOG_KEY_FILE_ENV, REST_TOKEN_ENV, ConfigError, Settings
from vraagbaak.ops.processes import action_server_arguments

logger = logging.getLogger(__name__)

REDIS_KEY_PREFIX = "vraagbaak"
TRACKER_STORE_CLASS = "vraagbaak.adapters.stores.ForgetfulRedisTrackerStore"
LOCK_STORE_CLASS = "vraagbaak.adapters.locks.RedisConversationLockStore"
TOKEN_CHANNEL_CLASS = "vraagbaak.adapters.channels.token_rest.TokenRestInput"
REST_CHANNEL_NAMES = {"rest", "vraagbaak.adapters.channels.rest.SafeRestInput", TOKEN_CHANNEL_CLASS}


def endpoints_config(settings: Settings) -> Dict[str, Any]:
    """endpoints.yml content: Redis tracker and lock store in production, the repository file otherwise."""
    base = yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    if not settings.production:
        return dict(base)
    redis: Dict[str, Any] = {
        "url": settings.redis_host,
        "port": settings.redis_port,
        "db": settings.redis_db,
        "key_prefix": REDIS_KEY_PREFIX,
    }
    if settings.redis_password:
        # Rasa fills in ${...} from the environment when it reads the file, so the secret is never written.
        redis["password"] = "${VRAAGBAAK_REDIS_PASSWORD}"
    return {
        "action_endpoint": {"url": settings.action_url},
        "tracker_store": {
            "type": TRACKER_STORE_CLASS,
            **redis,
            "record_exp": settings.record_exp,
            "kept_turns": settings.kept_turns,
        },
        "lock_store": {"type": LOCK_STORE_CLASS, **redis},
    }


def credentials_config(settings: Settings) -> Dict[str, Any]:
    """credentials.yml content: in production the open REST channel is replaced or removed."""
    base = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text(encoding="utf-8")) or {}
    if not settings.production:
        return dict(base)
    # Anyone who knows or guesses a sender id could otherwise write into that person's conversation.
    channels = {name: value for name, value in base.items() if name not in REST_CHANNEL_NAMES}
    if settings.rest_token:
        channels[TOKEN_CHANNEL_CLASS] = {"token_env": REST_TOKEN_ENV}
    return channels


def rasa_arguments(settings: Settings, endpoints_file: Path, credentials_file: Path) -> List[str]:
    """Arguments for `rasa run` (after `python -m vraagbaak.ops.launcher rasa`)."""
    args = [
        "run",
        "--model",
        settings.model,
        "--interface",
        settings.rasa_host,
        "--port",
        str(settings.rasa_port),
        "--endpoints",
        str(endpoints_file),
        "--credentials",
        str(credentials_file),
    ]
    if not settings.production:
        return [*args, "--cors", *(settings.cors_origins or ("*",))]
    if settings.cors_origins:
        args += ["--cors", *settings.cors_origins]
    if settings.enable_api:
        # The secret itself stays in the environment (VRAAGBAAK_JWT_SECRET): any local user can read a command
        # line. vraagbaak.adapters.api_secrets hands it to Rasa.
        args += ["--enable-api", "--jwt-method", "HS256"]
    return args


def rasa_environment(settings: Settings) -> Dict[str, str]:
    """Extra environment for Rasa: how long a conversation lock may live when a replica dies holding it."""
    return {"TICKET_LOCK_LIFETIME": str(settings.lock_lifetime)}


def action_arguments(settings: Settings) -> List[str]:
    """Arguments for the action server (after `python -m vraagbaak.ops.launcher`)."""
    return action_server_arguments(settings.action_port)


def action_environment(settings: Settings) -> Dict[str, str]:
    """rasa-sdk reads its listen address from SANIC_HOST: loopback unless a private network needs more.

    The log key is the one Rasa uses, so both name a conversation by the same pseudonym.
    """
    return {"SANIC_HOST": settings.action_host, LOG_KEY_FILE_ENV: settings.log_key_file}


def write_config(settings: Settings, directory: Path) -> Tuple[Path, Path]:
    """Write endpoints.yml and credentials.yml (readable by the owner only) and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "endpoints.yml", directory / "credentials.yml"
    for path, content in zip(paths, (endpoints_config(settings), credentials_config(settings)), strict=True):
        path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
        path.chmod(0o600)
    return paths


def _exec(module_args: Sequence[str], extra_env: Dict[str, str]) -> None:
    """Replace this process with `python -m MODULE ARGS` so signals reach Rasa directly.

    A fresh process, because Rasa reads some settings (TICKET_LOCK_LIFETIME) from the environment on import.
    """
    env = {**os.environ, **extra_env}
    os.chdir(PROJECT_DIR)
    os.execve(sys.executable, [sys.executable, "-m", *module_args], env)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: rasa | actions | config --out DIR."""
    parser = argparse.ArgumentParser(
        prog="python -m vraagbaak.ops.production", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rasa", help="start Rasa met de productie-instellingen")
    sub.add_parser("actions", help="start de actieserver op het interne adres")
    serve = sub.add_parser("rasa-proces", help=argparse.SUPPRESS)
    serve.add_argument("rasa_args", nargs=argparse.REMAINDER)
    config = sub.add_parser("config", help="schrijf endpoints.yml en credentials.yml")
    config.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "rasa":
            # The key that signs the widget's session ids: made or checked before Rasa loads its model.
            session_key(settings)
    except ConfigError as error:
        print(f"Vraagbaak start niet: {error}", file=sys.stderr)
        return 2
    if args.command == "config":
        endpoints, credentials = write_config(settings, args.out)
        # No secret is an argument: Rasa gets them from the environment through the launcher.
        print(" ".join(rasa_arguments(settings, endpoints, credentials)))
        return 0
    if args.command == "actions":
        _exec(["vraagbaak.ops.launcher", *action_arguments(settings)], action_environment(settings))
    if args.command == "rasa-proces":
        from vraagbaak.ops.launcher import run_rasa_cli

        run_rasa_cli(args.rasa_args)  # which installs every patch, the action-failure reply among them
        return 0
    directory = Path(tempfile.mkdtemp(prefix="vraagbaak-config-"))
    endpoints, credentials = write_config(settings, directory)
    rasa_args = rasa_arguments(settings, endpoints, credentials)
    _exec(["vraagbaak.ops.production", "rasa-proces", *rasa_args], rasa_environment(settings))
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    raise SystemExit(main())
