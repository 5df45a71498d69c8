"""Deployment files: valid against their schemas, and in step with the loopback cluster and vraagbaak.ops.production."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import ENV_DEFAULTS, Settings
from vraagbaak.ops import cluster, deploy_files, nginx

DEPLOY = PROJECT_DIR / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = sorted((DEPLOY / "k8s").glob("*.yaml"))
# The validators need a newer jsonschema than Rasa allows, so they live in their own venv (make deploy-deps).
VALIDATOR_BIN = PROJECT_DIR / ".run" / "deploy-venv" / "bin"
DOCS = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").rglob("*.md"))]


def k8s_objects() -> Iterator[Dict[str, Any]]:
    for path in K8S:
        yield from (doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)


def k8s_object(kind: str, name: str) -> Dict[str, Any]:
    found = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name)
    return found[0]


def compose() -> Dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def env_names(container_env: Any) -> set[str]:
    if isinstance(container_env, dict):
        return set(container_env)
    return {item["name"] for item in container_env}


def validator(name: str) -> str:
    path = VALIDATOR_BIN / name
    if not path.exists():
        pytest.fail(f"{path} ontbreekt: draai `make deploy-deps`")
    return str(path)


# -- schemas (validators from PyPI, in their own venv) -------------------------------------------------------


@pytest.mark.cluster
@pytest.mark.parametrize("manifest", K8S, ids=[p.name for p in K8S])
def test_kubernetes_manifest_is_valid(manifest: Path) -> None:
    result = subprocess.run(
        [validator("kubernetes-validate"), "--strict", "--kubernetes-version", "1.30", str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.cluster
def test_kubernetes_validator_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (
        (DEPLOY / "k8s" / "actions.yaml")
        .read_text(encoding="utf-8")
        .replace("containerPort", "containerPoort")
    )
    broken.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [validator("kubernetes-validate"), "--strict", "--kubernetes-version", "1.30", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0


@pytest.mark.cluster
@pytest.mark.parametrize("mutate", [None, "replicas"])
def test_compose_file_matches_the_compose_spec(tmp_path: Path, mutate: str | None) -> None:
    target = COMPOSE
    if mutate:  # proves the check can fail: an unknown key is refused
        target = tmp_path / "docker-compose.yml"
        target.write_text(COMPOSE.read_text(encoding="utf-8").replace("mem_limit: 128m", "geheugen: 128m"))
    result = subprocess.run(
        [validator("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode == 0) == (mutate is None), result.stdout + result.stderr


@pytest.mark.cluster
@pytest.mark.parametrize("path", list(deploy_files.deploy_configs()), ids=lambda p: p.name)
def test_generated_nginx_configs_pass_nginx_t(path: Path, tmp_path: Path) -> None:
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin")
    if not nginx:
        pytest.fail("nginx ontbreekt: draai `make services-deps`")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".yaml":
        text = yaml.safe_load(text)["data"]["nginx.conf"]
    # Container host names do not resolve here; the syntax check needs addresses.
    text = re.sub(r"server (rasa-\d|actions-\d|actions):", "server 127.0.0.1:", text)
    text = text.replace("/tmp/nginx", str(tmp_path))
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [nginx, "-t", "-e", str(tmp_path / "error.log"), "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# -- in step with the cluster and the settings (fast, no tools needed) ---------------------------------------


def test_generated_files_are_up_to_date() -> None:
    for path, content in deploy_files.deploy_configs().items():
        assert (
            path.read_text(encoding="utf-8") == content
        ), f"{path.name}: draai python -m vraagbaak.ops.cluster deploy-configs"


def test_replica_counts_match_the_cluster() -> None:
    spec = cluster.ClusterSpec(workdir=Path("/nergens"))
    assert len(spec.rasa_ports) == len(spec.action_ports) == deploy_files.REPLICAS
    assert k8s_object("Deployment", "rasa")["spec"]["replicas"] == deploy_files.REPLICAS
    assert k8s_object("Deployment", "actions")["spec"]["replicas"] == deploy_files.REPLICAS
    services = compose()["services"]
    assert sorted(s for s in services if s.startswith("rasa-")) == [f"rasa-{i}" for i in (1, 2)]
    assert sorted(s for s in services if s.startswith("actions-")) == [f"actions-{i}" for i in (1, 2)]


def test_ports_match_the_cluster_and_the_settings() -> None:
    defaults = Settings()
    assert deploy_files.CONTAINER_RASA_PORT == defaults.rasa_port
    assert deploy_files.CONTAINER_ACTION_PORT == defaults.action_port
    assert compose()["services"]["nginx"]["ports"] == [f"{nginx.PUBLIC_PORT}:{nginx.PUBLIC_PORT}"]
    rasa = k8s_object("Deployment", "rasa")["spec"]["template"]["spec"]["containers"][0]
    actions = k8s_object("Deployment", "actions")["spec"]["template"]["spec"]["containers"][0]
    assert rasa["ports"][0]["containerPort"] == defaults.rasa_port
    assert actions["ports"][0]["containerPort"] == defaults.action_port
    rasa_env = {e["name"]: e.get("value") for e in rasa["env"]}
    gateway = f"http://127.0.0.1:{deploy_files.GATEWAY_PORT_IN_CONTAINERS}/webhook"
    assert rasa_env["VRAAGBAAK_ACTION_URL"] == gateway
    assert compose()["services"]["rasa-1"]["environment"]["VRAAGBAAK_ACTION_URL"] == (
        f"http://nginx:{deploy_files.GATEWAY_PORT_IN_CONTAINERS}/webhook"
    )
    assert k8s_object("Service", "rasa")["spec"]["ports"][0]["port"] == defaults.rasa_port
    assert k8s_object("Service", "actions")["spec"]["ports"][0]["port"] == defaults.action_port
    # Nothing but nginx publishes a port.
    assert [name for name, s in compose()["services"].items() if s.get("ports")] == ["nginx"]


def test_environment_variable_names_exist_in_the_settings() -> None:
    known = set(ENV_DEFAULTS)
    used: List[set[str]] = [
        env_names(compose()["services"][name]["environment"]) for name in ("rasa-1", "actions-1")
    ]
    for name in ("rasa", "actions"):
        used.append(
            env_names(k8s_object("Deployment", name)["spec"]["template"]["spec"]["containers"][0]["env"])
        )
    for names in used:
        vraagbaak_names = {n for n in names if n.startswith("VRAAGBAAK_")}
        assert vraagbaak_names <= known, vraagbaak_names - known
    # Production is switched on everywhere, and the API stays closed.
    for names in used:
        assert "VRAAGBAAK_ENV" in names
    rasa_env = {
        e["name"]: e.get("value")
        for e in k8s_object("Deployment", "rasa")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert rasa_env["VRAAGBAAK_ENABLE_API"] == "false"
    assert rasa_env["VRAAGBAAK_RECORD_EXP"] == ENV_DEFAULTS["VRAAGBAAK_RECORD_EXP"]


def test_every_setting_is_documented() -> None:
    doc = "\n".join(path.read_text(encoding="utf-8") for path in DOCS)
    for name in ENV_DEFAULTS:
        assert f"`{name}`" in doc, name
    for target in ("make cluster", "make cluster-down", "make test-cluster", "make bench-cluster"):
        assert target in doc


def test_probes_and_limits_on_every_deployment() -> None:
    for deployment in (o for o in k8s_objects() if o["kind"] == "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert container["resources"]["limits"]["memory"], container["name"]
            if container["name"] != "action-gateway":
                assert "readinessProbe" in container and "livenessProbe" in container, container["name"]


def test_network_policies_keep_actions_and_redis_internal() -> None:
    for name, port in (("actions-from-rasa", 5055), ("redis-from-rasa", 6379)):
        policy = k8s_object("NetworkPolicy", name)["spec"]
        sources = policy["ingress"][0]["from"]
        assert sources == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rasa"}}}]
        assert policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": port}]
    assert k8s_object("NetworkPolicy", "default-deny-ingress")["spec"]["podSelector"] == {}
    for ingress in (o for o in k8s_objects() if o["kind"] == "Ingress"):
        backends = {
            p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]
        }
        assert backends == {"rasa"}
    sticky = k8s_object("Ingress", "vraagbaak-socketio")["metadata"]["annotations"]
    assert sticky["nginx.ingress.kubernetes.io/affinity"] == "cookie"


def public_next_upstream(text: str) -> List[str]:
    """The proxy_next_upstream conditions of the public server (the first server block)."""
    public = text[text.index("listen {{public_listen}}") if "{{" in text else 0 :]
    match = re.search(r"proxy_next_upstream ([^;]+);", public)
    assert match, "geen proxy_next_upstream"
    return match.group(1).split()


@pytest.mark.parametrize(
    "text",
    [
        nginx.TEMPLATE.read_text(encoding="utf-8"),
        (DEPLOY / "compose" / "nginx.conf").read_text(encoding="utf-8"),
        cluster.render_nginx_config(cluster.ClusterSpec(workdir=Path("/nergens")), Path("/nergens")),
    ],
    ids=["template", "compose", "cluster"],
)
def test_a_sent_message_is_never_passed_to_another_replica(text: str) -> None:
    # non_idempotent would pass a POST that crashed one replica on to the next; http_502/503 would also make
    # nginx count a replica's "Redis is away" 503s against it (max_fails) and take it out of service.
    assert public_next_upstream(text) == ["error", "timeout"]


def test_the_ingress_never_passes_a_sent_message_on() -> None:
    annotations = k8s_object("Ingress", "vraagbaak-webhooks")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"].split() == ["error", "timeout"]


def test_the_next_upstream_check_rejects_a_retrying_config() -> None:
    broken = nginx.TEMPLATE.read_text(encoding="utf-8").replace(
        "proxy_next_upstream error timeout;", "proxy_next_upstream error timeout http_503 non_idempotent;", 1
    )
    with pytest.raises(AssertionError):
        test_a_sent_message_is_never_passed_to_another_replica(broken)


def test_redis_keeps_conversations_on_disk_everywhere() -> None:
    local = cluster.redis_config(cluster.ClusterSpec(workdir=Path("/nergens")), Path("/nergens"))
    assert "appendonly yes" in local and "appendfsync everysec" in local
    compose_command = compose()["services"]["redis"]["command"]
    redis = k8s_object("Deployment", "redis")["spec"]["template"]["spec"]
    for args in (compose_command, redis["containers"][0]["args"]):
        assert args[args.index("--appendonly") + 1] == "yes"
        assert args[args.index("--appendfsync") + 1] == "everysec"
    # On a volume that outlives the container (not in memory).
    assert "redis-data:/data" in compose()["services"]["redis"]["volumes"]
    data = next(v for v in redis["volumes"] if v["name"] == "data")
    assert (
        data["persistentVolumeClaim"]["claimName"]
        == k8s_object("PersistentVolumeClaim", "redis-data")["metadata"]["name"]
    )


def test_memory_limits_leave_room_for_what_was_measured() -> None:
    # make bench-cluster measured about 0.9 GB per Rasa replica and 50 MB per action server.
    measured = {"rasa": 911, "actions": 54}
    for name, mb in measured.items():
        container = k8s_object("Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        limit = container["resources"]["limits"]["memory"]
        assert limit.endswith(("Mi", "Gi"))
        limit_mb = int(limit[:-2]) * (1024 if limit.endswith("Gi") else 1)
        assert mb < limit_mb <= 4 * mb, (name, limit)
