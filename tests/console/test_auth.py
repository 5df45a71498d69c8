"""Logging in: password hashing, signed expiring cookies, CSRF, logout (accounts and waits have files of their own)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.console import CSRF_FIELD, PASSWORD, FakeClock, Running, make_settings, serve
from vraagbaak.console import __main__ as console_main
from vraagbaak.console import password as pw
from vraagbaak.console.accounts import Account
from vraagbaak.console.auth import SessionStore, tokens_match
from vraagbaak.console.responses import LOGIN_COOKIE, SESSION_COOKIE
from vraagbaak.console.workspace import Workspace

# ---------------------------------------------------------------- password hashing, starting without accounts


def test_hash_and_verify() -> None:
    stored = pw.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert pw.verify_password(stored, PASSWORD)
    assert not pw.verify_password(stored, PASSWORD + "x")
    assert not pw.verify_password(stored, "")
    assert not pw.verify_password("$argon2id$kapot", PASSWORD)
    assert not pw.verify_password(stored, "a" * (pw.MAX_LENGTH + 1))
    assert pw.hash_password(PASSWORD) != stored  # a fresh salt every time


def test_without_an_account_the_console_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--accountbestand", str(tmp_path / "geen"), "--wachtwoordbestand", str(tmp_path / "ook-geen")]
    code = console_main.main([*args, "--werkmap", str(tmp_path)])
    assert code == 2
    assert "make console-user" in capsys.readouterr().err


# ---------------------------------------------------------------- session cookies


ANN = Account("Ann", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")


def test_a_session_cookie_is_signed_and_expires() -> None:
    clock = FakeClock()
    store = SessionStore(b"s" * 32, 3600, clock)
    session, cookie = store.create(ANN)
    assert session.name == "Ann" and session.account == "ann" and session.id not in ("", cookie)
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
    _, cookie = store.create(ANN)
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


def test_tokens() -> None:
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


async def test_a_wrong_password_or_an_unknown_name_is_refused_alike(running: Running) -> None:
    async with running.client() as client:
        assert await running.login(client, password="verkeerd-wachtwoord") == 401
        async with client.get(running.url + "/vraag", allow_redirects=False) as response:
            assert response.status == 303
        for name in ("Onbekend", "", "Ann" + "n" * 60):  # no account, empty, over-long
            token = await running.csrf(client, "/inloggen")
            data = {"csrf": token, "naam": name, "wachtwoord": PASSWORD}
            async with client.post(running.url + "/inloggen", data=data, allow_redirects=False) as response:
                assert response.status == 401, name
                assert "Die naam of dat wachtwoord klopt niet." in await response.text()


async def test_names_match_regardless_of_case_and_spaces(running: Running) -> None:
    async with running.client() as client:
        assert await running.login(client, name="  aNN ") == 303
        async with client.get(running.url + "/vraag") as response:
            assert "Ingelogd als <strong>Ann</strong>" in await response.text()


async def test_login_without_the_form_token_is_refused(running: Running) -> None:
    async with running.client() as client:
        data = {"naam": "Ann", "wachtwoord": PASSWORD}
        async with client.post(running.url + "/inloggen", data=data, allow_redirects=False) as response:
            assert response.status == 403
        assert not [c for c in client.cookie_jar if c.key == SESSION_COOKIE and c.value]


async def test_after_three_wrong_passwords_even_the_right_one_waits(running: Running) -> None:
    async with running.client() as client:
        statuses = [await running.login(client, password=f"fout-{i}-wachtwoord") for i in range(3)]
        assert statuses == [401, 401, 429]
        token = await running.csrf(client, "/inloggen")
        data = {"csrf": token, "naam": "Ann", "wachtwoord": PASSWORD}
        async with client.post(running.url + "/inloggen", data=data, allow_redirects=False) as response:
            assert response.status == 429 and response.headers["Retry-After"] == "2"
            assert "Probeer het over 2 seconden opnieuw." in await response.text()
        running.mono.advance(2)
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
            data = {"csrf": token.group(1), "naam": "Bo", "wachtwoord": PASSWORD}
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
