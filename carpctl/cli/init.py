"""`carpctl init DIR`: a starter inventory and templates, the shipped example's, to edit.

They come from the installed package (carpctl/examples), so a pip-installed
carpctl can start a user off as well as a source checkout. Nothing is ever
overwritten: a file that exists refuses the whole command before anything is
written, so a second `init` cannot destroy an edited inventory.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from pathlib import Path

from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK, UsageError

HELP = "write a starter inventory and templates to edit"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("directory", type=Path, metavar="DIR", help="where to write them")


def starter_files() -> dict[str, bytes]:
    """Relative path in DIR -> content: inventory.yml and templates/*.j2."""
    from importlib import resources

    examples = resources.files("carpctl") / "examples"
    files = {"inventory.yml": (examples / "inventory.yml").read_bytes()}
    for item in sorted((examples / "templates").iterdir(), key=lambda i: i.name):
        if item.name.endswith(".j2"):
            files[f"templates/{item.name}"] = item.read_bytes()
    return files


def run(args: Namespace, out: Output) -> int:
    directory: Path = args.directory
    files = starter_files()
    existing = [directory / name for name in files if (directory / name).exists()]
    if existing:
        raise UsageError(f"{existing[0]} already exists; nothing written (carpctl init never "
                         f"overwrites: choose an empty directory)")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a directory; nothing written")
    for name, content in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    if out.json_mode:
        out.json({"directory": str(directory), "files": list(files)})
    else:
        out.line(f"wrote {', '.join(files)} in {directory}")
        out.note(f"next: put your firewalls' addresses in {directory / 'inventory.yml'}, then "
                 f"`carpctl -i {directory} inventory check`")
    return EXIT_OK
