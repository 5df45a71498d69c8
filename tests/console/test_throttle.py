"""Failed logins: growing waits per name and address, never a lock-out of everyone; which address counts."""
from __future__ import annotations

import ipaddress
from typing import List, Tuple

import pytest

from tests.support.console import PASSWORD, FakeClock, Running, make_settings, serve
from vraagbaak.console import routes_auth
from vraagbaak.console.addresses import address_key, client_address, networks
from vraagbaak.console.password import dummy_hash
from vraagbaak.console.throttle import LONGEST_WAIT, NAME_LIMIT, LoginThrottle
from vraagbaak.console.workspace import Workspace
from vraagbaak.core.settings import ConfigError

ATTACKER, OFFICE, HOME = "203.0.113.5", "198.51.100.7", "192.0.2.44"


def patient_attack(throttle: LoginThrottle, clock: FakeClock, name: str, address: str, tries: int) -> None:
    """Fail `tries` times, each time as soon as the wait allows (a refused try is not counted)."""
    for _ in range(tries):
        clock.advance(throttle.seconds_to_wait(name, address))
        throttle.failed(name, address)


def test_the_wait_grows_from_the_third_failure_and_then_expires() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    waits = []
    for _ in range(14):
        throttle.failed("ann", ATTACKER)
        waits.append(throttle.seconds_to_wait("ann", ATTACKER))
        clock.advance(waits[-1])
    assert waits == [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, LONGEST_WAIT, LONGEST_WAIT, LONGEST_WAIT]
    assert LONGEST_WAIT == 15 * 60
    throttle.failed("ann", ATTACKER)
    clock.advance(LONGEST_WAIT - 1)
    assert throttle.seconds_to_wait("ann", ATTACKER) == 1
    clock.advance(1)
    assert throttle.seconds_to_wait("ann", ATTACKER) == 0  # expired: one more try allowed


def test_asking_does_not_count_and_a_day_later_the_failures_are_forgotten() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    patient_attack(throttle, clock, "ann", ATTACKER, 5)
    for _ in range(100):
        throttle.seconds_to_wait("ann", ATTACKER)
    assert throttle.seconds_to_wait("ann", ATTACKER) == 8  # hammering a wait makes it no longer
    clock.advance(24 * 60 * 60)
    throttle.failed("ann", ATTACKER)
    assert throttle.seconds_to_wait("ann", ATTACKER) == 0  # counting from one again


def test_a_locked_out_attacker_never_locks_out_another_account() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for tries in range(1, 61):  # about ten hours of patient guessing at Ann from one address
        patient_attack(throttle, clock, "ann", ATTACKER, 1)
        assert (throttle.seconds_to_wait("ann", ATTACKER) > 0) == (tries >= 3)
        assert throttle.seconds_to_wait("bo", OFFICE) == 0  # another account, elsewhere
        assert throttle.seconds_to_wait("bo", HOME) == 0
        # Ann herself, from another address: at most the short per-name wait, never the attacker's.
        assert throttle.seconds_to_wait("ann", OFFICE) <= NAME_LIMIT.longest
    assert throttle.seconds_to_wait("ann", ATTACKER) == LONGEST_WAIT


def test_the_owner_elsewhere_waits_less_and_not_at_all_where_she_logged_in_before() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    throttle.succeeded("ann", OFFICE)
    patient_attack(throttle, clock, "ann", ATTACKER, 20)
    attacker_wait = throttle.seconds_to_wait("ann", ATTACKER)
    assert attacker_wait == LONGEST_WAIT
    assert 0 < throttle.seconds_to_wait("ann", HOME) <= 60  # unknown address: slowed, a minute at most
    assert throttle.seconds_to_wait("ann", OFFICE) == 0  # where she logged in before: not at all


def test_one_address_trying_many_names_waits_for_all_of_them() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for number in range(10):  # names that exist or not: the same count
        throttle.failed(f"naam-{number}", ATTACKER)
    assert throttle.seconds_to_wait("nog-een-naam", ATTACKER) == 2
    assert throttle.seconds_to_wait("nog-een-naam", OFFICE) == 0
    assert throttle.seconds_to_wait("bo", OFFICE) == 0
    throttle.succeeded("bo", ATTACKER)  # a colleague who logged in from that address before
    assert throttle.seconds_to_wait("bo", ATTACKER) == 0


def test_the_tables_stay_bounded_and_drop_the_oldest() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock, max_entries=5)
    for number in range(50):
        clock.advance(1)
        throttle.failed(f"naam-{number}", f"10.0.0.{number}")
        throttle.succeeded(f"naam-{number}", f"10.0.1.{number}")
    assert len(throttle.pairs) == len(throttle.names) == len(throttle.addresses) == 5
    assert len(throttle._known) == 5
    patient_attack(throttle, clock, "naam-49", "10.0.0.49", 2)
    assert throttle.seconds_to_wait("naam-49", "10.0.0.49") == 2  # the newest kept its count


# ---------------------------------------------------------------- which address counts


PROXY = networks(["127.0.0.1/32", "10.1.0.0/16"])


@pytest.mark.parametrize(
    "peer, forwarded, real_ip, expected",
    [
        (ATTACKER, ["1.2.3.4"], "5.6.7.8", ATTACKER),  # not a proxy: its headers are made up
        ("127.0.0.1", [], None, "127.0.0.1"),
        ("127.0.0.1", [f"{OFFICE}"], None, OFFICE),
        ("127.0.0.1", [f"6.6.6.6, {OFFICE}"], None, OFFICE),  # the left part is the client's own text
        ("127.0.0.1", ["6.6.6.6", f"{OFFICE}, 10.1.2.3"], None, OFFICE),  # two headers, two proxies
        ("127.0.0.1", ["onzin"], None, "127.0.0.1"),
        ("127.0.0.1", [], HOME, HOME),  # X-Real-IP only without X-Forwarded-For
        ("127.0.0.1", [OFFICE], HOME, OFFICE),
        ("127.0.0.1", ["[2001:db8::1]:443"], None, "2001:db8::1"),
        ("::ffff:127.0.0.1", [f"{OFFICE}:5678"], None, OFFICE),
    ],
)
def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    peer: str, forwarded: List[str], real_ip: str | None, expected: str
) -> None:
    assert str(client_address(peer, forwarded, real_ip, PROXY)) == expected


def test_ipv6_counts_per_64_and_an_unknown_peer_is_one_address() -> None:
    one, other = ipaddress.ip_address("2001:db8:1:2::1"), ipaddress.ip_address("2001:db8:1:2:ffff::9")
    assert address_key(one) == address_key(other) == "2001:db8:1:2::/64"
    assert address_key(ipaddress.ip_address("2001:db8:1:3::1")) != address_key(one)
    assert address_key(None) == "onbekend"


def test_the_trusted_proxies_setting() -> None:
    assert make_settings(
        VRAAGBAAK_CONSOLE_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8 ::1"
    ).console_trusted_proxies == (
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    )
    assert make_settings().console_trusted_proxies == ()
    with pytest.raises(ConfigError, match="geen IP-adres"):
        make_settings(VRAAGBAAK_CONSOLE_TRUSTED_PROXIES="nginx")


# ---------------------------------------------------------------- through the login page


async def test_behind_a_trusted_proxy_an_attacker_stops_nobody_else(workspace: Workspace) -> None:
    async for served in serve(workspace, make_settings(VRAAGBAAK_CONSOLE_TRUSTED_PROXIES="127.0.0.1")):
        async with served.client() as attacker, served.client() as bo, served.client() as ann:
            statuses = [
                await served.login(attacker, password=f"fout-{i}-wachtwoord", address=ATTACKER)
                for i in range(4)
            ]
            assert statuses == [401, 401, 429, 429]
            assert await served.login(attacker, address=ATTACKER) == 429  # the right password waits too
            assert await served.login(bo, name="Bo", address=ATTACKER) == 303  # another account, same address
            assert await served.login(ann, address=OFFICE) == 303  # the owner, elsewhere


async def test_without_trusted_proxies_forwarded_headers_change_nothing(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO"):
        async with running.client() as client:
            for number in range(3):  # a new made-up address each time: still counted as one
                await running.login(client, password="fout-wachtwoord", address=f"192.0.2.{number}")
            assert await running.login(client, address="192.0.2.99") == 429
    assert caplog.text.count("X-Forwarded-For genegeerd") == 1
    assert "192.0.2." not in caplog.text and "Ann" not in caplog.text


async def test_an_unknown_name_costs_the_same_argon2_check(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: List[Tuple[str, str]] = []
    real = routes_auth.verify_password

    def recording(stored: str, password: str) -> bool:
        checked.append((stored, password))
        return real(stored, password)

    monkeypatch.setattr(routes_auth, "verify_password", recording)
    async with running.client() as client:
        assert await running.login(client, name="Niemand") == 401
        assert await running.login(client, name="Bo", password="fout-wachtwoord") == 401
    assert checked[0] == (dummy_hash(), PASSWORD)
    assert checked[1][0].startswith("$argon2id$") and checked[1][0] != dummy_hash()
    # Both counted for this address, as any two failures would be.
    address = "127.0.0.1"
    assert len(running.console.throttle.addresses) == 1
    assert running.console.throttle.addresses.fail(address, running.mono()) == 3
