"""Private logs for every process: no user text, no identifier, no secret, one bounded line per event.

Rasa's own log patches (Sentry, structlog, the conversation's ids) are in rasa_patches/.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import os
import secrets
from pathlib import Path
from typing import Iterable, Iterator, Tuple

from vraagbaak.core.log_lines import (
    MAX_LINE,
    bounded,
    private_line,
    pseudonym,
    replacements,
    without_identifiers,
    without_secrets,
)

logger = logging.getLogger(__name__)
KEY_BYTES = 32
# Room for what a formatter puts before the message (time, level, logger name) within MAX_LINE.
MESSAGE_LIMIT = MAX_LINE - 200


# -- the keyed hash ----------------------------------------------------------------------------------------


class _LogKey:
    """The key of this process's pseudonyms; random until install_private_log_lines gives the server's key."""

    value: bytes = secrets.token_bytes(KEY_BYTES)
    hidden: Tuple[str, ...] = ()


def hide_identifier(identifier: str) -> str:
    """The pseudonym a log line shows for an identifier: a keyed hash, so no one can recompute it."""
    return pseudonym(_LogKey.value, identifier)


def load_log_key(path: Path) -> bytes:
    """The server's key in `path` (owner-only), made once on first use; a temporary one if it cannot be kept."""
    try:
        return _read_or_create_key(path)
    except (OSError, ValueError) as error:
        # The bot runs on: only the pseudonyms change at the next start.
        logger.warning(
            "Logsleutel niet bewaard (%s); deze start gebruikt een tijdelijke sleutel", type(error).__name__
        )
        return secrets.token_bytes(KEY_BYTES)


def _read_or_create_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, secrets.token_hex(KEY_BYTES).encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            # A link never overwrites: when two replicas start together, both read the one that won.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < KEY_BYTES:
        raise ValueError("logsleutel te kort")
    return key


# -- the identifiers of the message being handled --------------------------------------------------------

# (written form of an identifier, its pseudonym) pairs: any line logged in this context shows the pseudonym.
_in_play: contextvars.ContextVar[Tuple[Tuple[str, str], ...]] = contextvars.ContextVar(
    "vraagbaak_identifiers_in_play", default=()
)


@contextlib.contextmanager
def identifiers_in_play(conversation: str, *aliases: str) -> Iterator[str]:
    """Within the block, every log line shows the conversation id and its aliases as the conversation's pseudonym."""
    name = hide_identifier(conversation)
    token = _in_play.set(_in_play.get() + replacements((conversation, *aliases), name))
    try:
        yield name
    finally:
        _in_play.reset(token)


def set_identifiers_in_play(conversation: str, *aliases: str) -> None:
    """Like identifiers_in_play, for the rest of the current request (a server middleware has no block)."""
    _in_play.set(replacements((conversation, *aliases), hide_identifier(conversation)))


# -- every log line --------------------------------------------------------------------------------------

_TRACEBACKS = logging.Formatter()
# What every LogRecord has; anything else came with `extra=` (Sanic's access log passes the request line).
_STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def private_text(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """What a log line may say of `text`: identifiers as pseudonyms, no secret, escaped, bounded."""
    text = without_identifiers(text, _in_play.get(), hide_identifier)
    return private_line(without_secrets(text, _LogKey.hidden), limit)


def private_record(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of the record whose message (traceback included) is private_text; the original is untouched."""
    try:
        text = record.getMessage()
    except Exception as error:  # noqa: BLE001 (a malformed call must not lose the line, nor print its arguments)
        text = f"<logregel niet te vormen: {type(error).__name__}> {record.msg!s}"
    if record.exc_info:
        text += "\n" + _TRACEBACKS.formatException(record.exc_info)
    elif record.exc_text:
        text += "\n" + record.exc_text
    if record.stack_info:
        text += "\n" + record.stack_info
    clean = copy.copy(record)
    clean.msg, clean.args = private_text(text), ()
    clean.exc_info, clean.exc_text, clean.stack_info = None, None, None
    for name, value in vars(record).items():
        if name not in _STANDARD_FIELDS and isinstance(value, str):
            setattr(clean, name, private_text(value, MESSAGE_LIMIT // 4))
    return clean


def install_private_log_lines(key: bytes, hidden: Iterable[str] = ()) -> None:
    """Every logging handler of this process writes private_record lines, at most MAX_LINE long.

    One patch of logging.Handler.format covers every library's handlers (Rasa's, Sanic's, rasa-sdk's,
    structlog's through the standard library), whatever they were set up with.
    """
    _LogKey.value = key
    _LogKey.hidden = tuple(sorted({secret for secret in hidden if secret}, key=len, reverse=True))
    if getattr(logging.Handler.format, "vraagbaak_private", False):
        return
    original = logging.Handler.format

    def format(self: logging.Handler, record: logging.LogRecord) -> str:  # noqa: A001 (the method's name)
        line = original(self, private_record(record))
        # The message is bounded already; this bounds what a formatter adds around it.
        return line if len(line) <= MAX_LINE else bounded(line)

    format.vraagbaak_private = True  # type: ignore[attr-defined]
    logging.Handler.format = format  # type: ignore[method-assign]
