"""The checks that run before a request or packet is decoded: Content-Length and socket.io packets."""
from __future__ import annotations

from typing import Any, List

import pytest
from sanic.compat import Header

from vraagbaak.adapters.channels.socketio_bounds import NOT_TEXT_KEY, TOO_LONG_KEY, packet_problem
from vraagbaak.adapters.rasa_patches.request_checks import body_length_problem
from vraagbaak.core.user_input import MAX_MESSAGE_BYTES


def headers(*lengths: str) -> Header:
    return Header([("content-length", value) for value in lengths])


@pytest.mark.parametrize("lengths", [[], ["0"], ["2"], ["17"], ["2", "2"], ["5 "]])
def test_one_plain_length_is_fine(lengths: List[str]) -> None:
    assert not body_length_problem(headers(*lengths))


@pytest.mark.parametrize("lengths", [["-5"], ["+5"], ["abc"], [""], ["²"], ["5 5"], ["0x10"], ["2", "3"]])
def test_anything_else_is_a_malformed_request(lengths: List[str]) -> None:
    assert body_length_problem(headers(*lengths))


def text_packet(size: int) -> str:
    """A socket.io event packet of exactly `size` bytes, with two-byte characters in it."""
    packet = '2["user_uttered",{"message":"é"}]'
    return packet[:-3] + "x" * (size - len(packet.encode())) + packet[-3:]


def test_a_packet_at_the_bound_is_decoded_and_one_byte_over_is_not() -> None:
    assert len(text_packet(MAX_MESSAGE_BYTES).encode()) == MAX_MESSAGE_BYTES
    assert packet_problem(text_packet(MAX_MESSAGE_BYTES)) is None
    assert packet_problem(text_packet(MAX_MESSAGE_BYTES + 1)) == TOO_LONG_KEY


def test_the_bound_counts_bytes_not_characters() -> None:
    packet = '2["user_uttered",{"message":"' + "é" * (MAX_MESSAGE_BYTES // 2) + '"}]'
    assert len(packet) < MAX_MESSAGE_BYTES < len(packet.encode())
    assert packet_problem(packet) == TOO_LONG_KEY


@pytest.mark.parametrize(
    "data", ['51-["user_uttered",{"_placeholder":true,"num":0}]', "6-0[]", b"\x00binary"]
)
def test_binary_packets_and_frames_are_not_decoded(data: Any) -> None:
    assert packet_problem(data) == NOT_TEXT_KEY
