"""Only core/settings.py (and the process launchers in ops/) read the environment; the model path is written once."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterable, List

import pytest

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import ACTION_TIMEOUT, DEFAULT_MODEL, ENV_DEFAULTS, Settings

# Changing the environment (a child's, or this process's before a library reads it) is no reading of it.
WRITES = {"update", "setdefault", "pop"}
ALLOWED = ("vraagbaak/core/settings.py", "vraagbaak/ops/")


def environment_reads(source: str) -> List[int]:
    """The lines of `source` that read os.environ or call os.getenv."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            lines.append(node.lineno)
        if not (isinstance(node, ast.Attribute) and node.attr == "environ"):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.attr in WRITES:
            continue
        if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, (ast.Store, ast.Del)):
            continue
        lines.append(node.lineno)
    return lines


def readers(root: Path, paths: Iterable[Path]) -> List[str]:
    found = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        if name.startswith(ALLOWED):
            continue
        found += [f"{name}:{line}" for line in environment_reads(path.read_text(encoding="utf-8"))]
    return found


def sources(root: Path) -> List[Path]:
    return sorted([*(root / "vraagbaak").rglob("*.py"), *(root / "actions").rglob("*.py")])


def test_only_settings_and_the_launchers_read_the_environment() -> None:
    assert readers(PROJECT_DIR, sources(PROJECT_DIR)) == []


@pytest.mark.parametrize(
    "line",
    [
        'x = os.environ.get("VRAAGBAAK_REDIS_PASSWORD")',
        'x = os.getenv("VRAAGBAAK_MODEL")',
        'x = os.environ["VRAAGBAAK_ACTION_TIMEOUT"]',
        "x = dict(os.environ)",
        'x = "VRAAGBAAK_ENV" in os.environ',
    ],
)
def test_the_check_catches_a_planted_read(tmp_path: Path, line: str) -> None:
    module = tmp_path / "vraagbaak" / "adapters" / "planted.py"
    module.parent.mkdir(parents=True)
    module.write_text(f"import os\n{line}\n", encoding="utf-8")
    assert readers(tmp_path, [module]) == ["vraagbaak/adapters/planted.py:2"]


def test_writing_a_childs_environment_is_no_read(tmp_path: Path) -> None:
    module = tmp_path / "vraagbaak" / "staff" / "writes.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        'import os\nos.environ["A"] = "1"\nos.environ.setdefault("B", "2")\nos.environ.pop("C", None)\n',
        encoding="utf-8",
    )
    assert readers(tmp_path, [module]) == []


def test_the_model_path_is_written_once() -> None:
    written = [
        path.relative_to(PROJECT_DIR).as_posix()
        for path in sources(PROJECT_DIR)
        if "vraagbaak.tar.gz" in path.read_text(encoding="utf-8")
    ]
    assert written == ["vraagbaak/core/settings.py"]
    assert ENV_DEFAULTS["VRAAGBAAK_MODEL"] == str(DEFAULT_MODEL) == Settings().model


def test_the_action_timeout_default_is_one_value() -> None:
    from vraagbaak.ops.cluster_spec import ClusterSpec
    from vraagbaak.ops.nginx import NginxLayout

    assert Settings().action_timeout == Settings.from_env({}).action_timeout == ACTION_TIMEOUT
    assert ClusterSpec.action_timeout == NginxLayout.action_timeout == ACTION_TIMEOUT


def test_a_secret_is_read_from_the_given_environment() -> None:
    assert Settings.secret("VRAAGBAAK_REDIS_PASSWORD", {"VRAAGBAAK_REDIS_PASSWORD": "geheim"}) == "geheim"
    assert Settings.secret("VRAAGBAAK_REDIS_PASSWORD", {}) == ""
