"""Opening a Session from the command line's options."""

from __future__ import annotations

import shlex
import sys
from argparse import Namespace

from carpctl.cli.output import Output
from carpctl.errors import RefusedError


def open_session(args: Namespace, out: Output, command: str, pairs: list[str] | None = None,
                 *, journal: bool = True):
    """Load the inventory and start the run's journal."""
    from carpctl.inventory import load_inventory
    from carpctl.runtime.history import History
    from carpctl.runtime.session import Session

    inventory = load_inventory(args.inventory)
    session = Session(inventory, report=out, history=History() if journal else None,
                      accept_new_host_keys=args.accept_new_host_keys,
                      confirm=True if args.yes else terminal_question(out))
    session.begin(command, pairs or [])
    try:
        selected = inventory.select([p for p in pairs or [] if p])
        for pair in selected:   # before any node of the run is dialled
            for node in pair.nodes:
                node.refuse_documentation_addresses()
    except BaseException as exc:   # journaled with its exit code, like any run
        session.__exit__(type(exc), exc, exc.__traceback__)
        raise
    if session.run is not None:
        program = sys.argv[0].endswith(("carpctl", "__main__.py"))
        session.run.describe(
            argv=shlex.join(["carpctl", *sys.argv[1:]]) if program else None,
            options={k: v for k, v in sorted(vars(args).items()) if not callable(v)},
            inventory=str(inventory.source), pairs=[p.name for p in selected],
            read_only=args.command in READ_ONLY or bool(getattr(args, "check", False)))
    return session


READ_ONLY = ("status", "check", "inventory", "history")   # commands that change nothing


def terminal_question(out: Output):
    """Ask the person at the terminal; without one (stdin not a terminal) every answer is no."""
    def ask(question: str) -> bool:
        return out.can_ask and out.ask(question)
    return ask


def can_confirm(args: Namespace, out: Output, what: str) -> None:
    """Disruptive steps are confirmed on a terminal or with --yes; a script without
    --yes is refused before anything changes."""
    if not (args.yes or out.can_ask):
        raise RefusedError(f"no terminal to confirm the {what} on; nothing changed",
                           hint="pass --yes to run it from a script")


def confirmed(session, args: Namespace, out: Output, what: str, question: str) -> None:
    """Ask `question` once (unless --yes); a no refuses with nothing changed."""
    can_confirm(args, out, what)
    if not session.confirm(question):
        raise RefusedError(f"{what} not confirmed; nothing changed")
