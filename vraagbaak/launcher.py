"""Starts Rasa and the action server with privacy defaults: no telemetry, no crash reports to Rasa's Sentry."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import List, Sequence

from vraagbaak.paths import PROJECT_DIR

PRIVATE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
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


def run_rasa_cli(args: Sequence[str]) -> None:
    """Run the `rasa` command line in this process, with error reporting disabled."""
    os.environ.update(PRIVATE_ENV)
    disable_vendor_error_reporting()
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
    from rasa_sdk.__main__ import main as sdk_main

    sys.argv = ["rasa_sdk", *args]
    sdk_main()


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
