"""Starts Rasa and the action server with privacy defaults: no telemetry, no crash reports to Rasa's Sentry."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import warnings
from typing import Any, Dict, List, Sequence

from vraagbaak.invoer import MAX_REQUEST_BYTES
from vraagbaak.paths import PROJECT_DIR

logger = logging.getLogger(__name__)

PRIVATE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    # Sanic reads SANIC_* into its config: bodies and websocket frames above this are refused unread.
    "SANIC_REQUEST_MAX_SIZE": str(MAX_REQUEST_BYTES),
    "SANIC_WEBSOCKET_MAX_SIZE": str(MAX_REQUEST_BYTES),
    # Same data and config give the same model, so CI reproduces the figures measured locally.
    "TF_DETERMINISTIC_OPS": "1",
    # TensorFlow's start-up chatter says nothing useful to an operator.
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


def private_environment(base: dict | None = None) -> dict:
    """The environment every Rasa process of this project runs with."""
    env = dict(os.environ if base is None else base)
    env.update(PRIVATE_ENV)
    return env


def disable_vendor_error_reporting() -> None:
    """Rasa 3.6 starts Sentry error reporting from its CLI; replace that with a no-op."""
    import rasa.telemetry

    rasa.telemetry.initialize_error_reporting = lambda: None


def _without_user_text(_: Any, __: str, event: Dict[str, Any]) -> Dict[str, Any]:
    """structlog processor: Rasa's text-bearing fields become their length, whatever the log level."""
    for key in list(event):
        if key in TEXT_FIELDS:
            event[key] = f"<{len(str(event[key]))} tekens weggelaten>"
    return event


# The fields Rasa's own anonymizer would hand to Rasa Pro's anonymization plugins.
TEXT_FIELDS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        "user_input",
    }
)


def keep_user_text_out_of_logs() -> None:
    """Rasa logs user text in structlog events and in warnings about '/' commands; drop both."""
    import rasa.utils.log_utils

    # Rasa's anonymizer only calls Rasa Pro plugins; configure_structlog looks it up when it runs.
    rasa.utils.log_utils._anonymizer = _without_user_text  # type: ignore[assignment]
    # RegexMessageHandler quotes the whole message when a '/' text names no known intent. Rasa's CLI puts
    # its own warning filters in front of any filter set here, so the message is dropped at display time.
    if getattr(warnings.showwarning, "vraagbaak_private", False):
        return
    show = warnings.showwarning

    def showwarning(message: Any, *args: Any, **kwargs: Any) -> None:
        if "Failed to parse" in str(message):
            return
        show(message, *args, **kwargs)

    showwarning.vraagbaak_private = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning


def run_rasa_cli(args: Sequence[str]) -> None:
    """Run the `rasa` command line in this process, with error reporting disabled."""
    os.environ.update(PRIVATE_ENV)
    disable_vendor_error_reporting()
    keep_user_text_out_of_logs()
    from vraagbaak.productie import install_action_failure_reply

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
    import rasa_sdk.endpoint
    from rasa_sdk.__main__ import main as sdk_main

    create_app = rasa_sdk.endpoint.create_app

    def create_private_app(*app_args: Any, **app_kwargs: Any) -> Any:
        from rasa_sdk.executor import ActionExecutor
        from sanic import response

        app = create_app(*app_args, **app_kwargs)
        # rasa-sdk's own handler logs the request and sends the whole request body back in its 500.
        app.error_handler.add(Exception, _generic_action_error)
        executor = ActionExecutor()
        executor.register_package(app_args[0] if app_args else app_kwargs["action_package_name"])
        known = frozenset(executor.actions)

        @app.on_request
        async def only_known_actions(request: Any) -> Any:
            # rasa-sdk logs an unknown action name as it came; only Rasa calls here, with names it knows.
            if request.path != "/webhook" or request.method != "POST":
                return None
            call = request.json
            if not isinstance(call, dict) or call.get("next_action") not in known:
                logger.warning("Actieserver: onbekende actie of onleesbaar verzoek geweigerd")
                return response.json({"error": "Onbekende actie of onleesbaar verzoek."}, status=400)
            return None

        return app

    rasa_sdk.endpoint.create_app = create_private_app
    sys.argv = ["rasa_sdk", *args]
    sdk_main()


async def _generic_action_error(request: Any, exception: Exception) -> Any:
    """A failing action request: the kind of error in the log, a generic JSON error to the caller."""
    from sanic import response
    from sanic.exceptions import SanicException

    status = exception.status_code if isinstance(exception, SanicException) else 500
    logger.error("Actieserver: verzoek mislukt (%s, status %d)", type(exception).__name__, status)
    return response.json({"error": "Het verzoek kon niet verwerkt worden."}, status=status)


def action_server_arguments(port: int) -> List[str]:
    """Launcher arguments that start the action server on this port."""
    return ["actions", "--port", str(port), "--actions", "actions"]


def launcher_command(args: Sequence[str]) -> List[str]:
    """The command line that runs `python -m vraagbaak.launcher ARGS` with this interpreter."""
    return [sys.executable, "-m", "vraagbaak.launcher", *args]


def _child(args: List[str]) -> subprocess.Popen:
    return subprocess.Popen(
        launcher_command(args),
        cwd=PROJECT_DIR,
        env=private_environment(),
    )


def _python_module(module: str, args: Sequence[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=PROJECT_DIR, env=private_environment())


def serve(
    model: str,
    rasa_port: int = 5005,
    action_port: int = 5055,
    web_port: int = 8080,
    extra: Sequence[str] = (),
) -> int:
    """Start the action server, Rasa and the demo web page; Ctrl-C stops all three."""
    from vraagbaak.kanalen.credentials import main as write_credentials

    # Messaging channels are switched on only by their environment variables (see README, "Messaging channels").
    credentials = PROJECT_DIR / ".run" / "credentials.yml"
    credentials.parent.mkdir(exist_ok=True)
    if write_credentials([str(credentials)]) != 0:
        return 2
    actions = _child(action_server_arguments(action_port))
    server = _child(
        [
            "rasa",
            "run",
            "--model",
            model,
            # Loopback unless the operator opens it on purpose (README, "Privacy").
            "--interface",
            os.environ.get("VRAAGBAAK_RASA_HOST", "127.0.0.1"),
            "--port",
            str(rasa_port),
            "--credentials",
            str(credentials),
            "--cors",
            os.environ.get("VRAAGBAAK_CORS", f"http://localhost:{web_port}"),
            *extra,
        ]
    )
    web = _python_module(
        "vraagbaak.web", ["--port", str(web_port), "--server", f"http://localhost:{rasa_port}"]
    )
    print(
        "\nVraagbaak start op. Zodra Rasa 'Rasa server is up and running' meldt, kun je chatten:\n"
        f"  in de browser: http://localhost:{web_port}\n"
        f"  curl -s -X POST http://localhost:{rasa_port}/webhooks/rest/webhook "
        '-H \'Content-Type: application/json\' -d \'{"sender": "test", "message": "Wat met de pooiers?"}\'\n'
        "  of in de terminal: make shell\n"
        "Stoppen: Ctrl-C\n",
        flush=True,
    )
    processes = (server, actions, web)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m vraagbaak.launcher rasa ARGS…`, `… actions ARGS…` or `… serve MODEL`."""
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
