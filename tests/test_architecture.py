"""The tree keeps ARCHITECTURE.md's rules: rooms import only what it says they may, no cycle, a unit without tools."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What each room may import, as ARCHITECTURE.md says (commands may import anything but export).
MAY_IMPORT = {
    "config": set(),
    "sources": set(),
    "hands": {"calibration"},
    "calibration": set(),
    "notes": {"sources", "hands", "calibration", "models"},
    "fingering": {"sources", "hands", "calibration", "notes", "models"},
    "technique": {"models"},
    "practice": {"calibration"},
    "unit": {"config", "sources", "hands", "calibration", "notes", "fingering", "technique", "practice", "transport",
             "models"},
    "transport": {"config"},
    "models": set(),
    "display": set(),
    "recorder": {"transport"},
    "scene": {"calibration", "sources", "practice"},
    "commands": {"config", "sources", "hands", "calibration", "notes", "fingering", "technique", "practice", "unit",
                 "transport", "models", "display", "recorder", "scene"},
    "export": {"technique", "fingering", "scene", "models"},
}
TOOLS = ("scene", "commands", "export")


def _rooms_in_setup() -> list[str]:
    text = (ROOT / "setup.py").read_text()
    return re.findall(r'"(\w+)"', re.search(r"ROOMS = \(([^)]*)\)", text).group(1))


def _module_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split(".")[1:])
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every pianocam module a file imports, at module level or inside functions, with the packages it runs."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pianocam."):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if _module_file(f"{node.module}.{a.name}")}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pianocam.")}
    for module in list(found):
        parts = module.split(".")
        found |= {".".join(parts[:k]) for k in range(2, len(parts))}
    return found


def _room_edges() -> dict[str, dict[str, str]]:
    edges: dict[str, dict[str, str]] = {room: {} for room in _rooms_in_setup()}
    for room in edges:
        for path in sorted((ROOT / room).rglob("*.py")):
            for module in _imports(path):
                other = module.split(".")[1]
                if other != room:
                    edges[room].setdefault(other, str(path.relative_to(ROOT)))
    return edges


def test_every_room_is_in_the_architecture_and_every_package_is_a_room():
    rooms = _rooms_in_setup()
    assert sorted(rooms) == sorted(MAY_IMPORT)
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests")
    assert packages == sorted(rooms)
    architecture = (ROOT / "ARCHITECTURE.md").read_text()
    assert [room for room in rooms if f"**{room}/**" not in architecture] == []


def test_rooms_import_only_what_the_architecture_allows():
    unexpected = [f"{room} imports {other} ({where})" for room, uses in _room_edges().items()
                  for other, where in uses.items() if other not in MAY_IMPORT[room]]
    assert unexpected == []


def test_no_import_cycle_between_rooms():
    edges = {room: set(uses) for room, uses in _room_edges().items()}

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert [room for room in edges if room in reaches(room)] == []


def test_the_units_runtime_reaches_no_tool():
    # Through every import, function-level ones included: what `pianocam run` could ever load.
    seen, todo, via = set(), ["pianocam.unit.assembly", "pianocam.unit.pipeline"], {}
    while todo:
        module = todo.pop()
        if module in seen or (path := _module_file(module)) is None:
            continue
        seen.add(module)
        for imported in _imports(path) - seen:
            via.setdefault(imported, module)
            todo.append(imported)
    reached = sorted(m for m in seen if m.split(".")[1] in TOOLS)
    assert [f"{m} (via {via.get(m)})" for m in reached] == []
