"""Which websites may use the bot: one list per environment, checked in Settings, one --cors argument each."""
from __future__ import annotations

from pathlib import Path

import pytest

from vraagbaak.core.settings import ConfigError, Settings
from vraagbaak.ops import production
from vraagbaak.ops.launcher import serve_commands


def cors_arguments(args: list[str]) -> list[str]:
    start = args.index("--cors") + 1
    end = next((i for i in range(start, len(args)) if args[i].startswith("--")), len(args))
    return args[start:end]


def make_run_cors(env: dict[str, str]) -> list[str]:
    return cors_arguments(serve_commands("m.tar.gz", Settings.from_env(env), "c.yml", "token").rasa)


def test_make_run_allows_the_demo_page_by_default() -> None:
    assert make_run_cors({}) == ["http://localhost:8080"]


@pytest.mark.parametrize(
    "value",
    [
        "https://a.be,http://localhost:3000",
        "https://a.be, http://localhost:3000/",
        "https://a.be http://localhost:3000",
    ],
)
def test_make_run_passes_each_listed_website_as_its_own_argument(value: str) -> None:
    # One joined argument "a,b" matches no browser's Origin header at all: the widget would hide itself.
    assert make_run_cors({"VRAAGBAAK_CORS": value}) == ["https://a.be", "http://localhost:3000"]


def test_star_alone_is_allowed_in_development_only() -> None:
    assert make_run_cors({"VRAAGBAAK_CORS": "*"}) == ["*"]
    with pytest.raises(ConfigError, match="geen '\\*'"):
        Settings.from_env({"VRAAGBAAK_ENV": "production", "VRAAGBAAK_CORS_ORIGINS": "*"})


@pytest.mark.parametrize(
    "value",
    [
        "www.voorbeeld.be",
        "https://a.be/pad",
        "https://*.voorbeeld.be",
        "ftp://a.be",
        "https://a.be,*",
        "https://a.be?x=1",
    ],
)
def test_a_malformed_website_stops_the_start_with_a_dutch_message(value: str) -> None:
    with pytest.raises(ConfigError, match="geen geldig adres van een website"):
        Settings.from_env({"VRAAGBAAK_CORS": value})
    with pytest.raises(ConfigError, match="VRAAGBAAK_CORS_ORIGINS"):
        Settings.from_env({"VRAAGBAAK_ENV": "production", "VRAAGBAAK_CORS_ORIGINS": value})


def test_production_reads_only_its_own_list() -> None:
    chosen = Settings.from_env(
        {
            "VRAAGBAAK_ENV": "production",
            "VRAAGBAAK_CORS": "https://dev.be",
            "VRAAGBAAK_CORS_ORIGINS": "https://a.be",
        }
    )
    assert chosen.cors_origins == ("https://a.be",)
    args = production.rasa_arguments(chosen, Path("e.yml"), Path("c.yml"))
    assert cors_arguments(args) == ["https://a.be"]


def test_development_production_process_splits_the_list_too() -> None:
    args = production.rasa_arguments(
        Settings.from_env({"VRAAGBAAK_CORS": "https://a.be,https://b.be"}), Path("e"), Path("c")
    )
    assert cors_arguments(args) == ["https://a.be", "https://b.be"]
    assert cors_arguments(production.rasa_arguments(Settings.from_env({}), Path("e"), Path("c"))) == ["*"]
