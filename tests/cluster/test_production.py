"""Production settings without running servers: what the environment switches on, and what it refuses."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from vraagbaak.adapters.action_failure import action_failure_response
from vraagbaak.adapters.channels.token_rest import TokenRestInput
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import ConfigError, Settings
from vraagbaak.ops import production
from vraagbaak.ops.nginx import nginx_literal

SECRET = "s" * 16
JWT_SECRET = "j" * 32


def settings(**env: str) -> Settings:
    return Settings.from_env({"VRAAGBAAK_ENV": "production", **env})


def test_development_keeps_the_repository_files() -> None:
    dev = Settings.from_env({})
    assert not dev.production
    assert production.endpoints_config(dev) == yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text())
    assert production.credentials_config(dev) == yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text())


def test_production_uses_forgetful_redis_stores_with_expiry() -> None:
    endpoints = production.endpoints_config(
        settings(VRAAGBAAK_REDIS_PASSWORD="geheim", VRAAGBAAK_RECORD_EXP="120")
    )
    store = endpoints["tracker_store"]
    assert store["type"] == "vraagbaak.adapters.stores.ForgetfulRedisTrackerStore"
    assert store["record_exp"] == 120
    assert endpoints["lock_store"]["type"] == "vraagbaak.adapters.locks.RedisConversationLockStore"
    # The password stays in the environment; Rasa fills it in when it reads the file.
    assert store["password"] == "${VRAAGBAAK_REDIS_PASSWORD}"
    assert "geheim" not in json.dumps(endpoints)
    assert production.endpoints_config(settings())["tracker_store"]["record_exp"] == 3600
    assert production.endpoints_config(settings())["tracker_store"]["kept_turns"] == 3
    assert (
        production.endpoints_config(settings(VRAAGBAAK_KEPT_TURNS="12"))["tracker_store"]["kept_turns"] == 12
    )
    with pytest.raises(ConfigError):
        settings(VRAAGBAAK_KEPT_TURNS="0")


def test_production_removes_the_open_rest_channel() -> None:
    channels = production.credentials_config(settings())
    assert "rest" not in channels and "vraagbaak.adapters.channels.rest.SafeRestInput" not in channels
    assert production.TOKEN_CHANNEL_CLASS not in channels
    assert any("socketio" in name.lower() for name in channels)  # the widget keeps its channel
    with_token = production.credentials_config(settings(VRAAGBAAK_REST_TOKEN=SECRET))
    assert with_token[production.TOKEN_CHANNEL_CLASS] == {"token_env": "VRAAGBAAK_REST_TOKEN"}
    assert SECRET not in json.dumps(with_token)


def test_api_is_off_by_default_and_needs_a_secret() -> None:
    args = production.rasa_arguments(settings(), Path("e.yml"), Path("c.yml"))
    assert "--enable-api" not in args and "--cors" not in args
    with pytest.raises(ConfigError, match="VRAAGBAAK_JWT_SECRET"):
        settings(VRAAGBAAK_ENABLE_API="true")
    with pytest.raises(ConfigError, match="VRAAGBAAK_JWT_SECRET"):
        settings(VRAAGBAAK_ENABLE_API="true", VRAAGBAAK_JWT_SECRET="k" * 31)
    args = production.rasa_arguments(
        settings(VRAAGBAAK_ENABLE_API="true", VRAAGBAAK_JWT_SECRET=JWT_SECRET), Path("e.yml"), Path("c.yml")
    )
    assert args[args.index("--enable-api") + 1 : args.index("--enable-api") + 3] == ["--jwt-method", "HS256"]
    # The secret stays in the environment: any local user can read a command line.
    assert JWT_SECRET not in " ".join(args) and "--jwt-secret" not in args


@pytest.mark.parametrize(
    "env",
    [
        {"VRAAGBAAK_CORS_ORIGINS": "*"},
        {"VRAAGBAAK_CORS_ORIGINS": "www.voorbeeld.be"},
        {"VRAAGBAAK_REST_TOKEN": "kort"},
        {"VRAAGBAAK_RECORD_EXP": "een uur"},
        {"VRAAGBAAK_ENABLE_API": "misschien"},
        {"VRAAGBAAK_ENV": "staging"},
    ],
)
def test_unsafe_or_unreadable_settings_are_refused(env: dict) -> None:
    with pytest.raises(ConfigError):
        settings(**env)


def test_cors_list_is_passed_to_rasa() -> None:
    chosen = settings(VRAAGBAAK_CORS_ORIGINS="https://a.be, https://b.nl/")
    assert chosen.cors_origins == ("https://a.be", "https://b.nl")
    args = production.rasa_arguments(chosen, Path("e.yml"), Path("c.yml"))
    assert args[args.index("--cors") :][:3] == ["--cors", "https://a.be", "https://b.nl"]


def test_written_files_are_private(tmp_path: Path) -> None:
    for path in production.write_config(settings(), tmp_path):
        assert path.stat().st_mode & 0o077 == 0


def test_gateway_reply_is_a_valid_action_response(kb: KnowledgeBase) -> None:
    from jsonschema import validate
    from rasa.core.actions.action import RemoteAction

    reply = action_failure_response()
    validate(reply, RemoteAction.action_response_format_spec())
    assert reply["responses"] == [{"text": kb.message("technisch_probleem")}]


@pytest.mark.parametrize("text", ["Sorry, er is een technisch probleem.", 'l\'été coûte $5 \\ "x"\nnieuw'])
def test_nginx_literal_survives_nginx_unescaping(text: str) -> None:
    literal = nginx_literal({"text": text})
    assert literal.startswith("'") and literal.endswith("'")
    inner = literal[1:-1]
    assert "'" not in inner and "$" not in inner
    # nginx turns \\ into \ inside a quoted string; what is left must be the same JSON.
    assert json.loads(inner.replace("\\\\", "\\")) == {"text": text}


def test_token_channel_refuses_to_start_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VRAAGBAAK_REST_TOKEN", raising=False)
    with pytest.raises(ConfigError):
        TokenRestInput.from_credentials({"token_env": "VRAAGBAAK_REST_TOKEN"})
    monkeypatch.setenv("VRAAGBAAK_REST_TOKEN", SECRET)
    assert TokenRestInput.from_credentials({"token_env": "VRAAGBAAK_REST_TOKEN"}).name() == "rest"
