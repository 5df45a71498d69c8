"""What one loopback cluster is: its ports, files and production settings, and the Redis and nginx configs.

vraagbaak.ops.cluster runs it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import ACTION_TIMEOUT, DEFAULT_MODEL, Settings
from vraagbaak.ops.nginx import PUBLIC_PORT, NginxLayout, render_nginx
from vraagbaak.ops.processes import free_port

DEFAULT_WORKDIR = PROJECT_DIR / ".run" / "cluster"
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
    "VRAAGBAAK_KEPT_TURNS",
    "VRAAGBAAK_TURNS_AT_ONCE",
    "VRAAGBAAK_SOCKETIO_KEY",
    "VRAAGBAAK_RATE_BURST",
    "VRAAGBAAK_RATE_PER_MINUTE",
    "VRAAGBAAK_PLATFORM_TIMEOUT",
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
    def socketio_key_file(self) -> Path:
        """The one key file every replica signs and checks the widget's session ids with (owner only)."""
        return self.workdir / "config" / "socketio-sessies.key"

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
            "VRAAGBAAK_SOCKETIO_KEY_FILE": str(self.socketio_key_file),
            # One key for every replica and action server: one conversation, one pseudonym in all their logs.
            "VRAAGBAAK_LOG_KEY_FILE": str(self.workdir / "config" / "log-key"),
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
    """A private Redis on loopback with a password; conversations survive a restart through the append-only file."""
    return "\n".join(
        [
            f"port {spec.redis_port}",
            "bind 127.0.0.1",
            "protected-mode yes",
            "daemonize no",
            f"dir {data_dir}",
            'save ""',
            # Every write is logged and flushed to disk once a second: a crash loses at most the last second.
            "appendonly yes",
            "appendfsync everysec",
            "loglevel warning",
            'logfile ""',
            f"requirepass {spec.redis_password}",
            # Conversations expire by themselves; when memory runs out, drop those closest to expiry first.
            "maxmemory 400mb",
            "maxmemory-policy volatile-ttl",
            "",
        ]
    )
