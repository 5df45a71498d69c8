"""The documentation holds together: README.md stays short, every relative link resolves, no issue numbers."""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 250


LINK = re.compile(r"!?\[[^\]]*\]\(([^)]*)\)")
TITLE = re.compile(r"\s+(\"[^\"]*\"|'[^']*')$")
CODE_SPAN = re.compile(r"`[^`]*`")
EXTERNAL = re.compile(r"^(?:https?:|mailto:)", re.IGNORECASE)
ISSUE_REFERENCE = re.compile(r"(?i)issue\s*#\d|\(#\d+\)")
FENCE = re.compile(r"^\s*(```|~~~)")


class Link(NamedTuple):
    """One relative link: where it is written and what it points to (anchor removed)."""

    source: Path
    line: int
    target: str


def markdown_files() -> List[Path]:
    """README.md and every Markdown file under docs/."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def _target(inside: str) -> str:
    """The path part of what is between the parentheses: no <>, no "title"."""
    inside = inside.strip()
    if inside.startswith("<") and inside.endswith(">"):
        return inside[1:-1]
    return TITLE.sub("", inside)


def relative_links(path: Path) -> List[Link]:
    """Relative link targets in a Markdown file, outside code, without their #anchor; http(s)/mailto skipped."""
    links: List[Link] = []
    in_fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for match in LINK.finditer(CODE_SPAN.sub("", line)):
            target = _target(match.group(1))
            if target.startswith("#") or EXTERNAL.match(target):
                continue
            links.append(Link(path, number, target.split("#", 1)[0]))
    return links


def is_well_formed(target: str) -> bool:
    """Not empty, no whitespace, no empty path parts."""
    return bool(target) and not re.search(r"\s", target) and "//" not in target


def broken_links(path: Path) -> List[str]:
    """Every relative link in this file that does not resolve, as 'file:line: target' messages."""
    problems: List[str] = []
    for link in relative_links(path):
        where = f"{link.source.name}:{link.line}: {link.target}"
        if not is_well_formed(link.target):
            problems.append(f"{where} (malformed)")
        elif not (link.source.parent / link.target).exists():
            problems.append(where)
    return problems


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines (at most {README_MAX_LINES})"


def test_docs_exist() -> None:
    assert (DOCS / "medewerkers" / "README.md").is_file()
    assert len(markdown_files()) > 2


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(path: Path) -> None:
    assert broken_links(path) == []


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_issue_references(path: Path) -> None:
    hits = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ISSUE_REFERENCE.search(line)
    ]
    assert hits == []


def test_every_docs_file_is_linked() -> None:
    linked = {
        (link.source.parent / link.target).resolve()
        for path in markdown_files()
        for link in relative_links(path)
        if link.target
    }
    unlinked = [p.relative_to(ROOT).as_posix() for p in markdown_files()[1:] if p.resolve() not in linked]
    assert unlinked == []


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("See [the guide](missing.md).", "missing.md"),
        ("See [a section](missing.md#part) too.", "missing.md"),
        ("![diagram](img/none.png)", "img/none.png"),
        ('[two](exists.md) and [one bad](nope/ "title")', "nope/"),
        ("[spaces](has space.md)", "has space.md (malformed)"),
        ("[code, spaces](vraagbaak/has space.py)", "vraagbaak/has space.py (malformed)"),
    ],
)
def test_checker_reports_a_broken_link(tmp_path: Path, markdown: str, expected: str) -> None:
    (tmp_path / "exists.md").write_text("ok\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(f"# Page\n\n{markdown}\n\n```\n[ignored](inside-a-fence.md)\n```\n", encoding="utf-8")
    assert broken_links(page) == [f"page.md:3: {expected}"]


@pytest.mark.parametrize(
    "markdown",
    [
        "[ok](exists.md) [ok](exists.md#top) [web](https://example.org/x) [mail](mailto:a@b.c) [here](#top)",
        "```\n[ignored](missing.md)\n```",
        "`[in a code span](missing.md)`",
    ],
)
def test_checker_accepts_good_links(tmp_path: Path, markdown: str) -> None:
    (tmp_path / "exists.md").write_text("ok\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(markdown + "\n", encoding="utf-8")
    assert broken_links(page) == []
