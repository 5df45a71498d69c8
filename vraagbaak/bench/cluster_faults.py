"""`make bench-cluster`, fault lines: load while a Rasa replica is killed and comes back, and what Redis's AOF costs.

Part of vraagbaak.bench.cluster (its main calls `measure_faults`); on its own:

    python -m vraagbaak.bench.cluster_faults [--users 20] [--messages 20] [--kill-messages 60]
"""
from __future__ import annotations

import argparse
import json
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Sequence

from vraagbaak.bench.cluster import LoadResult, run_load
from vraagbaak.core.paths import REPORTS_DIR
from vraagbaak.ops.cluster import DEFAULT_MODEL, Cluster, ClusterSpec
from vraagbaak.ops.processes import LOAD_TOOL_ENV


def _figures(result: LoadResult) -> Dict[str, Any]:
    return {
        "messages": len(result.latencies),
        "errors": len(result.errors),
        "seconds": round(result.seconds, 1),
        "throughput_per_s": round(result.throughput, 1),
        "p50_ms": round(result.percentile(0.5) * 1000),
        "p95_ms": round(result.percentile(0.95) * 1000),
    }


def kill_and_come_back(cluster: Cluster, token: str, users: int, messages: int) -> Dict[str, Any]:
    """Load through nginx; after a tenth of the replies rasa-1 gets SIGKILL and supervisord restarts it."""
    killed: List[float] = []
    back: Dict[str, float] = {}
    total = users * messages

    def watch_comeback(old_pid: int) -> None:
        while cluster.pid("rasa-1") in (0, old_pid):
            time.sleep(0.05)
        back["running_s"] = time.monotonic() - killed[0]
        cluster.wait_ready("rasa-1")
        back["answering_s"] = time.monotonic() - killed[0]

    def kill_once(count: int) -> None:
        if count >= total // 10 and not killed:
            killed.append(time.monotonic())
            old_pid = cluster.kill("rasa-1", signal.SIGKILL)
            threading.Thread(target=watch_comeback, args=(old_pid,), daemon=True).start()

    result = run_load(cluster.spec.public_url, token, users=users, messages=messages, on_reply=kill_once)
    deadline = time.monotonic() + 300
    while "answering_s" not in back and time.monotonic() < deadline:
        time.sleep(0.2)
    return {
        **_figures(result),
        "running_again_s": round(back.get("running_s", float("nan")), 1),
        "answering_again_s": round(back.get("answering_s", float("nan")), 1),
        "first_errors": result.errors[:5],
    }


def aof_cost(cluster: Cluster, token: str, users: int, messages: int) -> Dict[str, Any]:
    """The same load with Redis's append-only file off and on (switched at run time, same processes)."""
    redis = cluster.redis_client()
    figures: Dict[str, Any] = {}
    for setting in ("no", "yes"):
        redis.config_set("appendonly", setting)
        while int(redis.info("persistence").get("aof_rewrite_in_progress", 0)):
            time.sleep(0.1)
        figures[f"appendonly_{setting}"] = _figures(run_load(cluster.spec.public_url, token, users, messages))
    aof_dir = cluster.workdir / "redis"
    figures["aof_bytes"] = sum(p.stat().st_size for p in aof_dir.rglob("*.aof") if p.is_file())
    return figures


def measure_faults(
    model: Path, workdir: Path, users: int = 20, messages: int = 20, kill_messages: int = 60
) -> Dict[str, Any]:
    """Start a two-replica cluster, warm it up, and measure both fault lines.

    The kill line sends `kill_messages` per user (1,200 in all by default, like the fault drill) so that the load
    lasts until the killed replica has loaded its model again.
    """
    token = uuid.uuid4().hex
    spec = ClusterSpec.on_free_ports(workdir, model, rasa_replicas=2, action_replicas=2)
    spec.env = {"VRAAGBAAK_REST_TOKEN": token, **LOAD_TOOL_ENV}
    cluster = Cluster(spec)
    cluster.start()
    try:
        run_load(spec.public_url, token, users=4, messages=4)  # warm-up
        aof = aof_cost(cluster, token, users, messages)
        kill = kill_and_come_back(cluster, token, users, kill_messages)
    finally:
        cluster.stop()
    return {"users": users, "messages_per_user": messages, "aof": aof, "replica_killed": kill}


def report_lines(row: Dict[str, Any]) -> List[str]:
    """The lines `make bench-cluster` prints for the fault figures."""
    kill, aof = row["replica_killed"], row["aof"]
    off, on = aof["appendonly_no"], aof["appendonly_yes"]
    return [
        f"Replica gedood en terug: {kill['messages']} berichten, {kill['throughput_per_s']} ber./s, "
        f"p95 {kill['p95_ms']} ms, fouten {kill['errors']} (Nederlandse 503); draait weer na "
        f"{kill['running_again_s']} s, antwoordt weer na {kill['answering_again_s']} s",
        f"Redis AOF (appendfsync everysec): uit {off['throughput_per_s']} ber./s p95 {off['p95_ms']} ms, "
        f"aan {on['throughput_per_s']} ber./s p95 {on['p95_ms']} ms; AOF-bestand {aof['aof_bytes'] // 1024} kB",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure the fault lines only."""
    parser = argparse.ArgumentParser(prog="python -m vraagbaak.bench.cluster_faults", description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--kill-messages", type=int, default=60)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=REPORTS_DIR / "bench_cluster_faults.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vraagbaak-bench-") as workdir:
        row = measure_faults(args.model, Path(workdir), args.users, args.messages, args.kill_messages)
    for line in report_lines(row):
        print(line, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
