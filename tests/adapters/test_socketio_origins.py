"""Which websites may open the widget's socket: Rasa's own --cors list, recorded on the app."""
from __future__ import annotations

import subprocess
import sys

import pytest

from vraagbaak.adapters.channels.origins import origin_allowed, record_origins
from vraagbaak.core.paths import PROJECT_DIR

LISTED = ("https://www.voorbeeld.be", "http://localhost:8080")


@pytest.mark.parametrize(
    "origin", ["https://www.voorbeeld.be", "HTTPS://WWW.VOORBEELD.BE", "http://localhost:8080/"]
)
def test_a_listed_website_is_allowed(origin: str) -> None:
    assert origin_allowed(origin, LISTED)


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.voorbeeld.be.evil.example",
        "https://evil.example",
        "http://www.voorbeeld.be",  # other scheme
        "https://voorbeeld.be",  # other host
        "http://localhost:8081",  # other port
        "null",  # a sandboxed frame or a file:// page
        "",
    ],
)
def test_any_other_website_is_refused(origin: str) -> None:
    """Mutation-style: each near miss of a listed origin must be refused."""
    assert not origin_allowed(origin, LISTED)


def test_no_list_refuses_every_browser_and_star_allows_every_one() -> None:
    assert not origin_allowed("http://localhost:8080", ())
    assert origin_allowed("https://evil.example", ("*",))
    # No Origin header: not a browser page, which could claim any Origin it liked anyway.
    assert origin_allowed(None, LISTED)


class _App:
    class ctx:  # noqa: N801 (Sanic's attribute name)
        pass


def test_the_record_normalises_rasas_cors_argument() -> None:
    from vraagbaak.adapters.channels.origins import allowed_origins

    app = _App()
    assert allowed_origins(app) == ()
    record_origins(app, ["https://A.be/", " http://localhost:8080 "])
    assert allowed_origins(app) == ("https://a.be", "http://localhost:8080")
    record_origins(app, "*")
    assert allowed_origins(app) == ("*",)
    record_origins(app, None)
    assert allowed_origins(app) == ()


def test_the_rasa_launcher_records_the_cors_list_rasa_builds_its_app_with() -> None:
    # In a process of its own: the patch is process-wide.
    check = (
        "import rasa.__main__\n"
        "rasa.__main__.main = lambda: None\n"
        "from vraagbaak.ops import launcher\n"
        "launcher.run_rasa_cli([])\n"
        "from rasa.core import run\n"
        "from vraagbaak.adapters.channels.origins import allowed_origins\n"
        "app = run._create_app_without_api(['https://a.be', 'http://localhost:8080'])\n"
        "print(' '.join(allowed_origins(app)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.split() == ["https://a.be", "http://localhost:8080"], done.stderr[-2000:]
