"""Production settings from environment variables: Redis stores, closed API, token-protected REST.

    python -m vraagbaak.productie rasa      # start Rasa with the production configuration
    python -m vraagbaak.productie acties    # start the action server on its internal address
    python -m vraagbaak.productie config --out DIR   # only write endpoints.yml and credentials.yml

Without VRAAGBAAK_ENV=production nothing changes: the repository's endpoints.yml and credentials.yml
are used as they are (in-memory store, open REST channel for development and tests).
"""
from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import yaml
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from vraagbaak.kanalen.rest import SafeRestInput, dutch_reply
from vraagbaak.kennisbank import knowledge_base
from vraagbaak.launcher import action_server_arguments
from vraagbaak.paths import MODELS_DIR, PROJECT_DIR

logger = logging.getLogger(__name__)

# Every variable this module reads, with its default; the README (Production) and the deploy files use these names.
ENV_DEFAULTS: Dict[str, str] = {
    "VRAAGBAAK_ENV": "development",
    "VRAAGBAAK_MODEL": str(MODELS_DIR / "vraagbaak.tar.gz"),
    "VRAAGBAAK_RASA_HOST": "127.0.0.1",
    "VRAAGBAAK_RASA_PORT": "5005",
    "VRAAGBAAK_ACTION_HOST": "127.0.0.1",
    "VRAAGBAAK_ACTION_PORT": "5055",
    "VRAAGBAAK_ACTION_URL": "http://127.0.0.1:5055/webhook",
    "VRAAGBAAK_ACTION_TIMEOUT": "10",
    "VRAAGBAAK_REDIS_HOST": "127.0.0.1",
    "VRAAGBAAK_REDIS_PORT": "6379",
    "VRAAGBAAK_REDIS_DB": "0",
    "VRAAGBAAK_REDIS_PASSWORD": "",
    "VRAAGBAAK_RECORD_EXP": "3600",
    "VRAAGBAAK_LOCK_LIFETIME": "20",
    "VRAAGBAAK_CORS_ORIGINS": "",
    "VRAAGBAAK_ENABLE_API": "false",
    "VRAAGBAAK_JWT_SECRET": "",
    "VRAAGBAAK_REST_TOKEN": "",
}
REST_TOKEN_ENV = "VRAAGBAAK_REST_TOKEN"
REDIS_KEY_PREFIX = "vraagbaak"
TRACKER_STORE_CLASS = "vraagbaak.opslag.ForgetfulRedisTrackerStore"
LOCK_STORE_CLASS = "vraagbaak.opslag.ExpiringTicketRedisLockStore"
TOKEN_CHANNEL_CLASS = "vraagbaak.productie.TokenRestInput"
REST_CHANNEL_NAMES = {"rest", "vraagbaak.kanalen.rest.SafeRestInput", TOKEN_CHANNEL_CLASS}
TRUE_WORDS = {"1", "true", "yes", "ja", "on", "aan"}
FALSE_WORDS = {"0", "false", "no", "nee", "off", "uit", ""}
MIN_SECRET_LENGTH = 16
# RFC 7518 asks for an HS256 key at least as long as the hash: 32 bytes.
MIN_JWT_SECRET_LENGTH = 32


class ConfigError(ValueError):
    """The production configuration is unsafe or incomplete; the server must not start."""


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} moet 'true' of 'false' zijn, niet {value!r}.")


def _number(name: str, value: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} moet een geheel getal zijn, niet {value!r}.") from None
    if number < minimum:
        raise ConfigError(f"{name} moet minstens {minimum} zijn.")
    return number


def _origins(value: str) -> Tuple[str, ...]:
    """Origins separated by commas or spaces; '*' is refused because it allows every website."""
    origins = tuple(o.strip().rstrip("/") for o in value.replace(",", " ").split() if o.strip())
    for origin in origins:
        if origin == "*" or not origin.startswith(("http://", "https://")):
            raise ConfigError(
                f"VRAAGBAAK_CORS_ORIGINS: {origin!r} is geen toegestaan adres; geef volledige adressen "
                "zoals https://www.voorbeeld.be (geen '*')."
            )
    return origins


@dataclass(frozen=True)
class Settings:
    """Everything the production configuration depends on, read from the environment."""

    production: bool = False
    model: str = ENV_DEFAULTS["VRAAGBAAK_MODEL"]
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    action_url: str = "http://127.0.0.1:5055/webhook"
    action_timeout: int = 10
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    redis_password: bool = False
    record_exp: int = 3600
    lock_lifetime: int = 20
    cors_origins: Tuple[str, ...] = ()
    enable_api: bool = False
    jwt_secret: str = field(default="", repr=False)
    rest_token: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check the VRAAGBAAK_* variables; raises ConfigError on unsafe combinations."""
        source = os.environ if env is None else env

        def get(name: str) -> str:
            return source.get(name, ENV_DEFAULTS[name])

        kind = get("VRAAGBAAK_ENV").strip().lower()
        if kind not in ("development", "production"):
            raise ConfigError(f"VRAAGBAAK_ENV moet 'development' of 'production' zijn, niet {kind!r}.")
        settings = cls(
            production=kind == "production",
            model=get("VRAAGBAAK_MODEL"),
            rasa_host=get("VRAAGBAAK_RASA_HOST"),
            rasa_port=_number("VRAAGBAAK_RASA_PORT", get("VRAAGBAAK_RASA_PORT"), 1),
            action_host=get("VRAAGBAAK_ACTION_HOST"),
            action_port=_number("VRAAGBAAK_ACTION_PORT", get("VRAAGBAAK_ACTION_PORT"), 1),
            action_url=get("VRAAGBAAK_ACTION_URL"),
            action_timeout=_number("VRAAGBAAK_ACTION_TIMEOUT", get("VRAAGBAAK_ACTION_TIMEOUT"), 1),
            redis_host=get("VRAAGBAAK_REDIS_HOST"),
            redis_port=_number("VRAAGBAAK_REDIS_PORT", get("VRAAGBAAK_REDIS_PORT"), 1),
            redis_db=_number("VRAAGBAAK_REDIS_DB", get("VRAAGBAAK_REDIS_DB")),
            redis_password=bool(get("VRAAGBAAK_REDIS_PASSWORD")),
            record_exp=_number("VRAAGBAAK_RECORD_EXP", get("VRAAGBAAK_RECORD_EXP"), 1),
            lock_lifetime=_number("VRAAGBAAK_LOCK_LIFETIME", get("VRAAGBAAK_LOCK_LIFETIME"), 1),
            cors_origins=_origins(get("VRAAGBAAK_CORS_ORIGINS")),
            enable_api=_flag("VRAAGBAAK_ENABLE_API", get("VRAAGBAAK_ENABLE_API")),
            jwt_secret=get("VRAAGBAAK_JWT_SECRET"),
            rest_token=bool(get(REST_TOKEN_ENV)),
        )
        settings.check(get(REST_TOKEN_ENV))
        return settings

    def check(self, rest_token: str = "") -> None:
        """Refuse combinations that would expose conversations."""
        if not self.production:
            return
        if self.enable_api and len(self.jwt_secret) < MIN_JWT_SECRET_LENGTH:
            raise ConfigError(
                "VRAAGBAAK_ENABLE_API staat aan, maar VRAAGBAAK_JWT_SECRET ontbreekt of is korter dan "
                f"{MIN_JWT_SECRET_LENGTH} tekens. Zonder geheim kan iedereen gesprekken lezen; de server start niet."
            )
        if rest_token and len(rest_token) < MIN_SECRET_LENGTH:
            raise ConfigError(f"VRAAGBAAK_REST_TOKEN moet minstens {MIN_SECRET_LENGTH} tekens lang zijn.")


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
        "tracker_store": {"type": TRACKER_STORE_CLASS, **redis, "record_exp": settings.record_exp},
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
    """Arguments for `rasa run` (after `python -m vraagbaak.launcher rasa`)."""
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
        return [*args, "--cors", os.environ.get("VRAAGBAAK_CORS", "*")]
    if settings.cors_origins:
        args += ["--cors", *settings.cors_origins]
    if settings.enable_api:
        args += ["--enable-api", "--jwt-secret", settings.jwt_secret, "--jwt-method", "HS256"]
    return args


def rasa_environment(settings: Settings) -> Dict[str, str]:
    """Extra environment for Rasa: how long a conversation lock may live when a replica dies holding it."""
    return {"TICKET_LOCK_LIFETIME": str(settings.lock_lifetime)}


def action_arguments(settings: Settings) -> List[str]:
    """Arguments for the action server (after `python -m vraagbaak.launcher`)."""
    return action_server_arguments(settings.action_port)


def action_environment(settings: Settings) -> Dict[str, str]:
    """rasa-sdk reads its listen address from SANIC_HOST: loopback unless a private network needs more."""
    return {"SANIC_HOST": settings.action_host}


def write_config(settings: Settings, directory: Path) -> Tuple[Path, Path]:
    """Write endpoints.yml and credentials.yml (readable by the owner only) and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "endpoints.yml", directory / "credentials.yml"
    for path, content in zip(paths, (endpoints_config(settings), credentials_config(settings)), strict=True):
        path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
        path.chmod(0o600)
    return paths


def technical_problem_text() -> str:
    """The Dutch reply when a part of the system does not answer."""
    return knowledge_base().message("technisch_probleem")


def action_failure_response() -> Dict[str, Any]:
    """A valid action-server reply that only says there is a technical problem (used by the gateway)."""
    return {"events": [], "responses": [{"text": technical_problem_text()}]}


def channel_failure_response() -> List[Dict[str, Any]]:
    """What the REST channel returns when Rasa itself cannot be reached."""
    return dutch_reply("technisch_probleem")


def nginx_literal(value: Any) -> str:
    """JSON for an nginx `return` string in single quotes: ASCII only, no `$` variables, no quotes."""
    text = json.dumps(value, ensure_ascii=True).replace("$", "\\u0024").replace("'", "\\u0027")
    # nginx itself unescapes `\\` inside quoted strings, so double each backslash to keep JSON escapes.
    return "'" + text.replace("\\", "\\\\") + "'"


def install_action_failure_reply(timeout: float) -> None:
    """Let Rasa answer with the technical-problem text when a custom action fails or takes too long.

    Rasa 3.6 logs a failing RemoteAction and carries on without its events, so the user gets no answer at all
    (and waits up to five minutes for a hanging action server). This wraps RemoteAction.run in this process.
    """
    import asyncio

    import aiohttp
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    original = RemoteAction.run
    if getattr(original, "vraagbaak_fallback", False):
        return

    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> List[Any]:
        try:
            return list(await asyncio.wait_for(original(self, *args, **kwargs), timeout))
        except ActionExecutionRejection:
            raise  # a deliberate "not me": Rasa lets another policy choose
        except (RasaException, aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error(
                "Actie %s mislukt (%s); technisch probleem gemeld", self.name(), type(error).__name__
            )
            return [BotUttered(technical_problem_text())]

    run.vraagbaak_fallback = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]


class RestTokenRejected(InvalidUsage):
    """A REST request without the right token."""

    status_code = 401


def _bearer_token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class TokenRestInput(SafeRestInput):
    """REST channel for trusted back ends only: every POST needs `Authorization: Bearer <token>`.

    Why: the REST channel lets the caller choose the sender id. Without a token, anyone who knows or guesses
    someone's sender id can write into that conversation and change what the bot answers them next.
    """

    def __init__(self, token: str) -> None:
        if len(token) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{REST_TOKEN_ENV} ontbreekt of is te kort; het REST-kanaal start niet.")
        self._token = token

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> TokenRestInput:
        """Read the token from the environment variable named in credentials (never from the file)."""
        name = (credentials or {}).get("token_env", REST_TOKEN_ENV)
        return cls(os.environ.get(str(name), ""))

    def token_ok(self, request: Request) -> bool:
        """Constant-time comparison with the configured token."""
        return hmac.compare_digest(_bearer_token(request).encode(), self._token.encode())

    async def _extract_sender(self, req: Request) -> str | None:
        if not self.token_ok(req):
            raise RestTokenRejected("token ontbreekt of klopt niet")
        return await super()._extract_sender(req)


def _exec(module_args: Sequence[str], extra_env: Dict[str, str]) -> None:
    """Replace this process with `python -m MODULE ARGS` so signals reach Rasa directly.

    A fresh process, because Rasa reads some settings (TICKET_LOCK_LIFETIME) from the environment on import.
    """
    env = {**os.environ, **extra_env}
    os.chdir(PROJECT_DIR)
    os.execve(sys.executable, [sys.executable, "-m", *module_args], env)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: rasa | acties | config --out DIR."""
    parser = argparse.ArgumentParser(
        prog="python -m vraagbaak.productie", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rasa", help="start Rasa met de productie-instellingen")
    sub.add_parser("acties", help="start de actieserver op het interne adres")
    serve = sub.add_parser("rasa-proces", help=argparse.SUPPRESS)
    serve.add_argument("rasa_args", nargs=argparse.REMAINDER)
    config = sub.add_parser("config", help="schrijf endpoints.yml en credentials.yml")
    config.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"Vraagbaak start niet: {error}", file=sys.stderr)
        return 2
    if args.command == "config":
        endpoints, credentials = write_config(settings, args.out)
        shown = rasa_arguments(settings, endpoints, credentials)
        # Never print the secret itself; the shell fills it in from the environment.
        print(" ".join('"$VRAAGBAAK_JWT_SECRET"' if a == settings.jwt_secret and a else a for a in shown))
        return 0
    if args.command == "acties":
        _exec(["vraagbaak.launcher", *action_arguments(settings)], action_environment(settings))
    if args.command == "rasa-proces":
        from vraagbaak.launcher import run_rasa_cli

        install_action_failure_reply(settings.action_timeout)
        run_rasa_cli(args.rasa_args)
        return 0
    directory = Path(tempfile.mkdtemp(prefix="vraagbaak-config-"))
    endpoints, credentials = write_config(settings, directory)
    rasa_args = rasa_arguments(settings, endpoints, credentials)
    _exec(["vraagbaak.productie", "rasa-proces", *rasa_args], rasa_environment(settings))
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    raise SystemExit(main())
