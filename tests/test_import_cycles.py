"""No import cycles among qdframe, qdframe_hal and the built-in plugins.

The graph has one node per module and an edge for every import executed when
the module loads: top-level imports, including those under ``if``/``try``
(but not ``if TYPE_CHECKING:``), never imports inside functions. Importing
``a.b.c`` also runs ``a`` and ``a.b``, so those are edges too, except the
importer's own parent packages (already running when it loads). A name read
from a lazily exporting module (``qdframe.plugin``, ``qdframe`` and plugin
packages using ``lazy_exports``) is an edge to the module that defines it,
since reading it at load time imports that module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _source_roots(root: Path) -> list[tuple[Path, str]]:
    roots = [(root, "qdframe"), (root / "hal", "qdframe_hal")]
    plugins = root / "plugins"
    if plugins.is_dir():
        roots += [(plugins, p.name) for p in sorted(plugins.iterdir()) if p.is_dir()]
    return [(base, pkg) for base, pkg in roots if (base / pkg / "__init__.py").is_file()]


def _modules(roots: list[tuple[Path, str]]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for base, package in roots:
        for path in sorted((base / package).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _load_time(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run when the module loads (not function bodies, not TYPE_CHECKING)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _load_time(node.body)
            yield from _load_time(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _load_time(block)
            for handler in node.handlers:
                yield from _load_time(handler.body)
        elif isinstance(node, ast.With):
            yield from _load_time(node.body)


def _str_dict(node: ast.expr) -> dict[str, str]:
    """A ``{"name": "module"}`` literal, with ``**dict.fromkeys((names...), "module")`` parts."""
    table: dict[str, str] = {}
    if not isinstance(node, ast.Dict):
        return table
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None and isinstance(value, ast.Call) and len(value.args) == 2:
            names, module = value.args
            if isinstance(module, ast.Constant) and isinstance(names, ast.Tuple | ast.List):
                for name in names.elts:
                    if isinstance(name, ast.Constant):
                        table[str(name.value)] = str(module.value)
        elif isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
            table[str(key.value)] = str(value.value)
    return table


def _lazy_table(tree: ast.Module) -> dict[str, str]:
    """Names a module resolves lazily, and the module each comes from."""
    table: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "lazy_exports":
            table.update(_str_dict(value.args[1]) if len(value.args) > 1 else {})
        elif any(getattr(t, "id", "") in ("_LAZY", "_SOURCES") for t in targets):
            table.update(_str_dict(value))
    return table


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = _modules(_source_roots(root))
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in modules.items()}
    lazy = {name: _lazy_table(tree) for name, tree in trees.items()}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, tree in trees.items():
        is_package = modules[name].name == "__init__.py"
        targets: list[str] = []
        for node in _load_time(tree.body):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = name.split(".") if is_package else name.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    module = ".".join([*parts, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                targets.append(module)
                for alias in node.names:
                    if f"{module}.{alias.name}" in modules:
                        targets.append(f"{module}.{alias.name}")
                    elif alias.name in lazy.get(module, {}):
                        targets.append(lazy[module][alias.name])
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                step = ".".join(parts[:i])
                if step in modules and step != name and not name.startswith(step + "."):
                    graph[name].add(step)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(root: str) -> None:
        # Iterative Tarjan: the graph has hundreds of modules.
        nonlocal counter
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, set(c)) for c in components]


def _cycle_in(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    start = min(members)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to the start
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    raise AssertionError("a strongly connected component always has a cycle")


def test_the_code_base_has_no_import_cycles() -> None:
    graph = import_graph(ROOT)
    assert {"qdframe.plugin", "qdframe_hal.capacity", "qdframe_numpy.backend"} <= set(graph)
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_lazy_names_count_as_edges_to_their_module() -> None:
    graph = import_graph(ROOT)
    # qdframe_aer.backend reads MemoryBudget from qdframe.plugin at load time.
    assert "qdframe.backend" in graph["qdframe_aer.backend"]


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_cycle_is_found_and_printed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "qdframe/__init__.py": "",
            "qdframe/a.py": "from qdframe.b import thing\n",
            "qdframe/b.py": "try:\n    from qdframe import c\nexcept ImportError:\n    pass\n",
            "qdframe/c.py": "import qdframe.a\n",
            "hal/qdframe_hal/__init__.py": "from qdframe.d import x\n",
            "qdframe/d.py": "if True:\n    from qdframe_hal import y\n",
        },
    )
    found = cycles(import_graph(root))
    assert found == [
        ["qdframe.a", "qdframe.b", "qdframe.c", "qdframe.a"],
        ["qdframe.d", "qdframe_hal", "qdframe.d"],
    ]


def test_deferred_imports_are_not_cycles(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "qdframe/__init__.py": "from qdframe.a import f\n",
            "qdframe/a.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from qdframe.b import B\n"
                "def f():\n    from qdframe.b import g\n"
            ),
            "qdframe/b.py": "from qdframe.a import f\n",
            "qdframe/sub/__init__.py": "from qdframe.sub.leaf import z\n",
            "qdframe/sub/leaf.py": "from qdframe.sub import other\n",
            "qdframe/sub/other.py": "",
        },
    )
    assert cycles(import_graph(root)) == []


def test_a_cycle_through_a_lazy_name_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "qdframe/__init__.py": "",
            "qdframe/plugin.py": "_SOURCES: dict = {**dict.fromkeys(('Thing',), 'qdframe.core')}\n",
            "qdframe/core.py": "import qdframe_x.helper\n",
            "plugins/qdframe_x/__init__.py": (
                "__getattr__, __dir__ = lazy_exports(__name__, {'helper_fn': 'qdframe_x.helper'})\n"
            ),
            "plugins/qdframe_x/helper.py": "from qdframe.plugin import Thing\n",
        },
    )
    assert cycles(import_graph(root)) == [["qdframe.core", "qdframe_x.helper", "qdframe.core"]]
