"""Starts Rasa and the action server with privacy defaults: no telemetry, no crash reports, no text in logs."""
from __future__ import annotations

import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import yaml

from vraagbaak.adapters.log_privacy import install_private_log_lines, load_log_key
from vraagbaak.adapters.rasa_patches import installer as rasa_patches
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.session_tokens import session_key
from vraagbaak.core.settings import CONSOLE_RASA_TOKEN_ENV, RASA_TOKEN_ENV, ConfigError, Settings
from vraagbaak.ops.processes import (
    PRIVATE_ENV,
    SERVING_ENV,
    action_server_arguments,
    console_command,
    launcher_command,
    rasa_command,
    start_process,
    stop_processes,
    web_server_command,
)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        print(f"Vraagbaak start niet: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def install_patches(settings: Settings, process: str) -> None:
    """Every patch of this process kind (vraagbaak/adapters/rasa_patches), or a clear stop on another version."""
    try:
        rasa_patches.install(settings, process)
    except rasa_patches.UnsupportedVersion as error:
        print(f"Vraagbaak start niet: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def keep_logs_private(settings: Settings) -> None:
    """Every log line of this process: no identifier (a keyed pseudonym instead), no secret, escaped, bounded."""
    install_private_log_lines(load_log_key(Path(settings.log_key_file)), settings.secret_values)


def run_rasa_cli(args: Sequence[str]) -> None:
    """Run the `rasa` command line in this process, with error reporting disabled."""
    os.environ.update(PRIVATE_ENV)
    if list(args[:1]) == ["run"]:
        for name, value in SERVING_ENV.items():
            os.environ.setdefault(name, value)
    settings = _settings()
    keep_logs_private(settings)
    install_patches(settings, rasa_patches.RASA)
    # Imported here: the action server shares this module and must not load Rasa (~400 MB).
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


def run_action_server(args: Sequence[str]) -> None:
    """Run the rasa-sdk action server in this process, without Rasa's CLI (which loads TensorFlow, ~400 MB)."""
    os.environ.update(PRIVATE_ENV)
    # Only Rasa talks to the action server: loopback unless the production settings chose an address.
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    settings = _settings()
    keep_logs_private(settings)
    from rasa_sdk.__main__ import main as sdk_main

    install_patches(settings, rasa_patches.ACTION_SERVER)
    sys.argv = ["rasa_sdk", *args]
    sdk_main()


@dataclass(frozen=True)
class ServeCommands:
    """What `make run` starts: the action server, Rasa, the demo page and the staff console.

    Secrets go in an environment (rasa_env, console_env), never on a command line: any local user can read
    /proc/*/cmdline.
    """

    actions: List[str]
    rasa: List[str]
    rasa_env: Dict[str, str]
    web: List[str]
    console: List[str]
    console_env: Dict[str, str]


def serve_commands(
    model: str,
    settings: Settings,
    credentials: str,
    api_token: str,
    rasa_port: int = 5005,
    action_port: int = 5055,
    web_port: int = 8080,
    extra: Sequence[str] = (),
    endpoints: str | None = None,
) -> ServeCommands:
    """The command lines (pure, so tests can check them): Rasa's API is on, behind a token only the console gets."""
    rasa = rasa_command(
        [
            "run",
            "--model",
            model,
            # Loopback unless the operator opens it on purpose (docs/privacy.md).
            "--interface",
            settings.rasa_host,
            "--port",
            str(rasa_port),
            "--credentials",
            credentials,
            *(["--endpoints", endpoints] if endpoints else []),
            # Each allowed website as its own argument: Rasa matches a joined list against no origin at all.
            "--cors",
            *(settings.cors_origins or (f"http://localhost:{web_port}",)),
            # The staff console parses and switches models through the API; its token is in rasa_env.
            "--enable-api",
            *extra,
        ]
    )
    return ServeCommands(
        actions=launcher_command(action_server_arguments(action_port)),
        rasa=rasa,
        rasa_env={RASA_TOKEN_ENV: api_token},
        web=web_server_command(web_port, f"http://localhost:{rasa_port}"),
        console=console_command(settings.console_port),
        console_env={
            CONSOLE_RASA_TOKEN_ENV: api_token,
            "VRAAGBAAK_CONSOLE_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        },
    )


def write_endpoints(path: Path, action_port: int) -> None:
    """endpoints.yml of the repository, with the action server on this port."""
    endpoints = yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")


def serve(model: str, extra: Sequence[str] = ()) -> int:
    """Start the action server, Rasa, the demo web page and the staff console; Ctrl-C stops them all.

    Ports: VRAAGBAAK_RASA_PORT (5005), VRAAGBAAK_ACTION_PORT (5055), VRAAGBAAK_WEB_PORT (8080) and
    VRAAGBAAK_CONSOLE_PORT (8090).
    """
    from vraagbaak.ops.channel_credentials import main as write_credentials

    # Messaging channels are switched on only by their environment variables (docs/channels.md).
    credentials = PROJECT_DIR / ".run" / "credentials.yml"
    credentials.parent.mkdir(exist_ok=True)
    if write_credentials([str(credentials)]) != 0:
        return 2
    try:
        settings = Settings.from_env()
        # Made (or checked) here, so a bad key file stops the start with this message, not a traceback.
        session_key(settings)
    except ConfigError as error:
        print(f"Vraagbaak start niet: {error}", file=sys.stderr)
        return 2
    rasa_port, action_port, web_port = settings.rasa_port, settings.action_port, settings.web_port
    endpoints = PROJECT_DIR / ".run" / "endpoints.yml"
    write_endpoints(endpoints, action_port)
    # A fresh token for every start: Rasa's HTTP API answers only the console, which gets it in its environment.
    commands = serve_commands(
        model,
        settings,
        str(credentials),
        secrets.token_urlsafe(32),
        rasa_port,
        action_port,
        web_port,
        extra,
        str(endpoints),
    )
    actions = start_process(commands.actions)
    server = start_process(commands.rasa, env=commands.rasa_env)
    web = start_process(commands.web)
    # Without an account (`make console-user`) the console says so and stops; the bot runs on.
    console = start_process(commands.console, env=commands.console_env)
    print(
        "\nVraagbaak start op. Zodra Rasa 'Rasa server is up and running' meldt, kun je chatten:\n"
        f"  in de browser: http://localhost:{web_port}\n"
        f"  curl -s -X POST http://localhost:{rasa_port}/webhooks/rest/webhook "
        '-H \'Content-Type: application/json\' -d \'{"sender": "test", "message": "Wat met de pooiers?"}\'\n'
        "  of in de terminal: make shell\n"
        f"Console voor medewerkers: http://localhost:{settings.console_port}{settings.console_base_path}/\n"
        "Stoppen: Ctrl-C\n",
        flush=True,
    )
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_processes((console, server, actions, web), sig=signal.SIGINT, timeout=15)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m vraagbaak.ops.launcher rasa ARGS…`, `… actions ARGS…` or `… serve MODEL`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["rasa"]:
        run_rasa_cli(args[1:])
        return 0
    if args[:1] == ["actions"]:
        run_action_server(args[1:])
        return 0
    if args[:1] == ["serve"] and len(args) >= 2:
        return serve(args[1], extra=args[2:])
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
