"""The launcher keeps Rasa's crash reports away from the vendor's Sentry, even when telemetry is on."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from vraagbaak.ops.processes import PRIVATE_ENV, private_environment

PROBE = """
import os, sentry_sdk
os.environ["RASA_TELEMETRY_ENABLED"] = "true"      # worst case: telemetry switched on
os.environ["RASA_EXCEPTION_WRITE_KEY"] = "0123abcd@o1"  # a key, so Rasa would really start Sentry
import rasa.telemetry
{patch}
rasa.telemetry.initialize_error_reporting()
print("SENTRY", sentry_sdk.Hub.current.client is not None)
"""


def _probe(patch: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(patch=patch)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if line.startswith("SENTRY")][-1]


def test_without_the_launcher_rasa_would_start_sentry() -> None:
    # Proves the probe can fail: unpatched Rasa initialises its error reporting.
    assert _probe("") == "SENTRY True"


def test_launcher_stops_rasa_error_reporting() -> None:
    patch = "import vraagbaak.ops.launcher; from vraagbaak.adapters.rasa_patches import log_user_text as p; p.PATCH.install()"
    assert _probe(patch) == "SENTRY False"


def test_private_environment_turns_telemetry_off() -> None:
    env = private_environment({"RASA_TELEMETRY_ENABLED": "true"})
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert PRIVATE_ENV["RASA_TELEMETRY_ENABLED"] == "false"


ACTION_PROBE = """
import json, os, sys
import rasa_sdk.__main__ as sdk
sdk.main = lambda: print("ACTIONS", json.dumps({{
    "argv": sys.argv, "host": os.environ.get("SANIC_HOST"),
    "loaded": sorted(m for m in ("rasa", "tensorflow") if m in sys.modules)}}))
from vraagbaak.ops.launcher import main
from vraagbaak.ops.processes import action_server_arguments
main(action_server_arguments(5099))
"""


def _action_probe(env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", ACTION_PROBE.format()], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    line = [line for line in result.stdout.splitlines() if line.startswith("ACTIONS")][-1]
    return json.loads(line.split(" ", 1)[1])


def test_action_server_runs_rasa_sdk_without_loading_rasa_on_loopback() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SANIC_HOST"}
    probe = _action_probe(env)
    # Rasa's CLI would load TensorFlow: about 400 MB more per action server.
    assert probe == {
        "argv": ["rasa_sdk", "--port", "5099", "--actions", "actions"],
        "host": "127.0.0.1",
        "loaded": [],
    }


def test_action_server_keeps_an_address_the_production_settings_chose() -> None:
    env = {**os.environ, "SANIC_HOST": "10.0.0.7"}
    assert _action_probe(env)["host"] == "10.0.0.7"


def test_rasa_text_fields_are_replaced_by_their_length() -> None:
    from vraagbaak.adapters.rasa_patches.log_user_text import without_user_text

    event = {"event": "rest.message.received.timeout", "text": "geheim" * 10, "user_text": "x", "sender": 3}
    cleaned = without_user_text(None, "error", dict(event))
    assert "geheim" not in repr(cleaned)
    assert cleaned["text"] == "<60 tekens weggelaten>" and cleaned["event"] == event["event"]


def test_rasa_uses_the_redacting_processor_after_the_launcher_ran(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa.utils.log_utils
    import structlog

    from vraagbaak.adapters.rasa_patches import log_user_text, patch

    monkeypatch.setattr(patch, "REGISTRY", patch.Registry())  # installed here, whatever ran before
    log_user_text.PATCH.install()
    rasa.utils.log_utils.configure_structlog(logging.INFO)
    with caplog.at_level(logging.INFO):
        structlog.get_logger().error("rest.message.received.failure", text="MERKTEKEN-geheim")
    assert "rest.message.received.failure" in caplog.text
    assert "MERKTEKEN" not in caplog.text


def test_slash_command_warnings_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    from vraagbaak.adapters.rasa_patches import log_user_text, patch

    shown: list = []
    monkeypatch.setattr(warnings, "showwarning", lambda message, *args, **kwargs: shown.append(str(message)))
    monkeypatch.setattr(patch, "REGISTRY", patch.Registry())  # wraps the recording one above
    log_user_text.PATCH.install()
    warnings.showwarning(UserWarning("Failed to parse arguments in line '/MERKTEKEN'"), UserWarning, "f", 1)
    warnings.showwarning(UserWarning("een andere waarschuwing"), UserWarning, "f", 1)
    assert shown == ["een andere waarschuwing"]


def test_make_run_opens_rasas_api_only_behind_a_token_that_only_the_console_gets() -> None:
    from vraagbaak.core.settings import CONSOLE_RASA_TOKEN_ENV, RASA_TOKEN_ENV, Settings
    from vraagbaak.ops.launcher import serve_commands

    token = "t0k3n-" + "x" * 40
    commands = serve_commands(
        "models/vraagbaak.tar.gz", Settings.from_env({}), ".run/credentials.yml", token, 5005
    )
    rasa = commands.rasa
    assert "--enable-api" in rasa and "--auth-token" not in rasa
    # The token goes in Rasa's environment, never on a command line (/proc/*/cmdline is readable by all).
    assert commands.rasa_env == {RASA_TOKEN_ENV: token}
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert commands.console[-3:] == ["vraagbaak.console", "--port", "8090"]
    assert commands.console_env == {
        CONSOLE_RASA_TOKEN_ENV: token,
        "VRAAGBAAK_CONSOLE_RASA_URL": "http://127.0.0.1:5005",
    }
    assert all(token not in part for part in rasa + commands.actions + commands.web + commands.console)
    opened = serve_commands("m", Settings.from_env({"VRAAGBAAK_CONSOLE_PORT": "9000"}), "c", token)
    assert opened.console[-2:] == ["--port", "9000"]


SERVING_PROBE = """
import os, rasa.__main__
rasa.__main__.main = lambda: None
from vraagbaak.ops import launcher
launcher.run_rasa_cli({args!r})
print("TF", os.environ.get("TF_INTRA_OP_PARALLELISM_THREADS"), os.environ.get("TF_INTER_OP_PARALLELISM_THREADS"))
"""


@pytest.mark.parametrize(
    "args, preset, expected",
    [
        (["run"], {}, "TF 1 1"),  # serving: one TensorFlow thread per pool
        (["train"], {}, "TF None None"),  # training keeps TensorFlow's own pools (both cores)
        (["run"], {"TF_INTRA_OP_PARALLELISM_THREADS": "2"}, "TF 2 1"),  # an operator's setting wins
    ],
)
def test_serving_gets_one_tensorflow_thread_unless_the_operator_says_otherwise(
    args: list, preset: dict, expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_IN")}
    result = subprocess.run(
        [sys.executable, "-c", SERVING_PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, **preset},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert [line for line in result.stdout.splitlines() if line.startswith("TF ")][-1] == expected
