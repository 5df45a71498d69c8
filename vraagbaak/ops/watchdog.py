"""Health checks for the local cluster: a program under supervisord that kills a server which stopped answering.

    python -m vraagbaak.ops.watchdog --socket SUPERVISOR.sock --checks CHECKS.json

supervisord restarts a process that exits, but not one that hangs (deadlocked, stopped, out of memory and
swapping). Every INTERVAL seconds this asks each server's ready URL; after FAILURES misses in a row (about a
minute) it sends the
server SIGKILL, and supervisord starts it again like after any crash. A server is only judged once it answered
after its start, or when its start took longer than its grace time (Rasa loads its model first).
Any HTTP answer counts as alive: a 503 because Redis is away is not the server's own fault.
It also kills what a crashed program left behind (an nginx worker whose master died keeps the port, so the
restarted master could not listen), and every few minutes has Redis rewrite its append-only file, so that
expired and forgotten conversations do not stay on disk in the old file.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Sequence

import requests

from vraagbaak.ops.supervision import Supervisor, orphans

logger = logging.getLogger("vraagbaak.watchdog")

# A replica busy with a burst of messages answers late (its event loop runs the NLU pipeline): only about a
# minute without any answer counts as hung, like the Kubernetes liveness probe (4 x 15 s, 5 s timeout).
INTERVAL = 5.0
TIMEOUT = 5.0
FAILURES = 6
ORPHAN_INTERVAL = 1.0
# Redis rewrites its append-only file only when it has doubled; without this, what users typed in a forgotten
# conversation could stay on disk for days on a quiet bot. Every 5 minutes bounds that at little cost.
AOF_REWRITE_INTERVAL = 300.0


@dataclass
class Watched:
    """What the watchdog knows of one program since its last start."""

    url: str
    grace: float
    started: int = 0
    answered: bool = False
    misses: int = 0


def answers(url: str) -> bool:
    """True for any HTTP answer within TIMEOUT."""
    try:
        requests.get(url, timeout=TIMEOUT)
        return True
    except requests.RequestException:
        return False


def check_once(supervisor: Supervisor, watched: Dict[str, Watched], now: float) -> None:
    """One round: ask every running program, kill those that missed FAILURES times in a row."""
    for name, state in watched.items():
        info = supervisor.info(name)
        if info["statename"] != "RUNNING":
            continue
        if info["start"] != state.started:
            # A new start: judge it afresh.
            state.started, state.answered, state.misses = info["start"], False, 0
        if answers(state.url):
            state.answered, state.misses = True, 0
            continue
        if not state.answered and now - state.started < state.grace:
            continue
        state.misses += 1
        if state.misses >= FAILURES:
            logger.warning("%s antwoordt niet (%d keer); wordt herstart", name, state.misses)
            try:
                supervisor.kill(name, signal.SIGKILL)
            except ProcessLookupError:
                pass
            state.misses = 0


def kill_orphans(session: int) -> None:
    """SIGKILL every process of the cluster's session that lost its parent program."""
    for pid in orphans(session):
        logger.warning("achtergebleven proces van een gecrasht programma wordt gestopt")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def redis_settings(conf: Path) -> Dict[str, str]:
    """port and requirepass from the cluster's redis.conf (owner-only file): no second copy of the password."""
    settings: Dict[str, str] = {}
    for line in conf.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(" ")
        if key in ("port", "requirepass"):
            settings[key] = value.strip()
    return settings


def compact_aof(conf: Path) -> bool:
    """Ask Redis to rewrite its append-only file; False when Redis is away or already rewriting."""
    import redis

    settings = redis_settings(conf)
    client = redis.Redis(
        host="127.0.0.1",
        port=int(settings["port"]),
        password=settings.get("requirepass"),
        socket_timeout=TIMEOUT,
    )
    try:
        client.bgrewriteaof()
        return True
    except redis.RedisError as error:
        logger.info("append-only file niet herschreven (%s)", type(error).__name__)
        return False
    finally:
        client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: --socket PATH --checks PATH."""
    parser = argparse.ArgumentParser(
        prog="python -m vraagbaak.ops.watchdog", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--checks", type=Path, required=True)
    parser.add_argument("--redis-conf", type=Path, help="rewrite this Redis's append-only file regularly")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    checks = json.loads(args.checks.read_text(encoding="utf-8"))
    watched = {name: Watched(check["url"], float(check["grace"])) for name, check in checks.items()}
    supervisor = Supervisor(args.socket)
    logger.info("bewaakt: %s", ", ".join(watched))
    session = os.getsid(0)  # supervisord's session, shared by every program
    next_check = 0.0
    next_rewrite = time.monotonic() + AOF_REWRITE_INTERVAL
    while True:
        # Every second: a leftover blocks the restart of its program (nginx retries its port for 2.5 s only).
        kill_orphans(session)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + INTERVAL
            try:
                check_once(supervisor, watched, time.time())
            except (OSError, xmlrpc.client.Error) as error:
                # supervisord is stopping or restarting a program right now; try again next round.
                logger.info("supervisord niet bereikbaar (%s)", type(error).__name__)
        if args.redis_conf and time.monotonic() >= next_rewrite:
            next_rewrite = time.monotonic() + AOF_REWRITE_INTERVAL
            compact_aof(args.redis_conf)
        time.sleep(ORPHAN_INTERVAL)


if __name__ == "__main__":
    raise SystemExit(main())
