"""A real multi-instance Vraagbaak stack on loopback: Redis, Rasa replicas, action servers and nginx.

    python -m vraagbaak.ops.cluster up [--detach]   # start; without --detach Ctrl-C stops everything
    python -m vraagbaak.ops.cluster down            # stop everything `up` started, whatever died since

Every process runs under supervisord (vraagbaak.ops.supervision), which restarts it when it exits; a watchdog
kills a server that stops answering so that it is restarted too. Debian's redis-server and nginx run with
generated configuration files (not the system services), Rasa and the action servers through
`python -m vraagbaak.ops.launcher`, with the production settings of vraagbaak.ops.production.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import requests

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.session_tokens import session_key
from vraagbaak.core.settings import ConfigError, Settings
from vraagbaak.ops import production
from vraagbaak.ops.cluster_spec import (
    DEFAULT_MODEL,
    DEFAULT_WORKDIR,
    OPERATOR_SETTINGS,
    STARTUP_TIMEOUT,
    ClusterSpec,
    redis_config,
    render_nginx_config,
)
from vraagbaak.ops.deploy_files import deploy_configs
from vraagbaak.ops.processes import (
    launcher_command,
    port_is_free,
    process_tree_rss,
    rasa_command,
    start_process,
)
from vraagbaak.ops.supervision import (
    ProcessSpec,
    Supervisor,
    stop_cluster,
    supervisord_command,
    supervisord_config,
    write_watchdog_file,
)


class Cluster:
    """Starts and stops one ClusterSpec under supervisord, and crashes, stops or restarts single programs."""

    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec
        self.workdir = spec.workdir
        self.logs = self.workdir / "logs"
        self.pids = self.workdir / "pids"
        self.config_dir = self.workdir / "config"
        self.nginx_prefix = self.workdir / "nginx"
        self.supervisor = Supervisor(self.workdir / "supervisor.sock")
        self._specs: Dict[str, ProcessSpec] = {}

    # -- configuration -------------------------------------------------------------------------------------

    def write_config(self) -> None:
        """Generate every configuration file (the production settings are checked here)."""
        for directory in (self.logs, self.pids, self.config_dir, self.workdir / "redis"):
            directory.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "tmp"):
            (self.nginx_prefix / sub).mkdir(parents=True, exist_ok=True)
        # The config holds secrets; the append-only file holds conversations.
        for private in (self.config_dir, self.workdir / "redis"):
            private.chmod(0o700)
        # Made once, before any replica starts: a visitor's session id is valid on whichever replica it reaches.
        session_key(self.spec.settings())
        redis_conf = self.config_dir / "redis.conf"
        redis_conf.write_text(redis_config(self.spec, self.workdir / "redis"), encoding="utf-8")
        redis_conf.chmod(0o600)
        nginx_conf = self.nginx_prefix / "nginx.conf"
        nginx_conf.write_text(render_nginx_config(self.spec, self.nginx_prefix), encoding="utf-8")
        self._specs = {spec.name: spec for spec in self._process_specs()}
        checks = self.config_dir / "watchdog.json"
        write_watchdog_file(checks, list(self._specs.values()))
        watchdog = [sys.executable, "-m", "vraagbaak.ops.watchdog", "--socket", str(self.supervisor.socket)]
        conf = self.supervisord_conf
        conf.write_text(
            supervisord_config(
                self.workdir,
                self.logs,
                list(self._specs.values()),
                [*watchdog, "--checks", str(checks), "--redis-conf", str(redis_conf)],
            ),
            encoding="utf-8",
        )
        conf.chmod(0o600)

    @property
    def supervisord_conf(self) -> Path:
        """supervisord's configuration file (it holds the programs' secrets: owner only)."""
        return self.config_dir / "supervisord.conf"

    def _process_specs(self) -> Iterator[ProcessSpec]:
        spec = self.spec
        yield ProcessSpec("redis", [self._binary("redis-server"), str(self.config_dir / "redis.conf")], {})
        for index, port in enumerate(spec.action_ports):
            settings = Settings.from_env(spec.settings_env(action_port=port))
            yield ProcessSpec(
                f"actions-{index}",
                launcher_command(production.action_arguments(settings)),
                production.action_environment(settings),
                f"http://127.0.0.1:{port}/health",
            )
        yield ProcessSpec(
            "nginx",
            [
                self._binary("nginx"),
                "-e",
                str(self.nginx_prefix / "logs" / "nginx-error.log"),
                "-p",
                str(self.nginx_prefix),
                "-c",
                str(self.nginx_prefix / "nginx.conf"),
            ],
            {},
            f"http://127.0.0.1:{spec.public_port}/nginx-ready",
        )
        for index, port in enumerate(spec.rasa_ports):
            env = spec.settings_env(rasa_port=port)
            settings = Settings.from_env(env)
            endpoints, credentials = production.write_config(settings, self.config_dir / f"rasa-{index}")
            yield ProcessSpec(
                f"rasa-{index}",
                rasa_command(production.rasa_arguments(settings, endpoints, credentials)),
                {**env, **production.rasa_environment(settings)},
                f"http://127.0.0.1:{port}/",
                startup_grace=STARTUP_TIMEOUT,
            )

    @staticmethod
    def _binary(name: str) -> str:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if not found:
            raise FileNotFoundError(f"{name} ontbreekt: installeer het met `make services-deps`.")
        return found

    # -- processes -----------------------------------------------------------------------------------------

    @property
    def names(self) -> List[str]:
        """Program names in start order."""
        return list(self._specs)

    def log_path(self, name: str) -> Path:
        """Where a program writes its output."""
        return self.logs / f"{name}.log"

    def pid(self, name: str) -> int:
        """The PID of a running program (0 while it is stopped or starting again)."""
        return self.supervisor.pid(name)

    def start_process(self, name: str) -> None:
        """Start a program that was stopped with stop_process; does not wait until it is ready."""
        self.supervisor.start(name)

    def stop_process(self, name: str) -> None:
        """Stop a program and keep it stopped until start_process (an operator's stop, not a crash)."""
        self.supervisor.stop(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Signal a program as a crash would (supervisord starts it again); returns the PID signalled."""
        pid = self.pid(name)
        self.supervisor.kill(name, sig)
        return pid

    def wait_ready(self, name: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll until the program runs and answers (Redis: PING); fail early if supervisord gave it up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.supervisor.info(name)["statename"]
            if state in ("FATAL", "STOPPED", "EXITED"):
                tail = self.log_path(name).read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"{name} is {state}:\n{tail}")
            if state == "RUNNING" and self._answers(name):
                return
            time.sleep(0.3)
        raise TimeoutError(f"{name} is na {timeout:.0f} s nog niet klaar")

    def _answers(self, name: str) -> bool:
        spec = self._specs[name]
        if name == "redis":
            return self.redis_ping()
        assert spec.ready_url is not None
        try:
            requests.get(spec.ready_url, timeout=2)
            return True
        except requests.RequestException:
            return False

    def redis_ping(self) -> bool:
        """True when Redis answers PING with the cluster's password."""
        import redis

        try:
            client = redis.Redis(
                host="127.0.0.1",
                port=self.spec.redis_port,
                password=self.spec.redis_password,
                socket_timeout=2,
            )
            return bool(client.ping())
        except redis.RedisError:
            return False

    def redis_client(self):  # type: ignore[no-untyped-def]
        """A client for the cluster's Redis (tests and tools inspect stored conversations with it)."""
        import redis

        return redis.Redis(
            host="127.0.0.1",
            port=self.spec.redis_port,
            password=self.spec.redis_password,
            decode_responses=True,
        )

    def ports(self) -> List[int]:
        """Every port this cluster listens on."""
        spec = self.spec
        return [spec.public_port, spec.gateway_port, spec.redis_port, *spec.rasa_ports, *spec.action_ports]

    def check_ports_free(self) -> None:
        """Refuse to start when a port is taken: a stranger answering there would look like our server."""
        busy = [port for port in self.ports() if not port_is_free(port)]
        if busy:
            raise RuntimeError(f"Deze poorten zijn al in gebruik: {', '.join(map(str, busy))}")

    def start(self) -> None:
        """Write the configuration, start supervisord (which starts every program) and wait until each answers."""
        self.check_ports_free()
        self.write_config()
        process = start_process(
            supervisord_command(self.supervisord_conf), self.logs / "supervisord-start.log", own_session=True
        )
        # Its PID is also its session: stop_cluster finds every program by it, even if supervisord died.
        (self.pids / "supervisor.pid").write_text(f"{process.pid}\n", encoding="utf-8")
        try:
            deadline = time.monotonic() + 30
            while not self.supervisor.answers():
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (self.logs / "supervisord-start.log").read_text(encoding="utf-8", errors="replace")
                    raise RuntimeError(f"supervisord start niet:\n{log[-2000:]}")
                time.sleep(0.2)
            # The replicas load the model in parallel; wait for them last.
            for name in sorted(self.names, key=lambda n: n.startswith("rasa-")):
                self.wait_ready(name)
        except BaseException:
            self.stop()
            raise

    def restart(self, name: str) -> None:
        """Stop one program if it runs, start it again and wait until it answers."""
        self.stop_process(name)
        self.start_process(name)
        self.wait_ready(name)

    def stop(self) -> List[int]:
        """Stop every program and supervisord; returns the PIDs that were still running."""
        return stop_cluster(self.workdir)

    def rss(self) -> Dict[str, int]:
        """Resident memory in bytes per program, including its own children (nginx workers)."""
        pids = {name: self.pid(name) for name in self.names}
        return {name: process_tree_rss(pid) for name, pid in pids.items() if pid}


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (from `make cluster-down`) stops the supervisor like Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: up [--detach] | down."""
    parser = argparse.ArgumentParser(
        prog="python -m vraagbaak.ops.cluster", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["up", "down", "deploy-configs"])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--model", type=Path, default=Path(os.environ.get("VRAAGBAAK_MODEL", DEFAULT_MODEL)))
    parser.add_argument("--detach", action="store_true", help="laat de processen draaien en stop zelf")
    args = parser.parse_args(argv)
    if args.command == "deploy-configs":
        for path, content in deploy_configs().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            print(f"Geschreven: {path.relative_to(PROJECT_DIR)}")
        return 0
    if args.command == "down":
        stopped = stop_cluster(args.workdir.resolve())
        print(f"Gestopt: {len(stopped)} processen" if stopped else "Gestopt: niets (er draaide geen cluster)")
        return 0
    # A cluster left running (or half dead) in this directory is stopped first.
    stop_cluster(args.workdir.resolve())
    extra = {k: os.environ[k] for k in OPERATOR_SETTINGS if k in os.environ}
    # A local cluster needs a way in for curl and the load tools; production chooses its own token.
    extra.setdefault("VRAAGBAAK_REST_TOKEN", secrets.token_hex(16))
    spec = ClusterSpec(workdir=args.workdir, model=args.model, env=extra)
    cluster = Cluster(spec)
    try:
        cluster.start()
    except (ConfigError, FileNotFoundError, RuntimeError, TimeoutError) as error:
        print(f"Cluster start niet: {error}", file=sys.stderr)
        return 1
    print(
        f"Vraagbaak-cluster draait: {spec.public_url}/ (widget), {spec.public_url}/webhooks/rest/webhook\n"
        f"  Rasa-replica's: {', '.join(spec.rasa_urls)}; actieservers: {', '.join(spec.action_urls)} "
        f"(via gateway {spec.gateway_url}); Redis: 127.0.0.1:{spec.redis_port}\n"
        f"  Logboeken: {cluster.logs}\n"
        f"  Proberen: curl -s {spec.public_url}/webhooks/rest/webhook -H 'Authorization: Bearer "
        f"{extra['VRAAGBAAK_REST_TOKEN']}' -H 'Content-Type: application/json' "
        """-d '{"sender": "demo", "message": "Wat met de pooiers?"}'""",
        flush=True,
    )
    if args.detach:
        print("Stoppen: make cluster-down", flush=True)
        return 0
    print("Stoppen: Ctrl-C (of make cluster-down)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
