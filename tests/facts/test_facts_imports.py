"""The shape of the code: carpctl.facts and the API stay cheap to import, and imports point
one way (cli -> flows -> runtime/render -> core -> facts -> remote)."""

from __future__ import annotations

import ast
import subprocess
import sys
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


def layer(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else "__init__"
    return LAYERS[top]


def imports_of(path: Path) -> set[str]:
    """Every carpctl module a file imports, at the top or inside a function (lazily)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update([node.module] + [f"{node.module}.{a.name}" for a in node.names])
    return {n for n in names if n.split(".")[0] in ("carpctl", "carpctl_lab")}


def product_modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def test_imports_point_one_way_from_the_cli_down_to_the_remote_layer():
    modules = product_modules()
    wrong = []
    for module, path in modules.items():
        for imported in imports_of(path):
            if imported.split(".")[0] == "carpctl_lab":
                wrong.append(f"{module} imports the lab ({imported})")
            elif imported in modules and imported != "carpctl" and \
                    layer(imported) > layer(module):
                wrong.append(f"{module} (layer {layer(module)}) imports {imported} "
                             f"(layer {layer(imported)})")
    assert wrong == []


def test_the_layer_rule_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from carpctl.cli.output import Output\n")
    assert "carpctl.cli.output" in imports_of(bad)
    assert layer("carpctl.cli.output") > layer("carpctl.facts.state")


def test_importing_the_python_api_loads_neither_rich_nor_asyncssh():
    probe = ("import sys, carpctl.api, carpctl.fabric; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'asyncssh')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
