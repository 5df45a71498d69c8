"""The widget's static server answers malformed requests with a plain 4xx and logs nothing the client sent."""
from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from typing import Callable, Dict, Iterator, Tuple

import pytest

from vraagbaak.ops.web import WidgetHandler, WidgetServer, make_server

Address = Tuple[str, int]
RASA_URL = "http://localhost:5005"

# Each malformed request, built around a marker that must never come back in a response or a log line.
MALFORMED: Dict[str, Tuple[Callable[[str], bytes], int]] = {
    # The marker follows where a header would be; the bare method line must be refused on its own.
    "bare GET": (lambda m: f"GET\r\nX-Marker: {m}\r\n\r\n".encode(), 400),
    "HTTP/2.0": (lambda m: f"GET /{m} HTTP/2.0\r\n\r\n".encode(), 400),
    "70 KB request line": (lambda m: f"GET /{m}{'a' * 70_000} HTTP/1.1\r\n\r\n".encode(), 414),
    "non-ASCII request line": (lambda m: f"GET /{m}/café HTTP/1.1\r\n\r\n".encode(), 400),
    "binary request line": (lambda m: b"\x16\x03\x01\x00\xff" + m.encode() + b" \x00\x80 x\r\n\r\n", 400),
    "64 KB header line": (lambda m: f"GET / HTTP/1.1\r\nX-{m}: {'a' * 70_000}\r\n\r\n".encode(), 431),
    "200 headers": (
        lambda m: ("GET / HTTP/1.1\r\n" + "".join(f"X-{i}: {m}\r\n" for i in range(200)) + "\r\n").encode(),
        431,
    ),
}


@pytest.fixture
def server() -> Iterator[WidgetServer]:
    """The real server on a free loopback port, in a thread."""
    running = make_server("127.0.0.1", 0, RASA_URL)
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join(timeout=10)


def address(server: WidgetServer) -> Address:
    host, port = server.server_address[:2]
    return str(host), int(port)


def exchange(where: Address, request: bytes) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(where, timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split(response: bytes) -> Tuple[int, Dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1."), status_line
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def assert_normal_page_works(where: Address) -> None:
    status, headers, body = split(exchange(where, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
    assert status == 200
    assert "Content-Security-Policy" in headers
    assert b"data-server=" in body


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_request_gets_a_4xx_with_security_headers(server: WidgetServer, case: str) -> None:
    build, expected = MALFORMED[case]
    marker = f"MARKER-{uuid.uuid4()}"
    response = exchange(address(server), build(marker))
    assert response, "connection dropped without a response"
    status, headers, body = split(response)
    assert status == expected
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert body == b"Ongeldig verzoek.\n"
    assert marker.encode() not in response
    assert_normal_page_works(address(server))


def test_head_error_has_no_body(server: WidgetServer) -> None:
    status, headers, body = split(
        exchange(address(server), b"HEAD / HTTP/1.1\r\nX-" + b"a" * 70_000 + b"\r\n\r\n")
    )
    assert (status, headers["Content-Length"], body) == (431, "18", b"")


def test_no_client_address_or_request_text_in_logs_or_stderr(
    server: WidgetServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    markers = []
    for build, _ in MALFORMED.values():
        markers.append(f"MARKER-{uuid.uuid4()}")
        exchange(address(server), build(markers[-1]))
    markers.append(f"MARKER-{uuid.uuid4()}")
    exchange(address(server), f"GET /?q={markers[-1]} HTTP/1.1\r\nUser-Agent: {markers[-1]}\r\n\r\n".encode())
    # An unexpected exception goes to the server's error handler with the client address.
    try:
        raise ValueError(markers[0])
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 54321))
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    leaks = [text for text in [*markers, "127.0.0.1"] if text in logged]
    assert not leaks, logged
    # Proves the capture works: the events themselves are logged, through the module's logger.
    assert "web: 400 (request line" in caplog.text
    assert "web: 414 (request line 65537 bytes)" in caplog.text
    assert "web: 200 (request line" in caplog.text
    assert "web: ValueError at test_web.py:" in caplog.text
    assert "vraagbaak.ops.web" in {record.name for record in caplog.records}


def test_stalled_request_is_dropped_after_the_timeout(
    server: WidgetServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(WidgetHandler, "timeout", 0.5)
    caplog.set_level(logging.DEBUG)
    marker = f"MARKER-{uuid.uuid4()}"
    started = time.monotonic()
    with socket.create_connection(address(server), timeout=10) as sock:
        # A header section that never ends.
        sock.sendall(f"GET /{marker} HTTP/1.1\r\nX-Slow: ".encode())
        assert sock.recv(65536) == b""
    assert time.monotonic() - started < 5
    assert "web: Request timed out" in caplog.text
    assert marker not in caplog.text
