"""A real multi-instance Vraagbaak stack on loopback: Redis, Rasa replicas, action servers and nginx.

    python -m vraagbaak.ops.cluster up [--detach]   # start; without --detach Ctrl-C stops everything
    python -m vraagbaak.ops.cluster down            # stop what `up --detach` left running (PID files)

Every process is a child of this module with its own PID file under the work directory (default .run/cluster):
Debian's redis-server and nginx with generated configuration files (not the system services), and Rasa and
the action servers through `python -m vraagbaak.ops.launcher rasa`, with the production settings of
vraagbaak.ops.production.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Tuple

import requests

from vraagbaak.core.paths import MODELS_DIR, PROJECT_DIR
from vraagbaak.core.settings import ConfigError, Settings
from vraagbaak.ops import production
from vraagbaak.ops.deploy_files import deploy_configs
from vraagbaak.ops.nginx import ACTION_TIMEOUT, PUBLIC_PORT, NginxLayout, render_nginx
from vraagbaak.ops.processes import (
    free_port,
    launcher_command,
    port_is_free,
    process_tree_rss,
    rasa_command,
    start_process,
    stop_from_pid_files,
    stop_processes,
)

DEFAULT_WORKDIR = PROJECT_DIR / ".run" / "cluster"
DEFAULT_MODEL = MODELS_DIR / "vraagbaak.tar.gz"
# Fixed ports of `make cluster`. deploy/ publishes the same public port; inside containers Rasa, the action
# servers and the gateway keep their defaults (5005, 5055, 5054), since each container has its own address.
GATEWAY_PORT = 5154
REDIS_PORT = 6380
# Not 5005/5055, so `make run` and `make cluster` can run side by side.
RASA_PORTS = (5105, 5106)
ACTION_PORTS = (5155, 5156)
STARTUP_TIMEOUT = 300.0
# Settings an operator may pass to `make cluster` through the environment; ports and Redis are the cluster's own.
OPERATOR_SETTINGS = (
    "VRAAGBAAK_CORS_ORIGINS",
    "VRAAGBAAK_ENABLE_API",
    "VRAAGBAAK_JWT_SECRET",
    "VRAAGBAAK_REST_TOKEN",
    "VRAAGBAAK_RECORD_EXP",
    "VRAAGBAAK_LOCK_LIFETIME",
)


@dataclass
class ClusterSpec:
    """Ports, files and production settings of one cluster."""

    workdir: Path
    model: Path = DEFAULT_MODEL
    public_port: int = PUBLIC_PORT
    gateway_port: int = GATEWAY_PORT
    redis_port: int = REDIS_PORT
    rasa_ports: Tuple[int, ...] = RASA_PORTS
    action_ports: Tuple[int, ...] = ACTION_PORTS
    action_timeout: int = ACTION_TIMEOUT
    # VRAAGBAAK_* variables on top of the cluster's own (CORS origins, API, JWT secret, REST token, expiry).
    env: Dict[str, str] = field(default_factory=dict)
    redis_password: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)

    def __post_init__(self) -> None:
        # nginx (-p) and Rasa (cwd = project) would each read a relative path differently.
        self.workdir = Path(self.workdir).resolve()
        self.model = Path(self.model).resolve()

    @classmethod
    def on_free_ports(
        cls,
        workdir: Path,
        model: Path = DEFAULT_MODEL,
        rasa_replicas: int = 2,
        action_replicas: int = 2,
        **kw,
    ) -> ClusterSpec:
        """A spec whose every port is a currently free loopback port (for tests and benchmarks)."""
        return cls(
            workdir=workdir,
            model=model,
            public_port=free_port(),
            gateway_port=free_port(),
            redis_port=free_port(),
            rasa_ports=tuple(free_port() for _ in range(rasa_replicas)),
            action_ports=tuple(free_port() for _ in range(action_replicas)),
            **kw,
        )

    @property
    def public_url(self) -> str:
        """The address visitors and the widget use."""
        return f"http://localhost:{self.public_port}"

    @property
    def rasa_urls(self) -> List[str]:
        """Each Rasa replica, directly (bypassing nginx)."""
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @property
    def action_urls(self) -> List[str]:
        """Each action server, directly."""
        return [f"http://127.0.0.1:{port}" for port in self.action_ports]

    @property
    def gateway_url(self) -> str:
        """The internal action gateway Rasa calls."""
        return f"http://127.0.0.1:{self.gateway_port}"

    def settings_env(self, rasa_port: int | None = None, action_port: int | None = None) -> Dict[str, str]:
        """The VRAAGBAAK_* environment of one Rasa replica or action server."""
        env = {
            "VRAAGBAAK_ENV": "production",
            "VRAAGBAAK_MODEL": str(self.model),
            "VRAAGBAAK_RASA_HOST": "127.0.0.1",
            "VRAAGBAAK_ACTION_HOST": "127.0.0.1",
            "VRAAGBAAK_ACTION_URL": f"{self.gateway_url}/webhook",
            "VRAAGBAAK_ACTION_TIMEOUT": str(self.action_timeout),
            "VRAAGBAAK_REDIS_HOST": "127.0.0.1",
            "VRAAGBAAK_REDIS_PORT": str(self.redis_port),
            "VRAAGBAAK_REDIS_PASSWORD": self.redis_password,
            "VRAAGBAAK_CORS_ORIGINS": self.public_url,
        }
        env.update(self.env)
        if self.public_url not in env["VRAAGBAAK_CORS_ORIGINS"]:
            # The widget page nginx serves must always be allowed to talk to the bot.
            env["VRAAGBAAK_CORS_ORIGINS"] = f"{self.public_url} {env['VRAAGBAAK_CORS_ORIGINS']}".strip()
        if rasa_port is not None:
            env["VRAAGBAAK_RASA_PORT"] = str(rasa_port)
        if action_port is not None:
            env["VRAAGBAAK_ACTION_PORT"] = str(action_port)
        return env

    def settings(self, rasa_port: int | None = None) -> Settings:
        """Checked production settings (raises ConfigError on an unsafe combination)."""
        return Settings.from_env(self.settings_env(rasa_port=rasa_port))


@dataclass
class ProcessSpec:
    """How to start one process and how to know it is ready."""

    name: str
    argv: List[str]
    env: Dict[str, str]
    ready_url: str | None = None


def render_nginx_config(spec: ClusterSpec, prefix: Path, public_host: str = "127.0.0.1") -> str:
    """nginx.conf for a loopback cluster."""
    return render_nginx(
        NginxLayout(
            prefix=str(prefix),
            gateway_listen=f"127.0.0.1:{spec.gateway_port}",
            action_servers=[f"127.0.0.1:{port}" for port in spec.action_ports],
            action_timeout=spec.action_timeout,
            public_listen=f"{public_host}:{spec.public_port}",
            rasa_servers=[f"127.0.0.1:{port}" for port in spec.rasa_ports],
            public_url=spec.public_url,
            cors_origins=spec.settings().cors_origins,
        )
    )


def redis_config(spec: ClusterSpec, data_dir: Path) -> str:
    """A private Redis on loopback with a password and nothing written to disk (conversations stay in RAM)."""
    return "\n".join(
        [
            f"port {spec.redis_port}",
            "bind 127.0.0.1",
            "protected-mode yes",
            "daemonize no",
            f"dir {data_dir}",
            'save ""',
            "appendonly no",
            "loglevel warning",
            'logfile ""',
            f"requirepass {spec.redis_password}",
            # Conversations expire by themselves; when memory runs out, drop those closest to expiry first.
            "maxmemory 400mb",
            "maxmemory-policy volatile-ttl",
            "",
        ]
    )


class Cluster:
    """Starts, stops and restarts the processes of one ClusterSpec."""

    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec
        self.workdir = spec.workdir
        self.logs = self.workdir / "logs"
        self.pids = self.workdir / "pids"
        self.config_dir = self.workdir / "config"
        self.nginx_prefix = self.workdir / "nginx"
        self.processes: Dict[str, subprocess.Popen] = {}
        self._specs: Dict[str, ProcessSpec] = {}

    # -- configuration -------------------------------------------------------------------------------------

    def write_config(self) -> None:
        """Generate every configuration file (the production settings are checked here)."""
        for directory in (self.logs, self.pids, self.config_dir, self.workdir / "redis"):
            directory.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "tmp"):
            (self.nginx_prefix / sub).mkdir(parents=True, exist_ok=True)
        self.config_dir.chmod(0o700)
        redis_conf = self.config_dir / "redis.conf"
        redis_conf.write_text(redis_config(self.spec, self.workdir / "redis"), encoding="utf-8")
        redis_conf.chmod(0o600)
        nginx_conf = self.nginx_prefix / "nginx.conf"
        nginx_conf.write_text(render_nginx_config(self.spec, self.nginx_prefix), encoding="utf-8")
        self._specs = {spec.name: spec for spec in self._process_specs()}

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
        """Process names in start order."""
        return list(self._specs)

    def log_path(self, name: str) -> Path:
        """Where a process writes its output."""
        return self.logs / f"{name}.log"

    def start_process(self, name: str) -> subprocess.Popen:
        """Start (or restart) one process; does not wait until it is ready."""
        spec = self._specs[name]
        process = start_process(spec.argv, self.log_path(name), spec.env, own_session=True)
        self.processes[name] = process
        (self.pids / f"{name}.pid").write_text(f"{process.pid}\n", encoding="utf-8")
        return process

    def wait_ready(self, name: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll until the process answers (Redis: PING), failing early if it died."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = self.log_path(name).read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"{name} stopte met code {process.returncode}:\n{tail}")
            if self._answers(name):
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
        """Write the configuration, start every process and wait until each answers."""
        self.check_ports_free()
        self.write_config()
        (self.pids / "supervisor.pid").write_text(f"{os.getpid()}\n", encoding="utf-8")
        try:
            for name in self.names:
                self.start_process(name)
                if not name.startswith("rasa-"):
                    self.wait_ready(name)
            # The replicas load the model in parallel; wait for all of them at the end.
            for name in self.names:
                if name.startswith("rasa-"):
                    self.wait_ready(name)
        except BaseException:
            self.stop()
            raise

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        """Stop one process (SIGKILL simulates a crash) and wait until it is gone."""
        process = self.processes.get(name)
        if process is not None:
            stop_processes([process], sig, timeout)

    def restart(self, name: str) -> None:
        """Stop one process if it runs, start it again and wait until it answers."""
        self.stop_process(name)
        self.start_process(name)
        self.wait_ready(name)

    def stop(self) -> None:
        """Stop every process, front to back, and remove the PID files."""
        for name in reversed(list(self.processes)):
            self.stop_process(name)
        for pid_file in self.pids.glob("*.pid"):
            pid_file.unlink(missing_ok=True)

    def rss(self) -> Dict[str, int]:
        """Resident memory in bytes per process, including its own children (nginx workers)."""
        return {name: process_tree_rss(p.pid) for name, p in self.processes.items() if p.poll() is None}


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
        stopped = stop_from_pid_files(args.workdir.resolve())
        print("Gestopt: " + (", ".join(stopped) if stopped else "niets (er draaide geen cluster)"))
        return 0
    if any((args.workdir / "pids").glob("*.pid")):
        stop_from_pid_files(args.workdir.resolve())
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
        (cluster.pids / "supervisor.pid").unlink(missing_ok=True)
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
