"""HTML pages and security headers for every console response.

Pages are Jinja2 templates with autoescaping; all JavaScript and CSS are static files, so the Content Security
Policy allows no inline script or style. The coverage report (a self-contained file with inline CSS and embedded
images) is shown in a sandboxed frame with a policy of its own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from vraagbaak.console.durations import minutes
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.reports import shared as rp

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
WIDGET_CSS = PROJECT_DIR / "web" / "vraagbaak-widget.css"
STATIC_FILES = {
    "console.css": (STATIC / "console.css", "text/css; charset=utf-8"),
    "console.js": (STATIC / "console.js", "text/javascript; charset=utf-8"),
    "widget.css": (WIDGET_CSS, "text/css; charset=utf-8"),
}

PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# The coverage report: its own inline CSS and embedded plots, no script at all, only inside our own frame.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
# Downloads are never rendered as a page of the console.
DOWNLOAD_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def security_headers(
    policy: str = PAGE_POLICY, secure: bool = False, framable: bool = False
) -> Dict[str, str]:
    """Headers for a console response (like vraagbaak/ops/web.py's, plus HSTS behind HTTPS)."""
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "SAMEORIGIN" if framable else "DENY",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    }
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def percent(value: float) -> str:
    """0.961 -> '96,1%'."""
    return rp.pct(value)


def seconds_text(value: float | None) -> str:
    """'45 seconden', '3 minuten', or '' when unknown."""
    return "" if value is None else minutes(value)


def make_environment() -> Environment:
    """The template environment: autoescaping on, unknown variables are errors."""
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["pct"] = percent
    environment.filters["duur"] = seconds_text
    return environment


class Pages:
    """Renders templates with the values every page needs."""

    def __init__(self, base_path: str) -> None:
        self.base = base_path
        self.environment = make_environment()

    def render(self, template: str, **values: Any) -> str:
        """The page as HTML."""
        values.setdefault("base", self.base)
        values.setdefault("csrf", "")
        values.setdefault("who", "")
        values.setdefault("flash", [])
        values.setdefault("page", "")
        return self.environment.get_template(template).render(**values)
