"""nginx.conf from deploy/nginx.conf.template: one template for the loopback cluster, Compose and Kubernetes."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from vraagbaak.adapters.action_failure import action_failure_response, channel_failure_response
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import ACTION_TIMEOUT
from vraagbaak.ops.web import WEB_DIR, security_headers

TEMPLATE = PROJECT_DIR / "deploy" / "nginx.conf.template"
PUBLIC_PORT = 8000
# The widget page's Rasa URL placeholder, which nginx replaces with the public address.
WIDGET_SERVER_PLACEHOLDER = "http://localhost:5005"


def nginx_literal(value: Any) -> str:
    """JSON for an nginx `return` string in single quotes: ASCII only, no `$` variables, no quotes."""
    text = json.dumps(value, ensure_ascii=True).replace("$", "\\u0024").replace("'", "\\u0027")
    # nginx itself unescapes `\\` inside quoted strings, so double each backslash to keep JSON escapes.
    return "'" + text.replace("\\", "\\\\") + "'"


@dataclass
class NginxLayout:
    """Where nginx listens and forwards to; one template serves loopback, Compose and Kubernetes."""

    prefix: str
    gateway_listen: str
    action_servers: Sequence[str]
    action_timeout: int = ACTION_TIMEOUT
    # None: only the internal action gateway (the Kubernetes sidecar; the Ingress is the public side).
    public_listen: str | None = None
    rasa_servers: Sequence[str] = ()
    public_url: str = f"http://localhost:{PUBLIC_PORT}"
    cors_origins: Sequence[str] = ()
    web_dir: str = str(WEB_DIR)
    access_log: str | None = None
    error_log: str | None = None
    # One worker is plenty on loopback; containers use one per CPU.
    worker_processes: str = "1"


def _server_lines(addresses: Sequence[str], options: str) -> str:
    return "\n".join(f"        server {address} {options};" for address in addresses)


def _origin_lines(origins: Sequence[str]) -> str:
    return "\n".join(f'        "{origin}" 1;' for origin in origins)


def _header_lines(url: str) -> str:
    lines = []
    for name, value in security_headers(url).items():
        lines.append(f'            add_header {name} "{value}" always;')
    return "\n".join(lines)


def _without_public_blocks(text: str) -> str:
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.strip() == "# BEGIN public":
            skipping = True
        elif line.strip() == "# END public":
            skipping = False
        elif not skipping:
            kept.append(line)
    return "".join(kept)


def render_nginx(layout: NginxLayout) -> str:
    """nginx.conf from deploy/nginx.conf.template for this layout."""
    values = {
        "worker_processes": layout.worker_processes,
        "prefix": layout.prefix,
        "error_log": layout.error_log or f"{layout.prefix}/logs/nginx-error.log",
        "access_log": layout.access_log or f"{layout.prefix}/logs/nginx-access.log",
        "origin_map": _origin_lines(layout.cors_origins),
        # A Rasa replica that could not be reached or timed out is left alone for a few seconds (a hung one would
        # cost every request a timeout); its 503s (Redis away) do not count, see proxy_next_upstream. Action servers are never marked down: a refused connection costs nothing and moves on to the
        # next one, so a restarted action server is used again by the very next message.
        "rasa_servers": _server_lines(layout.rasa_servers, "max_fails=1 fail_timeout=5s"),
        "action_servers": _server_lines(layout.action_servers, "max_fails=0"),
        "public_listen": layout.public_listen or "",
        "gateway_listen": layout.gateway_listen,
        "rest_failure_json": nginx_literal(channel_failure_response()),
        "action_failure_json": nginx_literal(action_failure_response()),
        "action_timeout": str(layout.action_timeout),
        "web_dir": layout.web_dir,
        "widget_server_placeholder": WIDGET_SERVER_PLACEHOLDER,
        "public_url": layout.public_url,
        "security_headers": _header_lines(layout.public_url),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    if layout.public_listen is None:
        text = _without_public_blocks(text)
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise ValueError(f"nginx-sjabloon heeft een onbekende plaatshouder: {text[text.index('{{'):][:40]}")
    return text
