"""The launcher keeps Rasa's crash reports away from the vendor's Sentry, even when telemetry is on."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from vraagbaak.launcher import PRIVATE_ENV, private_environment

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
    assert _probe("import vraagbaak.launcher as l; l.disable_vendor_error_reporting()") == "SENTRY False"


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
from vraagbaak.launcher import action_server_arguments, main
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
