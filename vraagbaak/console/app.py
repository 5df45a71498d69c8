"""The console's Sanic app: login required on every page, CSRF on every POST, security headers on every response."""
from __future__ import annotations

import asyncio
import itertools
import logging

from sanic import Request, Sanic, response
from sanic.exceptions import NotFound, SanicException
from sanic.response import HTTPResponse

from vraagbaak.adapters.http_errors import unreadable
from vraagbaak.console import routes_ask, routes_auth, routes_improve, routes_reports
from vraagbaak.console.auth import tokens_match
from vraagbaak.console.responses import SESSION_COOKIE, clear_cookie, page
from vraagbaak.console.state import Console
from vraagbaak.console.web import STATIC_FILES, security_headers

LOG = logging.getLogger("vraagbaak.console")
# A file of 1 MB plus a pasted list of 1 MB and the form around them; our own checks are stricter.
MAX_REQUEST_BYTES = 2_200_000
PUBLIC = ("/inloggen", "/static/", "/favicon.ico")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
CSRF_HEADER = "X-CSRF-Token"
ERROR_TEXTS = {
    400: "Dit verzoek kon de console niet lezen.",
    403: "Dit mag niet.",
    404: "Deze pagina bestaat niet.",
    405: "Dit kan op deze pagina niet.",
    413: "Dat is te groot: een bestand of lijst mag hoogstens 1 MB zijn.",
}
_names = itertools.count(1)


def _relative(request: Request, base: str) -> str:
    path = request.path
    return path[len(base) :] if base and path.startswith(base) else path


def wants_json(request: Request, base: str) -> bool:
    """Requests from the page's script (job status), which get JSON instead of a page."""
    return _relative(request, base).startswith("/taken/")


def create_app(console: Console) -> Sanic:
    """The app for one console (a unique name each time, so tests can build several)."""
    # Our own log lines only (configured in __main__): Sanic must not add a second handler for the same lines.
    app = Sanic(f"vraagbaak_console_{next(_names)}", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES  # overrides SANIC_REQUEST_MAX_SIZE from the launcher
    app.config.REQUEST_TIMEOUT = 30
    app.config.RESPONSE_TIMEOUT = 60
    app.config.MOTD = False
    app.ctx.console = console
    base = console.settings.console_base_path
    secure = console.settings.console_secure_cookies

    @app.on_request
    async def require_login_and_csrf(request: Request) -> HTTPResponse | None:
        if unreadable(request):
            return None  # a malformed request: the error handler answers it with a 400
        path = _relative(request, base)
        session = console.sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is not None and not console.session_still_valid(session):
            # Removed with `make console-user-remove`, or a new password: out at the next click.
            LOG.info("sessie beëindigd: het account is verwijderd of heeft een nieuw wachtwoord")
            console.sessions.drop(session)
            session = None
        request.ctx.session = session
        length = request.headers.get("content-length") or "0"
        if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
            return page(
                request, "fout.html", 413, message=ERROR_TEXTS[413], login=request.ctx.session is None
            )
        if path.startswith(PUBLIC):
            return None  # the login form checks a token of its own
        session = request.ctx.session
        if session is None:
            LOG.info("geweigerd: niet ingelogd")
            if wants_json(request, base):
                return response.json({"fout": "Je bent niet meer ingelogd. Log opnieuw in."}, status=401)
            if request.method == "GET":
                resp = response.redirect(base + "/inloggen", status=303)
            else:
                resp = page(
                    request,
                    "fout.html",
                    401,
                    message="Je bent niet (meer) ingelogd. Log opnieuw in.",
                    login=True,
                )
            clear_cookie(request, resp, SESSION_COOKIE)
            return resp
        if request.method in STATE_CHANGING:
            submitted = request.headers.get(CSRF_HEADER) or (
                request.form.get("csrf") if request.form else None
            )
            if not tokens_match(session.csrf, submitted):
                LOG.info("geweigerd: CSRF-token ontbreekt of klopt niet")
                return page(
                    request,
                    "fout.html",
                    403,
                    message="Dit formulier is niet geldig (meer). Ga terug, laad de pagina opnieuw en probeer het nog een keer.",
                    login=False,
                )
        return None

    @app.on_response
    async def add_security_headers(request: Request, resp: HTTPResponse) -> None:
        for name, value in security_headers(secure=secure).items():
            if name not in resp.headers:
                resp.headers[name] = value

    async def home(request: Request) -> HTTPResponse:
        return response.redirect(base + "/vraag", status=303)

    async def static(request: Request, name: str) -> HTTPResponse:
        if name not in STATIC_FILES:
            raise NotFound("Niet gevonden.")
        path, content_type = STATIC_FILES[name]
        return response.raw(path.read_bytes(), content_type=content_type)

    async def health(request: Request) -> HTTPResponse:
        return response.text("ok")

    async def no_icon(request: Request) -> HTTPResponse:
        # Browsers ask for it on every site; a plain 404, never a redirect to the login page.
        return response.empty(status=404)

    app.add_route(home, base + "/", methods=["GET"], name="home")
    app.add_route(static, base + "/static/<name:[a-z.]{1,20}>", methods=["GET"], name="static_bestand")
    app.add_route(health, base + "/static/gezond", methods=["GET"], name="gezond")
    app.add_route(no_icon, base + "/favicon.ico", methods=["GET"], name="favicon")
    for module in (routes_auth, routes_ask, routes_reports, routes_improve):
        module.register(app, base)

    async def on_error(request: Request, exception: Exception) -> HTTPResponse:
        status = exception.status_code if isinstance(exception, SanicException) else 500
        if status >= 500:
            # Only the type: messages and tracebacks can quote what was typed.
            LOG.error("fout in de console: %s", type(exception).__name__)
        message = ERROR_TEXTS.get(
            status, "Er ging iets mis. Probeer het opnieuw of vraag een technische collega."
        )
        if wants_json(request, base):
            return response.json({"fout": message}, status=status)
        if not hasattr(request.ctx, "session"):
            request.ctx.session = None
        try:
            return page(request, "fout.html", status, message=message, login=request.ctx.session is None)
        except Exception:  # never fail while reporting a failure
            return response.text(message, status=status)

    app.error_handler.add(Exception, on_error)

    @app.before_server_start
    async def warm_up(app: Sanic, loop: object) -> None:
        # Load scikit-learn and the phrasing index now, so the first question is as quick as the rest.
        await asyncio.get_running_loop().run_in_executor(None, console.index.nearest, "warm")

    return app
