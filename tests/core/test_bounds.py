"""Bounds on conversation ids and metadata: one byte over is refused, at the limit accepted."""
from __future__ import annotations

from typing import Any

import pytest

from vraagbaak.core.bounds import MAX_METADATA_BYTES, MAX_SENDER_LENGTH, kept_metadata, valid_sender_id


@pytest.mark.parametrize(
    "sender",
    [
        "a",
        "a" * MAX_SENDER_LENGTH,
        "test-3f2a_9.b:c",
        "whatsapp:+31612345678",  # Twilio
        "-1001234567890",  # a Telegram group chat
        "8f14e45fceea167a5a36dedd4bea2543",
    ],
)
def test_plain_ids_up_to_the_limit_are_accepted(sender: str) -> None:
    assert valid_sender_id(sender)


@pytest.mark.parametrize(
    "sender",
    [
        "a" * (MAX_SENDER_LENGTH + 1),
        "a" * (4 * 1024 * 1024),
        "",
        "met spatie",
        "tab\tje",
        "regel\neinde",
        "é",
        "a/b",
        "<script>",
        "a\x00",
        "\ud800",
        None,
        42,
        ["a"],
    ],
)
def test_long_or_odd_ids_are_refused(sender: Any) -> None:
    assert not valid_sender_id(sender)


def test_the_bot_keeps_no_metadata_by_default() -> None:
    assert kept_metadata({"customData": {"taal": "nl"}, "x": "y" * 1000}) is None
    assert kept_metadata("niet een object") is None and kept_metadata(None) is None


KEYS = frozenset({"taal"})


def metadata_of_size(size: int) -> dict:
    """{"taal": "aaa…"} whose UTF-8 JSON is exactly `size` bytes."""
    return {"taal": "a" * (size - len('{"taal": ""}'))}


def test_a_read_key_up_to_the_limit_is_kept_and_one_byte_over_is_dropped() -> None:
    assert kept_metadata(metadata_of_size(MAX_METADATA_BYTES), KEYS) == metadata_of_size(MAX_METADATA_BYTES)
    assert kept_metadata(metadata_of_size(MAX_METADATA_BYTES + 1), KEYS) is None


def test_only_the_read_keys_are_kept_and_counted() -> None:
    raw = {"taal": "nl", "rest": "x" * (10 * MAX_METADATA_BYTES)}
    assert kept_metadata(raw, KEYS) == {"taal": "nl"}


def test_the_limit_counts_bytes_not_characters() -> None:
    # 2 bytes a character: within the limit in characters, over it in bytes.
    raw = {"taal": "é" * (MAX_METADATA_BYTES // 2)}
    assert kept_metadata(raw, KEYS) is None


def test_unserialisable_metadata_is_dropped() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    assert kept_metadata({"taal": deep}, KEYS) is None
