"""A tiny static server for the widget demo in web/: strict security headers, no third-party anything.

    python -m vraagbaak.web --port 8080 --server http://localhost:5005

Only files from web/ with a known web type are served; index.html gets the Rasa URL filled in.
"""
from __future__ import annotations

import argparse
import html
import re
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Sequence, Tuple
from urllib.parse import unquote, urlsplit

from vraagbaak.paths import PROJECT_DIR

WEB_DIR = PROJECT_DIR / "web"
DEFAULT_PORT = 8080
DEFAULT_SERVER = "http://localhost:5005"
# Only what a browser needs; web.mk, package.json, README.md and node_modules stay private.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
HIDDEN_PARTS = {"node_modules"}


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

    def log_request(self, code: object = "-", size: object = "-") -> None:
        """Method, path and status only: no client address, query string, referrer or user agent."""
        print(f"{self.command} {urlsplit(self.path).path} -> {code}", flush=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (name fixed by http.server)
        """Errors, without the client address."""
        print(format % args, flush=True)


def make_server(host: str, port: int, server_url: str, exit_url: str | None = None) -> ThreadingHTTPServer:
    """A ready-to-serve HTTP server (port 0 picks a free one)."""
    origins(server_url)  # fail early on a bad URL
    handler = partial(WidgetHandler, server_url=server_url.rstrip("/"), exit_url=exit_url)
    return ThreadingHTTPServer((host, port), handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: serve web/ until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m vraagbaak.web", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="poort (standaard 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="adres om op te luisteren (standaard 127.0.0.1)")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="URL van de Rasa-server (socket.io)")
    parser.add_argument("--exit-url", default=None, help="adres voor 'Snel weg' (standaard: uit index.html)")
    args = parser.parse_args(argv)
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
