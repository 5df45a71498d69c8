"""supervisord's configuration (read back by supervisord's own parser) and stopping a cluster's session."""
from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import pytest
from supervisor.datatypes import RestartUnconditionally

from vraagbaak.ops.processes import start_process
from vraagbaak.ops.supervision import (
    ProcessSpec,
    orphans,
    session_members,
    stop_session,
    supervisord_config,
)


def parsed(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    """The configuration as supervisord itself reads it."""
    from supervisor.options import ServerOptions

    conf = tmp_path / "supervisord.conf"
    conf.write_text(text, encoding="utf-8")
    options = ServerOptions()
    options.realize(["-c", str(conf)], doc="")
    return options


def test_every_program_restarts_and_stops_with_its_children(tmp_path: Path) -> None:
    specs = [
        ProcessSpec("redis", ["/usr/bin/redis-server", "/x/redis.conf"], {}),
        ProcessSpec(
            "rasa-0", [sys.executable, "-m", "x"], {"VRAAGBAAK_CORS_ORIGINS": "http://a http://b", "P": "5%"}
        ),
    ]
    options = parsed(tmp_path, supervisord_config(tmp_path, tmp_path, specs, [sys.executable, "-m", "w"]))
    programs = {group.name: group.process_configs[0] for group in options.process_group_configs}
    assert list(programs) == ["redis", "rasa-0", "watchdog"]  # start order
    for config in programs.values():
        assert config.autorestart is RestartUnconditionally
        assert config.stopasgroup and config.killasgroup
        assert config.directory and Path(config.directory).is_dir()
    # Values with spaces and % arrive unchanged.
    assert programs["rasa-0"].environment == {"VRAAGBAAK_CORS_ORIGINS": "http://a http://b", "P": "5%"}
    assert shlex.split(programs["rasa-0"].command) == [sys.executable, "-m", "x"]


def test_a_value_that_would_break_the_config_is_refused(tmp_path: Path) -> None:
    spec = ProcessSpec("x", ["prog"], {"KWAAD": 'a",B="b'})
    with pytest.raises(ValueError):
        supervisord_config(tmp_path, tmp_path, [spec], ["w"])


def test_stop_session_finds_the_orphans_of_a_crashed_program(tmp_path: Path) -> None:
    # A session leader (as supervisord is) with a program whose own child outlived it.
    sleeper = f"{sys.executable} -c 'import time; time.sleep(300)'"
    script = f"({sleeper} vraagbaak-kind &); {sleeper} vraagbaak-programma; true"
    leader = start_process(["sh", "-c", script], tmp_path / "log", own_session=True)
    session = leader.pid

    def pythons() -> list[int]:
        return [
            p
            for p in session_members(session)
            if Path(f"/proc/{p}/exe").resolve() == Path(sys.executable).resolve()
        ]

    deadline = time.monotonic() + 10
    # Until the short-lived subshell that started the orphan is gone: the leader and its two pythons remain.
    while time.monotonic() < deadline and (len(pythons()) < 2 or len(session_members(session)) != 3):
        time.sleep(0.05)
    members = session_members(session)
    assert len(members) == 3 and session in members
    orphan = [pid for pid in pythons() if b"vraagbaak-kind" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(orphan) == 1 and orphans(session) == orphan
    stopped = stop_session(session, timeout=5)
    leader.wait(timeout=10)
    assert sorted(stopped) == sorted(members)
    assert session_members(session) == []
    assert os.getsid(0) != session  # the test itself was never part of it
