"""The one settings class: every VRAAGBAAK_* environment variable, read and checked in one place."""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Mapping, Tuple

from vraagbaak.core.paths import MODELS_DIR, PROJECT_DIR

INSIGHTS_DB_FILE = PROJECT_DIR / "var" / "inzichten.db"
INSIGHTS_DB_URL_ENV = "VRAAGBAAK_INSIGHTS_DB_URL"
INSIGHTS_KEEP_TEXT_ENV = "VRAAGBAAK_INSIGHTS_KEEP_TEXT"
INSIGHTS_RETENTION_ENV = "VRAAGBAAK_INSIGHTS_RETENTION_DAYS"
# The trained model every process serves unless VRAAGBAAK_MODEL (or a command line) names another.
DEFAULT_MODEL = MODELS_DIR / "vraagbaak.tar.gz"
# Seconds an action may take before the user gets "technisch probleem" (Rasa's patch and the nginx gateway).
ACTION_TIMEOUT = 10
REDIS_PASSWORD_ENV = "VRAAGBAAK_REDIS_PASSWORD"

# Every VRAAGBAAK_* variable, with its default; docs/production.md and the deploy files use these names.
ENV_DEFAULTS: Dict[str, str] = {
    "VRAAGBAAK_ENV": "development",
    "VRAAGBAAK_MODEL": str(DEFAULT_MODEL),
    "VRAAGBAAK_RASA_HOST": "127.0.0.1",
    "VRAAGBAAK_RASA_PORT": "5005",
    "VRAAGBAAK_ACTION_HOST": "127.0.0.1",
    "VRAAGBAAK_ACTION_PORT": "5055",
    "VRAAGBAAK_ACTION_URL": "http://127.0.0.1:5055/webhook",
    "VRAAGBAAK_ACTION_TIMEOUT": str(ACTION_TIMEOUT),
    "VRAAGBAAK_REDIS_HOST": "127.0.0.1",
    "VRAAGBAAK_REDIS_PORT": "6379",
    "VRAAGBAAK_REDIS_DB": "0",
    REDIS_PASSWORD_ENV: "",
    "VRAAGBAAK_RECORD_EXP": "3600",
    "VRAAGBAAK_LOCK_LIFETIME": "20",
    # User turns the Redis store keeps of a session (the rules need one; more costs time on every message).
    "VRAAGBAAK_KEPT_TURNS": "3",
    # Messages one Rasa process works on at once; the others wait in arrival order. Interleaving many turns in
    # one event loop makes every one of them slow; taking them in order keeps the slowest close to the median.
    "VRAAGBAAK_TURNS_AT_ONCE": "4",
    # Messages one socket.io connection or one REST sender may send at once, and refilled per minute (a token
    # bucket): more than a person types, far less than a script that would crowd out everyone else.
    "VRAAGBAAK_RATE_BURST": "20",
    "VRAAGBAAK_RATE_PER_MINUTE": "60",
    # Seconds one call to a messaging platform (Telegram, Twilio, Messenger) may take; a slower call counts as a
    # failed send. Its platform's user waits, nobody else does (replies go out outside the shared turns).
    "VRAAGBAAK_PLATFORM_TIMEOUT": "10",
    "VRAAGBAAK_CORS_ORIGINS": "",
    # Development only (`make run`): the websites that may use the bot; empty means the demo page.
    "VRAAGBAAK_CORS": "",
    "VRAAGBAAK_ENABLE_API": "false",
    "VRAAGBAAK_JWT_SECRET": "",
    "VRAAGBAAK_REST_TOKEN": "",
    # The key that signs the widget's session ids: a file the first server makes (0600), shared by replicas
    # that read the same file; or the key itself, for replicas that share no disk (at least 32 characters).
    "VRAAGBAAK_SOCKETIO_KEY_FILE": str(PROJECT_DIR / ".run" / "socketio-sessies.key"),
    "VRAAGBAAK_SOCKETIO_KEY": "",
    "VRAAGBAAK_INSIGHTS_DB_URL": f"sqlite:///{INSIGHTS_DB_FILE}",
    "VRAAGBAAK_INSIGHTS_KEEP_TEXT": "false",
    "VRAAGBAAK_INSIGHTS_RETENTION_DAYS": "30",
    # The staff console (vraagbaak/console): its own port, loopback unless opened on purpose.
    "VRAAGBAAK_CONSOLE_HOST": "127.0.0.1",
    "VRAAGBAAK_CONSOLE_PORT": "8090",
    "VRAAGBAAK_CONSOLE_SECURE_COOKIES": "false",
    "VRAAGBAAK_CONSOLE_SESSION_MINUTES": "120",
    # Behind nginx on its own path, e.g. /medewerkers: every link and the cookie path start with it.
    "VRAAGBAAK_CONSOLE_BASE_PATH": "",
    "VRAAGBAAK_CONSOLE_RASA_URL": "http://127.0.0.1:5005",
    # Set by `make run` for the console process only: the token of Rasa's HTTP API (never logged).
    "VRAAGBAAK_CONSOLE_RASA_TOKEN": "",
    # Proxies (addresses or networks) whose X-Forwarded-For / X-Real-IP the console believes; empty: none.
    "VRAAGBAAK_CONSOLE_TRUSTED_PROXIES": "",
    # The token of Rasa's HTTP API, for the Rasa process: an environment variable, since any local user can
    # read a command line (/proc/*/cmdline). `make run` sets it; the launcher hands it to Rasa.
    "VRAAGBAAK_RASA_TOKEN": "",
    # `make run`: the demo page's port (Rasa's and the action server's are VRAAGBAAK_RASA_PORT and _ACTION_PORT).
    "VRAAGBAAK_WEB_PORT": "8080",
    # The key of the pseudonyms that stand for conversation ids in logs; made once, readable by the owner only.
    "VRAAGBAAK_LOG_KEY_FILE": str(PROJECT_DIR / ".run" / "log-key"),
}
CONSOLE_RASA_TOKEN_ENV = "VRAAGBAAK_CONSOLE_RASA_TOKEN"
RASA_TOKEN_ENV = "VRAAGBAAK_RASA_TOKEN"
REST_TOKEN_ENV = "VRAAGBAAK_REST_TOKEN"
JWT_SECRET_ENV = "VRAAGBAAK_JWT_SECRET"
LOG_KEY_FILE_ENV = "VRAAGBAAK_LOG_KEY_FILE"
# Every secret a process may get in its environment (the channels' are read by Rasa from the credentials
# file's ${...}); a log line never shows one of their values.
SECRET_ENV = (
    RASA_TOKEN_ENV,
    CONSOLE_RASA_TOKEN_ENV,
    JWT_SECRET_ENV,
    REST_TOKEN_ENV,
    REDIS_PASSWORD_ENV,
    "TELEGRAM_TOKEN",
    "TELEGRAM_SECRET_TOKEN",
    "TWILIO_AUTH_TOKEN",
    "FB_VERIFY",
    "FB_SECRET",
    "FB_PAGE_ACCESS_TOKEN",
)
TRUE_WORDS = {"1", "true", "yes", "ja", "on", "aan"}
FALSE_WORDS = {"0", "false", "no", "nee", "off", "uit", ""}
MIN_SECRET_LENGTH = 16
# RFC 7518 asks for an HS256 key at least as long as the hash: 32 bytes.
MIN_JWT_SECRET_LENGTH = 32
# A browser's Origin header: scheme, host and optional port; no path, query or wildcard.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class ConfigError(ValueError):
    """A setting is unsafe, incomplete or malformed; the process that reads it must not start."""


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


def _origins(name: str, value: str, allow_any: bool = False) -> Tuple[str, ...]:
    """Origins separated by commas or spaces, each scheme://host[:port]; '*' (every website) only if allowed and alone."""
    origins = tuple(o.strip().rstrip("/") for o in value.replace(",", " ").split() if o.strip())
    if allow_any and origins == ("*",):
        return origins
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"{name}: {origin!r} is geen geldig adres van een website. Geef volledige adressen zoals "
                "https://www.voorbeeld.be of http://localhost:8080, gescheiden door komma's"
                + (" ('*' alleen, en alleen om te testen)." if allow_any else " (geen '*').")
            )
    return origins


def _base_path(value: str) -> str:
    """'' or a path such as '/medewerkers' (leading slash, no trailing slash, only safe characters)."""
    path = "/" + value.strip().strip("/") if value.strip().strip("/") else ""
    if path and not re.fullmatch(r"(/[A-Za-z0-9_-]+)+", path):
        raise ConfigError(
            f"VRAAGBAAK_CONSOLE_BASE_PATH moet een pad zijn zoals /medewerkers (letters, cijfers, - en _), niet {value!r}."
        )
    return path


def _networks(name: str, value: str) -> Tuple[str, ...]:
    """Addresses or networks separated by commas or spaces (127.0.0.1, 10.0.0.0/8, ::1), normalised."""
    networks = []
    for part in value.replace(",", " ").split():
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name}: {part!r} is geen IP-adres of netwerk. Geef adressen zoals 127.0.0.1 of 10.0.0.0/8, "
                "gescheiden door komma's."
            ) from None
    return tuple(networks)


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
    action_timeout: int = ACTION_TIMEOUT
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    redis_password: bool = False
    record_exp: int = 3600
    lock_lifetime: int = 20
    kept_turns: int = 3
    turns_at_once: int = 4
    rate_burst: int = 20
    rate_per_minute: int = 60
    platform_timeout: int = 10
    cors_origins: Tuple[str, ...] = ()
    enable_api: bool = False
    jwt_secret: str = field(default="", repr=False)
    rest_token: bool = False
    socketio_key_file: str = ENV_DEFAULTS["VRAAGBAAK_SOCKETIO_KEY_FILE"]
    socketio_key: str = field(default="", repr=False)
    insights_db_url: str = ENV_DEFAULTS["VRAAGBAAK_INSIGHTS_DB_URL"]
    insights_keep_text: bool = False
    insights_retention_days: int = 30
    console_host: str = "127.0.0.1"
    console_port: int = 8090
    console_secure_cookies: bool = False
    console_session_minutes: int = 120
    console_base_path: str = ""
    console_rasa_url: str = "http://127.0.0.1:5005"
    console_rasa_token: str = field(default="", repr=False)
    console_trusted_proxies: Tuple[str, ...] = ()
    rasa_token: str = field(default="", repr=False)
    web_port: int = 8080
    log_key_file: str = ENV_DEFAULTS[LOG_KEY_FILE_ENV]
    # The values of SECRET_ENV that are set, for the log filter only.
    secret_values: Tuple[str, ...] = field(default=(), repr=False)

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
            redis_password=bool(get(REDIS_PASSWORD_ENV)),
            record_exp=_number("VRAAGBAAK_RECORD_EXP", get("VRAAGBAAK_RECORD_EXP"), 1),
            lock_lifetime=_number("VRAAGBAAK_LOCK_LIFETIME", get("VRAAGBAAK_LOCK_LIFETIME"), 1),
            kept_turns=_number("VRAAGBAAK_KEPT_TURNS", get("VRAAGBAAK_KEPT_TURNS"), 1),
            turns_at_once=_number("VRAAGBAAK_TURNS_AT_ONCE", get("VRAAGBAAK_TURNS_AT_ONCE"), 1),
            rate_burst=_number("VRAAGBAAK_RATE_BURST", get("VRAAGBAAK_RATE_BURST"), 1),
            rate_per_minute=_number("VRAAGBAAK_RATE_PER_MINUTE", get("VRAAGBAAK_RATE_PER_MINUTE"), 1),
            platform_timeout=_number("VRAAGBAAK_PLATFORM_TIMEOUT", get("VRAAGBAAK_PLATFORM_TIMEOUT"), 1),
            # Production: only VRAAGBAAK_CORS_ORIGINS. Development also reads `make run`'s VRAAGBAAK_CORS,
            # where '*' alone is allowed for local tests (docs/widget-rasa-webchat.md says why not in production).
            cors_origins=(
                _origins("VRAAGBAAK_CORS_ORIGINS", get("VRAAGBAAK_CORS_ORIGINS"))
                if kind == "production" or get("VRAAGBAAK_CORS_ORIGINS").strip()
                else _origins("VRAAGBAAK_CORS", get("VRAAGBAAK_CORS"), allow_any=True)
            ),
            enable_api=_flag("VRAAGBAAK_ENABLE_API", get("VRAAGBAAK_ENABLE_API")),
            jwt_secret=get(JWT_SECRET_ENV),
            rest_token=bool(get(REST_TOKEN_ENV)),
            socketio_key_file=get("VRAAGBAAK_SOCKETIO_KEY_FILE")
            or ENV_DEFAULTS["VRAAGBAAK_SOCKETIO_KEY_FILE"],
            socketio_key=get("VRAAGBAAK_SOCKETIO_KEY"),
            insights_db_url=get("VRAAGBAAK_INSIGHTS_DB_URL") or ENV_DEFAULTS["VRAAGBAAK_INSIGHTS_DB_URL"],
            # Anything but an explicit yes keeps text off: a typo must never start storing what people typed.
            insights_keep_text=get("VRAAGBAAK_INSIGHTS_KEEP_TEXT").strip().lower() in TRUE_WORDS,
            insights_retention_days=_number(
                "VRAAGBAAK_INSIGHTS_RETENTION_DAYS", get("VRAAGBAAK_INSIGHTS_RETENTION_DAYS") or "30", 1
            ),
            console_host=get("VRAAGBAAK_CONSOLE_HOST"),
            console_port=_number("VRAAGBAAK_CONSOLE_PORT", get("VRAAGBAAK_CONSOLE_PORT"), 1),
            console_secure_cookies=_flag(
                "VRAAGBAAK_CONSOLE_SECURE_COOKIES", get("VRAAGBAAK_CONSOLE_SECURE_COOKIES")
            ),
            console_session_minutes=_number(
                "VRAAGBAAK_CONSOLE_SESSION_MINUTES", get("VRAAGBAAK_CONSOLE_SESSION_MINUTES"), 1
            ),
            console_base_path=_base_path(get("VRAAGBAAK_CONSOLE_BASE_PATH")),
            console_rasa_url=get("VRAAGBAAK_CONSOLE_RASA_URL").rstrip("/"),
            console_rasa_token=get(CONSOLE_RASA_TOKEN_ENV),
            console_trusted_proxies=_networks(
                "VRAAGBAAK_CONSOLE_TRUSTED_PROXIES", get("VRAAGBAAK_CONSOLE_TRUSTED_PROXIES")
            ),
            rasa_token=get(RASA_TOKEN_ENV),
            web_port=_number("VRAAGBAAK_WEB_PORT", get("VRAAGBAAK_WEB_PORT"), 1),
            log_key_file=get(LOG_KEY_FILE_ENV) or ENV_DEFAULTS[LOG_KEY_FILE_ENV],
            secret_values=tuple(source[name] for name in SECRET_ENV if source.get(name)),
        )
        settings.check(get(REST_TOKEN_ENV))
        return settings

    @staticmethod
    def secret(name: str, env: Mapping[str, str] | None = None) -> str:
        """The value of one secret's variable, read when it is needed and kept in no object (empty if unset).

        For a secret a component needs itself: the Redis password of the replay check, the REST token whose
        variable the credentials file names (`token_env`).
        """
        return (os.environ if env is None else env).get(name, "")

    def check(self, rest_token: str = "") -> None:
        """Refuse combinations that would expose conversations."""
        if self.socketio_key and len(self.socketio_key) < MIN_JWT_SECRET_LENGTH:
            raise ConfigError(
                f"VRAAGBAAK_SOCKETIO_KEY moet minstens {MIN_JWT_SECRET_LENGTH} tekens lang zijn (of laat hem leeg: "
                "dan maakt de server zelf een sleutel in VRAAGBAAK_SOCKETIO_KEY_FILE)."
            )
        if not self.production:
            return
        if self.enable_api and len(self.jwt_secret) < MIN_JWT_SECRET_LENGTH:
            raise ConfigError(
                "VRAAGBAAK_ENABLE_API staat aan, maar VRAAGBAAK_JWT_SECRET ontbreekt of is korter dan "
                f"{MIN_JWT_SECRET_LENGTH} tekens. Zonder geheim kan iedereen gesprekken lezen; de server start niet."
            )
        if rest_token and len(rest_token) < MIN_SECRET_LENGTH:
            raise ConfigError(f"VRAAGBAAK_REST_TOKEN moet minstens {MIN_SECRET_LENGTH} tekens lang zijn.")
        if self.rasa_token and len(self.rasa_token) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{RASA_TOKEN_ENV} moet minstens {MIN_SECRET_LENGTH} tekens lang zijn.")
