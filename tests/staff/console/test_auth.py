"""Logging in: password hashing, the password command, lock-out, signed expiring cookies, CSRF, logout."""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Iterator, List

import pytest

from tests.staff.console.conftest import CSRF_FIELD, PASSWORD, FakeClock, Running, make_settings, serve
from vraagbaak.staff.console import __main__ as console_main
from vraagbaak.staff.console import password as pw
from vraagbaak.staff.console.auth import LOCKOUT_SECONDS, LoginGuard, SessionStore, clean_name, tokens_match
from vraagbaak.staff.console.responses import LOGIN_COOKIE, SESSION_COOKIE
from vraagbaak.staff.console.workspace import Workspace

# ---------------------------------------------------------------- password hashing and the command


def test_hash_and_verify() -> None:
    stored = pw.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert pw.verify_password(stored, PASSWORD)
    assert not pw.verify_password(stored, PASSWORD + "x")
    assert not pw.verify_password(stored, "")
    assert not pw.verify_password("$argon2id$kapot", PASSWORD)
    assert not pw.verify_password(stored, "a" * (pw.MAX_LENGTH + 1))
    assert pw.hash_password(PASSWORD) != stored  # a fresh salt every time


def answers(*typed: str) -> Iterator[str]:
    return iter(typed)


def run_command(path: Path, *typed: str) -> int:
    given = answers(*typed)
    return pw.main([], ask=lambda prompt: next(given), path=path)


def test_the_password_command_writes_only_a_hash_readable_by_the_owner(tmp_path: Path) -> None:
    path = tmp_path / ".run" / "console-password"
    assert run_command(path, PASSWORD, PASSWORD) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = pw.read_password_hash(path)
    assert stored and pw.verify_password(stored, PASSWORD) and PASSWORD not in path.read_text()


def test_the_password_command_keeps_mode_0600_when_the_file_existed(tmp_path: Path) -> None:
    path = tmp_path / "console-password"
    path.write_text("oud")
    path.chmod(0o644)
    assert run_command(path, PASSWORD, PASSWORD) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "first, second, message",
    [
        (PASSWORD, PASSWORD + "!", "niet gelijk"),
        ("kort", "kort", "minstens 12"),
        (" " + PASSWORD, " " + PASSWORD, "spatie"),
    ],
)
def test_the_password_command_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first: str, second: str, message: str
) -> None:
    path = tmp_path / "console-password"
    assert run_command(path, first, second) == 1
    assert message in capsys.readouterr().err
    assert not path.exists()


def test_without_a_password_the_console_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = console_main.main(["--wachtwoordbestand", str(tmp_path / "geen"), "--werkmap", str(tmp_path)])
    assert code == 2
    assert "make console-password" in capsys.readouterr().err


# ---------------------------------------------------------------- lock-out


def test_five_failures_lock_out_for_fifteen_minutes() -> None:
    clock = FakeClock()
    guard = LoginGuard(clock)
    for _ in range(4):
        guard.failed()
        assert guard.seconds_locked() == 0
    guard.failed()
    assert guard.seconds_locked() == LOCKOUT_SECONDS == 15 * 60
    clock.advance(LOCKOUT_SECONDS - 1)
    assert guard.seconds_locked() == 1
    clock.advance(1)
    assert guard.seconds_locked() == 0


def test_failures_long_ago_and_a_success_clear_the_count() -> None:
    clock = FakeClock()
    guard = LoginGuard(clock)
    for _ in range(4):
        guard.failed()
    clock.advance(LOCKOUT_SECONDS + 1)
    guard.failed()
    assert guard.failures == 1 and guard.seconds_locked() == 0
    for _ in range(3):
        guard.failed()
    guard.succeeded()
    guard.failed()
    assert guard.seconds_locked() == 0


# ---------------------------------------------------------------- session cookies


def test_a_session_cookie_is_signed_and_expires() -> None:
    clock = FakeClock()
    store = SessionStore(b"s" * 32, 3600, clock)
    session, cookie = store.create("  Ann\u0000 ")
    assert session.name == "Ann" and session.id not in ("", cookie)
    assert store.get(cookie) is session
    assert store.get(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None  # tampered
    assert SessionStore(b"t" * 32, 3600, clock).get(cookie) is None  # another secret
    assert store.get("") is None and store.get("x" * 600) is None
    clock.advance(3599)
    assert store.get(cookie) is session
    clock.advance(1)
    assert store.get(cookie) is None
    assert store.get(cookie) is None  # and it stays gone


def test_logout_ends_the_session_on_the_server() -> None:
    store = SessionStore(b"s" * 32, 3600, FakeClock())
    _, cookie = store.create("Ann")
    store.end(cookie)
    assert store.get(cookie) is None


def test_login_form_tokens() -> None:
    clock = FakeClock()
    store = SessionStore(b"s" * 32, 3600, clock)
    token, cookie = store.login_token()
    assert store.login_token_ok(cookie, token)
    assert not store.login_token_ok(cookie, token + "x")
    assert not store.login_token_ok(None, token)
    assert not store.login_token_ok(cookie, None)
    clock.advance(31 * 60)
    assert not store.login_token_ok(cookie, token)


def test_names_and_tokens() -> None:
    assert clean_name("") == "medewerker"
    assert clean_name("a" * 100) == "a" * 60
    assert tokens_match("abc", "abc") and not tokens_match("abc", "abd")
    assert not tokens_match("", "") and not tokens_match("abc", None)


# ---------------------------------------------------------------- the app: login, CSRF, expiry, headers


async def test_pages_need_a_login(running: Running) -> None:
    async with running.client() as client:
        for path in ("/vraag", "/lijst", "/dekking", "/inzichten", "/verbeteren", "/dekking/rapport"):
            async with client.get(running.url + path, allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/inloggen", path
        async with client.get(running.url + "/taken/abc") as response:
            assert response.status == 401 and "ingelogd" in (await response.json())["fout"]


async def test_login_sets_a_strict_http_only_cookie_with_an_expiry(running: Running) -> None:
    async with running.client() as client:
        assert await running.login(client) == 303
        cookie = next(c for c in client.cookie_jar if c.key == SESSION_COOKIE)
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
        assert cookie["max-age"] == str(120 * 60) and not cookie["secure"]
        async with client.get(running.url + "/vraag") as response:
            assert response.status == 200 and "Ingelogd als <strong>Ann</strong>" in await response.text()


async def test_wrong_password_is_refused(running: Running) -> None:
    async with running.client() as client:
        assert await running.login(client, password="verkeerd-wachtwoord") == 401
        async with client.get(running.url + "/vraag", allow_redirects=False) as response:
            assert response.status == 303


async def test_login_without_the_form_token_is_refused(running: Running) -> None:
    async with running.client() as client:
        data = {"naam": "Ann", "wachtwoord": PASSWORD}
        async with client.post(running.url + "/inloggen", data=data, allow_redirects=False) as response:
            assert response.status == 403
        assert not [c for c in client.cookie_jar if c.key == SESSION_COOKIE and c.value]


async def test_lock_out_after_five_wrong_passwords_even_for_the_right_one(running: Running) -> None:
    async with running.client() as client:
        statuses: List[int] = [await running.login(client, password=f"fout-{i}-wachtwoord") for i in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        assert await running.login(client) == 429
        async with client.get(running.url + "/inloggen") as response:
            assert "pas weer over 15 minuten" in await response.text()
        running.mono.advance(LOCKOUT_SECONDS)
        assert await running.login(client) == 303


async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(running: Running) -> None:
    async with running.client() as client:
        await running.login(client)
        token = await running.csrf(client, "/vraag")
        for data in ({"vraag": "Wat met pooiers?"}, {"vraag": "Wat met pooiers?", "csrf": token + "x"}):
            async with client.post(running.url + "/vraag", data=data) as response:
                assert response.status == 403
                assert "niet geldig" in await response.text()
        assert running.rasa.parsed == []
        async with client.post(
            running.url + "/vraag", data={"vraag": "Wat met pooiers?"}, headers={"X-CSRF-Token": token}
        ) as response:
            assert response.status == 200
        assert running.rasa.parsed == ["Wat met pooiers?"]


async def test_an_expired_session_is_refused(running: Running) -> None:
    async with running.client() as client:
        await running.login(client)
        token = await running.csrf(client, "/vraag")
        running.wall.advance(120 * 60)
        async with client.get(running.url + "/vraag", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/inloggen"
        async with client.post(running.url + "/vraag", data={"vraag": "x", "csrf": token}) as response:
            assert response.status == 401
        assert running.rasa.parsed == []


async def test_logout_makes_the_old_cookie_worthless(running: Running) -> None:
    async with running.client() as client:
        await running.login(client)
        cookie = next(c for c in client.cookie_jar if c.key == SESSION_COOKIE).value
        token = await running.csrf(client, "/vraag")
        async with client.post(
            running.url + "/uitloggen", data={"csrf": token}, allow_redirects=False
        ) as response:
            assert response.status == 303
    async with running.client() as thief:
        thief.cookie_jar.update_cookies({SESSION_COOKIE: cookie})
        async with thief.get(running.url + "/vraag", allow_redirects=False) as response:
            assert response.status == 303


async def test_security_headers_on_every_response(running: Running) -> None:
    async with running.client() as client:
        await running.login(client)
        for path, status in (
            ("/vraag", 200),
            ("/inloggen", 303),
            ("/static/console.js", 200),
            ("/bestaat-niet", 404),
        ):
            async with client.get(running.url + path, allow_redirects=False) as response:
                assert response.status == status, path
                policy = response.headers["Content-Security-Policy"]
                assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.headers["X-Frame-Options"] == "DENY"
                assert response.headers["Referrer-Policy"] == "no-referrer"
                assert response.headers["Cache-Control"] == "no-store"
        async with client.get(running.url + "/dekking/rapport") as response:
            assert "sandbox" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_secure_cookies_and_a_base_path_behind_https(workspace: Workspace) -> None:
    settings = make_settings(
        VRAAGBAAK_CONSOLE_SECURE_COOKIES="true", VRAAGBAAK_CONSOLE_BASE_PATH="/medewerkers"
    )
    async for served in serve(workspace, settings):
        # A browser would not send Secure cookies back over plain HTTP, so this test carries them by hand.
        async with served.client() as client:
            async with client.get(served.url + "/inloggen") as response:
                token = CSRF_FIELD.search(await response.text())
                login_cookie = response.cookies[LOGIN_COOKIE]
            assert token and login_cookie["secure"] and login_cookie["path"] == "/medewerkers"
            data = {"csrf": token.group(1), "naam": "", "wachtwoord": PASSWORD}
            headers = {"Cookie": f"{LOGIN_COOKIE}={login_cookie.value}"}
            async with client.post(
                served.url + "/inloggen", data=data, headers=headers, allow_redirects=False
            ) as response:
                assert response.status == 303 and response.headers["Location"] == "/medewerkers/vraag"
                session_cookie = response.cookies[SESSION_COOKIE]
                assert session_cookie["secure"] and session_cookie["httponly"]
                assert session_cookie["path"] == "/medewerkers" and session_cookie["samesite"] == "Strict"
                assert response.headers["Strict-Transport-Security"].startswith("max-age=")
            headers = {"Cookie": f"{SESSION_COOKIE}={session_cookie.value}"}
            async with client.get(served.url + "/vraag", headers=headers) as response:
                assert response.status == 200 and 'action="/medewerkers/vraag"' in await response.text()


async def test_no_pages_or_text_in_the_logs(running: Running, caplog: pytest.LogCaptureFixture) -> None:
    marker = "GEHEIM-MARKER-pooiers-7d1c"
    with caplog.at_level("INFO"):
        async with running.client() as client:
            await running.login(client)
            token = await running.csrf(client, "/vraag")
            async with client.post(running.url + "/vraag", data={"csrf": token, "vraag": marker}) as response:
                assert response.status == 200
    assert "vraag getest" in caplog.text
    assert marker not in caplog.text and PASSWORD not in caplog.text


def test_a_second_login_page_keeps_the_open_forms_token() -> None:
    clock = FakeClock()
    store = SessionStore(b"s" * 32, 3600, clock)
    token, cookie = store.login_token()
    assert store.login_token(cookie) == (token, cookie)
    clock.advance(16 * 60)  # less than half its life left: a fresh one, the old one still valid for now
    newer, newer_cookie = store.login_token(cookie)
    assert (
        newer != token and store.login_token_ok(cookie, token) and store.login_token_ok(newer_cookie, newer)
    )
    assert store.login_token("vervalst")[0] not in ("", token)


async def test_the_browsers_icon_request_does_not_spoil_the_login_form(running: Running) -> None:
    async with running.client() as client:
        token = await running.csrf(client, "/inloggen")
        async with client.get(running.url + "/favicon.ico", allow_redirects=False) as response:
            assert response.status == 404
        await running.csrf(client, "/inloggen")  # a second login page, e.g. another tab
        data = {"csrf": token, "naam": "Ann", "wachtwoord": PASSWORD}
        async with client.post(running.url + "/inloggen", data=data, allow_redirects=False) as response:
            assert response.status == 303
