"""Write a Rasa credentials file: REST and socket.io always, each messaging channel only when configured.

Usage: ``python -m vraagbaak.ops.channel_credentials OUT.yml`` (then ``rasa run --credentials OUT.yml``).

The file holds no secrets: every value is written as ``${VARIABLE}``, which Rasa fills in from the
environment when it starts. So Rasa must run with the same variables set. A channel is written only
when its required variables are all set; when only some are set the command stops with an error, so a
typo never silently switches a channel off.

=======================  ==========  ========  =========================================================
Variable                 Channel     Required  Meaning
=======================  ==========  ========  =========================================================
TELEGRAM_TOKEN           Telegram    yes       Bot token from @BotFather ("123456:ABC...").
TELEGRAM_BOT_NAME        Telegram    yes       The bot's username; checked against the token at start-up.
TELEGRAM_WEBHOOK_URL     Telegram    yes       Public https URL of /webhooks/telegram/webhook.
TELEGRAM_SECRET_TOKEN    Telegram    yes       1-256 of A-Z a-z 0-9 _ -; Telegram sends it back in the
                                               X-Telegram-Bot-Api-Secret-Token header of every update.
TELEGRAM_API_URL         Telegram    no        Bot API base URL (default https://api.telegram.org).
TWILIO_ACCOUNT_SID       Twilio      yes       Account SID ("AC...").
TWILIO_AUTH_TOKEN        Twilio      yes       Auth token; also the key of the X-Twilio-Signature check.
TWILIO_NUMBER            Twilio      yes       Sender number, "+31..." (SMS) or "whatsapp:+31..."; the
                                               prefix is adjusted per recipient.
TWILIO_WEBHOOK_URL       Twilio      yes       Public https URL of /webhooks/twilio/webhook, exactly as
                                               set in the Twilio console (signatures cover the URL).
TWILIO_API_URL           Twilio      no        Twilio REST base URL (default https://api.twilio.com).
FB_VERIFY                Messenger   yes       Verify token you choose in the Meta app's webhook settings.
FB_SECRET                Messenger   yes       App secret; key of X-Hub-Signature-256 / X-Hub-Signature.
FB_PAGE_ACCESS_TOKEN     Messenger   yes       Page access token for the Send API.
FB_API_URL               Messenger   no        Graph API base URL (default https://graph.facebook.com).
FB_API_VERSION           Messenger   no        Graph API version (default v25.0).
=======================  ==========  ========  =========================================================
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import yaml

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import ConfigError

BASE_CREDENTIALS = PROJECT_DIR / "credentials.yml"
REST_KEY = "vraagbaak.adapters.channels.rest.SafeRestInput"
SOCKETIO_KEY = "vraagbaak.adapters.channels.socketio.VraagbaakSocketIOInput"
_REFERENCE = re.compile(r"^\$\{[A-Z0-9_]+\}$")
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Setting = Tuple[str, str]  # (key in the credentials file, environment variable)


@dataclass(frozen=True)
class Channel:
    """A messaging channel: its class path in the credentials file and its variables."""

    label: str
    key: str
    required: Tuple[Setting, ...]
    optional: Tuple[Setting, ...] = ()
    https_urls: Tuple[str, ...] = ()  # variables that must be public https URLs


CHANNELS: Tuple[Channel, ...] = (
    Channel(
        "Telegram",
        "vraagbaak.adapters.channels.telegram.VraagbaakTelegramInput",
        (
            ("access_token", "TELEGRAM_TOKEN"),
            ("verify", "TELEGRAM_BOT_NAME"),
            ("webhook_url", "TELEGRAM_WEBHOOK_URL"),
            ("secret_token", "TELEGRAM_SECRET_TOKEN"),
        ),
        (("api_url", "TELEGRAM_API_URL"),),
        ("TELEGRAM_WEBHOOK_URL",),
    ),
    Channel(
        "Twilio",
        "vraagbaak.adapters.channels.twilio.VraagbaakTwilioInput",
        (
            ("account_sid", "TWILIO_ACCOUNT_SID"),
            ("auth_token", "TWILIO_AUTH_TOKEN"),
            ("twilio_number", "TWILIO_NUMBER"),
            ("webhook_url", "TWILIO_WEBHOOK_URL"),
        ),
        (("api_url", "TWILIO_API_URL"),),
        ("TWILIO_WEBHOOK_URL",),
    ),
    Channel(
        "Messenger",
        "vraagbaak.adapters.channels.messenger.VraagbaakFacebookInput",
        (("verify", "FB_VERIFY"), ("secret", "FB_SECRET"), ("page-access-token", "FB_PAGE_ACCESS_TOKEN")),
        (("api_url", "FB_API_URL"), ("api_version", "FB_API_VERSION")),
    ),
)


def reference(variable: str) -> str:
    """A value Rasa fills in from the environment when it reads the file."""
    return f"${{{variable}}}"


def check(channel: Channel, env: Mapping[str, str]) -> None:
    """Raise ConfigError for missing variables or values the platform would refuse."""
    missing = [variable for _, variable in channel.required if not env.get(variable)]
    if missing:
        raise ConfigError(f"{channel.label}: ontbrekende variabelen {', '.join(missing)}")
    wrong = [variable for variable in channel.https_urls if not env[variable].startswith("https://")]
    if wrong:
        raise ConfigError(f"{channel.label}: {', '.join(wrong)} moet een https-adres zijn")
    if channel.label == "Telegram" and not _TELEGRAM_SECRET.match(env["TELEGRAM_SECRET_TOKEN"]):
        raise ConfigError("Telegram: TELEGRAM_SECRET_TOKEN mag alleen A-Z a-z 0-9 _ - bevatten (1-256)")


def channel_settings(channel: Channel, env: Mapping[str, str]) -> Dict[str, str] | None:
    """The channel's settings as ${VARIABLE} references, or None when none of its variables is set."""
    if not any(env.get(variable) for _, variable in channel.required):
        return None
    check(channel, env)
    settings = channel.required + tuple(s for s in channel.optional if env.get(s[1]))
    return {key: reference(variable) for key, variable in settings}


def base_credentials(path: Path = BASE_CREDENTIALS) -> Dict[str, Any]:
    """REST and socket.io, copied from the project's credentials.yml."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {REST_KEY: raw.get(REST_KEY), SOCKETIO_KEY: dict(raw[SOCKETIO_KEY])}


def build_credentials(env: Mapping[str, str], base: Dict[str, Any] | None = None) -> Dict[str, Any]:
    """All channels for this environment, REST and socket.io first."""
    credentials = dict(base_credentials() if base is None else base)
    for channel in CHANNELS:
        settings = channel_settings(channel, env)
        if settings:
            credentials[channel.key] = settings
    return credentials


def scalar(value: Any) -> str:
    """A YAML scalar; references stay plain, because Rasa expands only unquoted ${...} values."""
    if isinstance(value, str) and _REFERENCE.match(value):
        return value
    return json.dumps(value, ensure_ascii=False)  # JSON scalars are valid YAML


def render(credentials: Mapping[str, Any]) -> str:
    """The credentials as YAML text (written by hand: yaml.dump would quote the ${...} references)."""
    lines: List[str] = [
        "# Generated by `python -m vraagbaak.ops.channel_credentials`; values come from the environment."
    ]
    for key, settings in credentials.items():
        lines.append(f"{key}:")
        lines.extend(f"  {name}: {scalar(value)}" for name, value in (settings or {}).items())
    return "\n".join(lines) + "\n"


def enabled_channels(credentials: Mapping[str, Any]) -> List[str]:
    """Labels of the messaging channels in a credentials mapping."""
    return [channel.label for channel in CHANNELS if channel.key in credentials]


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Write OUT.yml for the current environment; exit code 2 on a configuration error."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("Gebruik: python -m vraagbaak.ops.channel_credentials UIT.yml", file=sys.stderr)
        return 2
    try:
        credentials = build_credentials(env if env is not None else dict(os.environ))
    except ConfigError as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 2
    Path(args[0]).write_text(render(credentials), encoding="utf-8")
    channels = ", ".join(["REST", "socket.io", *enabled_channels(credentials)])
    print(f"{args[0]} geschreven met: {channels}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
