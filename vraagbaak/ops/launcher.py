"""Starts Rasa and the action server with privacy defaults: no telemetry, no crash reports, no text in logs."""
from __future__ import annotations

import os
import signal
import sys
from typing import Sequence

from vraagbaak.adapters.log_privacy import disable_vendor_error_reporting, keep_user_text_out_of_logs
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import Settings
from vraagbaak.ops.processes import (
    PRIVATE_ENV,
    action_server_arguments,
    launcher_command,
    rasa_command,
    start_process,
    stop_processes,
    web_server_command,
)


def run_rasa_cli(args: Sequence[str]) -> None:
    """Run the `rasa` command line in this process, with error reporting disabled."""
    os.environ.update(PRIVATE_ENV)
    disable_vendor_error_reporting()
    keep_user_text_out_of_logs()
    # Imported here: the action server shares this module and must not load Rasa (~400 MB).
    from vraagbaak.adapters.action_failure import install_action_failure_reply

    # Action server down or slow: the user gets the Dutch "technisch probleem" reply, never silence.
    install_action_failure_reply(float(os.environ.get("VRAAGBAAK_ACTION_TIMEOUT", "10")))
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


def run_action_server(args: Sequence[str]) -> None:
    """Run the rasa-sdk action server in this process, without Rasa's CLI (which loads TensorFlow, ~400 MB)."""
    os.environ.update(PRIVATE_ENV)
    # Only Rasa talks to the action server: loopback unless the production settings chose an address.
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    from rasa_sdk.__main__ import main as sdk_main

    from vraagbaak.adapters.action_server import install_private_action_server

    install_private_action_server()
    sys.argv = ["rasa_sdk", *args]
    sdk_main()


def serve(
    model: str,
    rasa_port: int = 5005,
    action_port: int = 5055,
    web_port: int = 8080,
    extra: Sequence[str] = (),
) -> int:
    """Start the action server, Rasa and the demo web page; Ctrl-C stops all three."""
    from vraagbaak.ops.channel_credentials import main as write_credentials

    # Messaging channels are switched on only by their environment variables (docs/channels.md).
    credentials = PROJECT_DIR / ".run" / "credentials.yml"
    credentials.parent.mkdir(exist_ok=True)
    if write_credentials([str(credentials)]) != 0:
        return 2
    settings = Settings.from_env()
    actions = start_process(launcher_command(action_server_arguments(action_port)))
    server = start_process(
        rasa_command(
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
                str(credentials),
                "--cors",
                os.environ.get("VRAAGBAAK_CORS", f"http://localhost:{web_port}"),
                *extra,
            ]
        )
    )
    web = start_process(web_server_command(web_port, f"http://localhost:{rasa_port}"))
    print(
        "\nVraagbaak start op. Zodra Rasa 'Rasa server is up and running' meldt, kun je chatten:\n"
        f"  in de browser: http://localhost:{web_port}\n"
        f"  curl -s -X POST http://localhost:{rasa_port}/webhooks/rest/webhook "
        '-H \'Content-Type: application/json\' -d \'{"sender": "test", "message": "Wat met de pooiers?"}\'\n'
        "  of in de terminal: make shell\n"
        "Stoppen: Ctrl-C\n",
        flush=True,
    )
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_processes((server, actions, web), sig=signal.SIGINT, timeout=15)


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
