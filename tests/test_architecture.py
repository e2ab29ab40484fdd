"""The dependency rule of docs/architecture.md, checked on the imports of every
module (at the top, in functions, under TYPE_CHECKING alike): the parts point
one way, from the core outwards. Needs none of the session's servers."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CORE = {"complaints"}
# Between the core and the processes, in this order: each may import the core and those before it.
MIDDLE = ["reporting", "activities", "workflows"]
INNER = CORE | set(MIDDLE)
# The processes and channels: each may import the core and the middle, none another.
SURFACES = {"worker", "api", "inbound", "bulk_import", "codec"}

# part → the other parts it may import (its own modules it always may)
MAY_IMPORT: dict[str, set[str]] = {
    "complaints": set(),
    **{part: CORE | set(MIDDLE[:i]) for i, part in enumerate(MIDDLE)},
    **dict.fromkeys(SURFACES, INNER),
    "devstack": CORE,  # the local stack's embedded parts, for starter/ and the tests only
    "starter": INNER | SURFACES | {"devstack"},  # the command line: everything
}
# tests/ may import every part; no part imports tests/.
PARTS = set(MAY_IMPORT) | {"tests"}


def imported_parts(source: str) -> list[tuple[int, str, str]]:
    """(line, module, part) of every import of a project part in `source`; a
    relative import stays in its own part and is left out."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [(node.lineno, module, module.split(".")[0]) for module in modules]
    return [(line, module, part) for line, module, part in found if part in PARTS]


def violations(part: str, source: str, where: str) -> list[str]:
    allowed = MAY_IMPORT[part] | {part}
    may = ", ".join(sorted(MAY_IMPORT[part])) or "nothing"
    return [
        f"{where}:{line}: {part}/ imports {module} ({part}/ may import {may})"
        for line, module, imported in imported_parts(source)
        if imported not in allowed
    ]


def _modules(part: str) -> list[Path]:
    return sorted(path for path in (ROOT / part).rglob("*.py") if "__pycache__" not in path.parts)


def test_every_part_has_its_place_in_the_rule() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert {package.split(".")[0] for package in packages} == set(MAY_IMPORT)
    folders = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert folders - {"tests"} == set(MAY_IMPORT), "a new folder needs its place in docs/architecture.md and here"


def test_every_import_follows_the_dependency_rule() -> None:
    broken = []
    checked = 0
    for part in MAY_IMPORT:
        for path in _modules(part):
            broken += violations(part, path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
            checked += 1
    assert checked > 50, "the modules were found"
    assert broken == [], "imports against the dependency rule (docs/architecture.md):\n" + "\n".join(broken)


def test_tests_share_helpers_not_each_other() -> None:
    """Shared helpers live in tests/helpers and fixtures in conftest.py: a test
    module that imports another (or conftest) hides where its helpers are."""
    broken = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in _modules("tests")
        for line, module, _ in imported_parts(path.read_text(encoding="utf-8"))
        if module.startswith(("tests.test_", "tests.conftest")) and path.name != "test_architecture.py"
    ]
    assert broken == [], "import the helper from tests/helpers instead:\n" + "\n".join(broken)


def test_the_check_sees_every_kind_of_import() -> None:
    source = """
import devstack.postgres
from api import app
from starter.cli import main
from . import journal
import asyncio

def lazily():
    from worker.main import run_worker

if TYPE_CHECKING:
    from tests.conftest import Mailbox
"""
    found = [module for _, module, _ in imported_parts(source)]
    assert found == ["devstack.postgres", "api", "starter.cli", "worker.main", "tests.conftest"]
    assert len(violations("complaints", source, "x.py")) == 5
    [only] = violations("starter", source, "x.py")
    assert only.startswith("x.py:12: starter/ imports tests.conftest (starter/ may import activities, api, ")
    assert violations("complaints", "from complaints.settings import Settings", "x.py") == []


def test_dates_are_worded_in_one_place() -> None:
    """Dates as people read them (babel.dates) come from complaints/dates.py
    only, so letters, pages and reports say them alike."""
    wording = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for part in MAY_IMPORT
        for path in _modules(part)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom | ast.Import)
        and any(name.startswith("babel.dates") for name in _imported_names(node))
        and path != ROOT / "complaints" / "dates.py"
    ]
    assert wording == [], "word dates with complaints.dates.LocalDates:\n" + "\n".join(wording)


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    return [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
