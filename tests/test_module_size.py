"""Small modules with one job: no Python module of the package or the actions is over 400 lines."""
from __future__ import annotations

from pathlib import Path
from typing import List

from vraagbaak.core.paths import PROJECT_DIR

MAX_LINES = 400


def too_long(roots: List[Path]) -> List[str]:
    """Every module under these folders with more than MAX_LINES lines, with its length."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                found.append(f"{path.relative_to(root.parent)}: {lines}")
    return found


def test_no_module_is_over_400_lines() -> None:
    assert too_long([PROJECT_DIR / "vraagbaak", PROJECT_DIR / "actions"]) == []


def test_a_module_one_line_too_long_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pakket"
    package.mkdir()
    (package / "kort.py").write_text("x = 1\n" * MAX_LINES, encoding="utf-8")
    (package / "lang.py").write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    assert too_long([package]) == [f"pakket/lang.py: {MAX_LINES + 1}"]
