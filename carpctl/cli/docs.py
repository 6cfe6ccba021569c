"""`carpctl docs [TOPIC]`: the user guide, from the installed package.

A pip-installed carpctl has no checkout to point at, so the pages ship inside the
package (carpctl/docs, the source tree's docs/) and messages say `carpctl docs
TOPIC` instead of "see docs/". The text is printed as written (Markdown reads well
as plain text, and `| less` works).
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from typing import TYPE_CHECKING

from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

HELP = "print a page of the user guide (without TOPIC: the list of pages)"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("topic", nargs="?", metavar="TOPIC", help="e.g. failover, playbooks, guide")


GUIDE = "guide"   # docs/README.md: the guide's first page and index


def pages() -> dict[str, Traversable]:
    """Topic -> page, in the order of the guide's index: the guide first, then by name."""
    from importlib import resources

    folder = resources.files("carpctl") / "docs"
    found = {(GUIDE if item.name == "README.md" else item.name.rsplit(".", 1)[0]): item
             for item in folder.iterdir() if item.name.endswith((".md", ".yml"))}
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != GUIDE, kv[0])))


def title(page: Traversable) -> str:
    first = page.read_text().splitlines()[0]
    return first.lstrip("# ").strip() if first.startswith("#") else page.name


def run(args: Namespace, out: Output) -> int:
    known = pages()
    if args.topic is None:
        if out.json_mode:
            out.json([{"topic": topic, "title": title(page)} for topic, page in known.items()])
            return EXIT_OK
        out.table(["topic", "page"], [[topic, title(page)] for topic, page in known.items()])
        out.line("carpctl docs TOPIC prints a page")
        return EXIT_OK
    topic = args.topic.removesuffix(".md")
    if topic not in known:
        raise UsageError(f"no page {args.topic!r} in the user guide "
                         f"(topics: {', '.join(known)})")
    text = known[topic].read_text()
    out.stream.write(text if text.endswith("\n") else text + "\n")
    out.stream.flush()
    return EXIT_OK
