"""The layer contract in pyproject.toml holds, and it would catch an import that crosses a layer the wrong way."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vraagbaak.core.paths import PROJECT_DIR

LINT_IMPORTS = PROJECT_DIR / ".run" / "lint-venv" / "bin" / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the package copy under root, with the project's contracts."""
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} ontbreekt: draai eerst `make lint`")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_the_project(tmp_path: Path) -> Path:
    """The package, the actions and pyproject.toml, copied so that a test may break them."""
    for name in ("vraagbaak", "actions"):
        shutil.copytree(PROJECT_DIR / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_real_code_keeps_every_contract(copy_of_the_project: Path) -> None:
    result = lint_imports(copy_of_the_project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line",
    [
        ("vraagbaak/core/paths.py", "import vraagbaak.ops.launcher"),
        ("vraagbaak/core/replies.py", "import rasa"),
        ("vraagbaak/adapters/stores.py", "import vraagbaak.bench.run"),
        # One crossing per boundary of the staff-side packages: ops < evaluation < reports < console < bench.
        ("vraagbaak/ops/processes.py", "import vraagbaak.evaluation.offline"),
        ("vraagbaak/evaluation/leaks.py", "import vraagbaak.reports.shared"),
        ("vraagbaak/reports/coverage.py", "import vraagbaak.console.jobs"),
        ("vraagbaak/console/compare.py", "import vraagbaak.bench.run"),
        ("actions/actions.py", "import vraagbaak.reports.shared"),
        ("vraagbaak/insights.py", "import vraagbaak.ops.processes"),
        ("actions/actions.py", "import vraagbaak.ops.launcher"),
        # The Rasa patches: no component imports them, and only the launchers and the evaluation parser
        # import their installer.
        ("vraagbaak/adapters/turns.py", "import vraagbaak.adapters.rasa_patches.turn_gate"),
        ("vraagbaak/adapters/channels/socketio.py", "import vraagbaak.adapters.rasa_patches.origin_record"),
        ("vraagbaak/ops/cluster.py", "import vraagbaak.adapters.rasa_patches.installer"),
        ("vraagbaak/adapters/stores.py", "import vraagbaak.adapters.rasa_patches.installer"),
    ],
)
def test_an_import_against_the_layers_is_caught(copy_of_the_project: Path, module: str, line: str) -> None:
    path = copy_of_the_project / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(copy_of_the_project)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
