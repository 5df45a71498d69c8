"""A tiny static server for the widget demo in web/: strict security headers, no third-party anything.

    python -m vraagbaak.ops.web --port 8080 --server http://localhost:5005

Only files from web/ with a known web type are served; index.html gets the Rasa URL filled in.
"""
from __future__ import annotations

import argparse
import html
import logging
import re
import socket
import sys
import time
import traceback
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Sequence, Tuple
from urllib.parse import unquote, urlsplit

from vraagbaak.core.paths import PROJECT_DIR

WEB_DIR = PROJECT_DIR / "web"
DEFAULT_PORT = 8080
DEFAULT_SERVER = "http://localhost:5005"
# Only what a browser needs; package.json, README.md and node_modules stay private.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
HIDDEN_PARTS = {"node_modules"}
# RFC 9112's request line: method, target and HTTP/1.x in visible ASCII with single spaces. Anything else
# (HTTP/0.9, HTTP/2.0, binary, UTF-8) is refused before the stdlib parses it.
REQUEST_LINE = re.compile(rb"[A-Z]+ [!-~]+ HTTP/1\.[01]\r?\n")
ERROR_BODY = b"Ongeldig verzoek.\n"
DRAIN_SECONDS = 1.0
# The audience is vulnerable: log lines name the event, status and size, never the address or the request.
LOG = logging.getLogger("vraagbaak.ops.web")


def origins(server_url: str) -> Tuple[str, str]:
    """The http(s) origin of the Rasa server and the matching ws(s) origin for socket.io."""
    parts = urlsplit(server_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Rasa-URL moet met http:// of https:// beginnen: {server_url!r}")
    if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", parts.netloc):
        raise ValueError(f"Ongeldige host in Rasa-URL: {server_url!r}")
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws_scheme}://{parts.netloc}"


def security_headers(server_url: str) -> Dict[str, str]:
    """Headers for every response: the page may load only its own files and talk only to Rasa."""
    http_origin, ws_origin = origins(server_url)
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self' {http_origin} {ws_origin}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def resolve(url_path: str, root: Path = WEB_DIR) -> Path | None:
    """The file under root that a URL path names, or None for anything outside, hidden or unknown."""
    path = unquote(urlsplit(url_path).path)
    if "\x00" in path or "\\" in path:
        return None
    if path.endswith("/"):
        path += "index.html"
    parts = [p for p in path.split("/") if p]
    if any(p in ("..", ".") or p.startswith(".") or p in HIDDEN_PARTS for p in parts):
        return None
    root = root.resolve()
    candidate = root.joinpath(*parts).resolve()
    # resolve() follows symlinks, so this also refuses a link that points out of web/.
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    if candidate.suffix.lower() not in CONTENT_TYPES:
        return None
    return candidate


def fill_in_config(page: str, server_url: str, exit_url: str | None) -> str:
    """Put the configured Rasa URL (and exit URL) into the widget's data- attributes."""
    page = re.sub(r'data-server="[^"]*"', lambda _: f'data-server="{html.escape(server_url)}"', page)
    if exit_url:
        page = re.sub(r'data-exit-url="[^"]*"', lambda _: f'data-exit-url="{html.escape(exit_url)}"', page)
    return page


class WidgetHandler(BaseHTTPRequestHandler):
    """GET/HEAD for files in web/; everything else is refused."""

    # Bounds every read and write, so a client that stalls mid-request frees its thread.
    timeout = 10
    # No HTTP/0.9: every response, errors included, gets a status line and the security headers.
    default_request_version = "HTTP/1.0"
    raw_requestline: bytes  # set by the stdlib before parse_request

    def version_string(self) -> str:
        """No Python version in the Server header."""
        return "vraagbaak-web"

    def __init__(self, *args: object, server_url: str, exit_url: str | None, **kwargs: object) -> None:
        self.server_url = server_url
        self.exit_url = exit_url
        self.headers_to_send = security_headers(server_url)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:  # noqa: N802 (name fixed by http.server)
        self._serve(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(with_body=False)

    def _serve(self, with_body: bool) -> None:
        path = resolve(self.path)
        if path is None:
            self._send(HTTPStatus.NOT_FOUND, b"Niet gevonden.\n", "text/plain; charset=utf-8", with_body)
            return
        body = path.read_bytes()
        if path.name == "index.html":
            body = fill_in_config(body.decode("utf-8"), self.server_url, self.exit_url).encode("utf-8")
        self._send(HTTPStatus.OK, body, CONTENT_TYPES[path.suffix.lower()], with_body)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, with_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def parse_request(self) -> bool:
        """Refuse a request line that is not plain HTTP/1.x ASCII, then let the stdlib parse the rest."""
        if REQUEST_LINE.fullmatch(self.raw_requestline):
            return super().parse_request()
        # The stdlib sets these itself, but only once it gets that far; send_error reads them.
        self.command, self.requestline = "", ""
        self.request_version = self.default_request_version
        self.close_connection = True
        self.send_error(HTTPStatus.BAD_REQUEST)
        return False

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every refusal: a Dutch plain-text body with the security headers, never the stdlib's page."""
        # The stdlib's reason phrase and HTML page quote the request line back; only the status is used.
        self.close_connection = True
        with_body = getattr(self, "command", "") != "HEAD"
        self._send(HTTPStatus(code), ERROR_BODY, "text/plain; charset=utf-8", with_body)
        self._drain()

    def _drain(self) -> None:
        """Half-close, then drop what the client still sends for at most DRAIN_SECONDS."""
        # Closing with unread request bytes (the rest of a long line, the headers after a bad line) makes
        # the kernel send a reset, which can destroy the error response before the client reads it.
        try:
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + DRAIN_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break
        except OSError:
            pass

    def _request_line_size(self) -> int:
        return len(getattr(self, "raw_requestline", b""))

    def log_request(self, code: object = "-", size: object = "-") -> None:
        """Status and request line size only: no address, method, path or header."""
        status = code.value if isinstance(code, HTTPStatus) else code
        LOG.info("web: %s (request line %d bytes)", status, self._request_line_size())

    def log_error(self, format: str, *args: object) -> None:  # noqa: A002 (name fixed by http.server)
        """The message's fixed part only (e.g. 'Request timed out'): its arguments may quote the client."""
        event = format.split("%", 1)[0].rstrip(": ") or "error"
        LOG.warning("web: %s (request line %d bytes)", event, self._request_line_size())

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Never the stdlib's default, which writes the client address and the request line to stderr."""
        self.log_error(format, *args)


class WidgetServer(ThreadingHTTPServer):
    """The threading server, with errors logged without the client address."""

    def handle_error(self, request: object, client_address: object) -> None:
        """Exception type and line only: no client address (the default prints it) and no message."""
        error_type, _, trace = sys.exc_info()
        where = traceback.extract_tb(trace)[-1] if trace else None
        location = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
        LOG.error("web: %s%s", error_type.__name__ if error_type else "error", location)


def make_server(host: str, port: int, server_url: str, exit_url: str | None = None) -> WidgetServer:
    """A ready-to-serve HTTP server (port 0 picks a free one)."""
    origins(server_url)  # fail early on a bad URL
    handler = partial(WidgetHandler, server_url=server_url.rstrip("/"), exit_url=exit_url)
    return WidgetServer((host, port), handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: serve web/ until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m vraagbaak.ops.web", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="poort (standaard 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="adres om op te luisteren (standaard 127.0.0.1)")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="URL van de Rasa-server (socket.io)")
    parser.add_argument("--exit-url", default=None, help="adres voor 'Snel weg' (standaard: uit index.html)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        server = make_server(args.host, args.port, args.server, args.exit_url)
    except ValueError as error:
        parser.error(str(error))
    port = server.server_address[1]
    print(f"Vraagbaak-demo: http://{args.host}:{port}/  (Rasa: {args.server})  Stoppen: Ctrl-C", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
