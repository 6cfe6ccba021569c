"""The shape of the code: carpctl.facts and the API stay cheap to import, and imports point
one way (cli -> flows -> runtime/render -> core -> facts -> remote)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

HEAVY = ("paramiko", "fabric", "invoke", "rich", "jinja2", "yaml", "asyncssh")


def test_importing_the_parsers_loads_no_heavy_dependency():
    probe = (
        "import sys, carpctl.facts; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# -- the direction of imports: cli -> flows -> runtime/render -> core -> facts -> remote -------
PACKAGE = Path(__file__).parents[2] / "carpctl"
LAYERS = {   # a module may import its own layer and the layers below it, never above
    "errors": 0, "inventory": 0,
    "remote": 1,
    "facts": 2,
    "core": 3,
    "render": 4, "runtime": 4,
    "flows": 5,
    "api": 6, "fabric": 6,
    "cli": 7, "tasks": 7, "__main__": 7, "__init__": 0,
}


LAB_COMMANDS = ("carpctl.cli.lab", "carpctl.cli.demo")   # may import carpctl_lab, lazily


def layer(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else "__init__"
    return LAYERS[top]


def imports_of(path: Path) -> dict[str, bool]:
    """Every carpctl (or lab) module a file imports, at the top or inside a function: whether
    only lazily (inside a function)."""
    found: dict[str, bool] = {}

    def visit(node: ast.AST, lazy: bool) -> None:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            found[name] = found.get(name, True) and lazy
        inside = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return {n: lazy for n, lazy in found.items() if n.split(".")[0] in ("carpctl", "carpctl_lab")}


def by_name_only(path: Path) -> list[str]:
    """Imports the rule cannot see: importlib.import_module(...) and __import__(...)."""
    return [ast.unparse(node) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in
            ("import_module", "__import__")]


def wrong_imports(module: str, path: Path, modules: Iterable[str]) -> list[str]:
    """What `module` (at `path`) imports against the rule."""
    wrong = [f"{module} imports by name: {call}" for call in by_name_only(path)]
    for imported, lazy in imports_of(path).items():
        if imported.split(".")[0] == "carpctl_lab":
            if module not in LAB_COMMANDS or not lazy:
                wrong.append(f"{module} imports the lab ({imported})")
        elif imported in modules and imported != "carpctl" and layer(imported) > layer(module):
            wrong.append(f"{module} (layer {layer(module)}) imports {imported} "
                         f"(layer {layer(imported)})")
    return wrong


def product_modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def test_imports_point_one_way_from_the_cli_down_to_the_remote_layer():
    modules = product_modules()
    wrong = [w for module, path in modules.items() for w in wrong_imports(module, path, modules)]
    assert wrong == []


def test_the_layer_rule_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from carpctl.cli.output import Output\n")
    assert "carpctl.cli.output" in imports_of(bad)
    assert layer("carpctl.cli.output") > layer("carpctl.facts.state")


def test_only_the_lab_commands_import_the_lab_and_only_lazily(tmp_path):
    lazy, eager, by_name = (tmp_path / name for name in ("lazy.py", "eager.py", "by_name.py"))
    lazy.write_text("def run():\n    from carpctl_lab import cli\n")
    eager.write_text("from carpctl_lab import cli\n\ndef run():\n    from carpctl_lab import lab\n")
    by_name.write_text("import importlib\n\ndef run():\n    importlib.import_module('carpctl_lab')\n")
    assert wrong_imports("carpctl.cli.lab", lazy, ()) == []
    assert wrong_imports("carpctl.cli.status", lazy, ()) == [
        "carpctl.cli.status imports the lab (carpctl_lab)",
        "carpctl.cli.status imports the lab (carpctl_lab.cli)"]
    assert wrong_imports("carpctl.cli.demo", eager, ()) == [
        "carpctl.cli.demo imports the lab (carpctl_lab)",
        "carpctl.cli.demo imports the lab (carpctl_lab.cli)"]
    assert wrong_imports("carpctl.cli.lab", by_name, ()) == [
        "carpctl.cli.lab imports by name: importlib.import_module('carpctl_lab')"]


# remote is the bottom layer, but only part of it talks SSH: commands.py (the command
# lines), paths.py and batch.py (one script, its output cut back) are pure, and they are all
# that the pure layers (facts, core) may use
PURE_REMOTE = ("commands", "paths", "batch")


def ssh_imports(path: Path) -> list[str]:
    return [name for name in imports_of(path) if name.startswith("carpctl.remote.")
            and name.split(".")[2] not in PURE_REMOTE]


def test_parsers_and_pure_logic_use_only_the_pure_part_of_the_remote_layer(tmp_path):
    modules = product_modules()
    assert [f"{module}: {name}" for module, path in modules.items()
            if module.split(".")[1:2] in (["facts"], ["core"]) for name in ssh_imports(path)] == []
    bad = tmp_path / "bad.py"
    bad.write_text("from carpctl.remote import commands\nfrom carpctl.remote.connection import X\n")
    assert ssh_imports(bad) == ["carpctl.remote.connection", "carpctl.remote.connection.X"]


def test_importing_the_python_api_loads_neither_rich_nor_asyncssh():
    probe = ("import sys, carpctl.api, carpctl.fabric; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'asyncssh')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
