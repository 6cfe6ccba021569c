"""Opening a Session from the command line's options."""

from __future__ import annotations

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
        for pair in inventory.select(pairs or []):   # before any node of the run is dialled
            for node in pair.nodes:
                node.refuse_documentation_addresses()
    except BaseException as exc:   # journaled like every failed run
        session.__exit__(type(exc), exc, exc.__traceback__)
        raise
    return session


def terminal_question(out: Output):
    """Ask on the terminal (a `y` or `yes` is yes); without one, every answer is no."""
    def ask(question: str) -> bool:
        if not out.interactive:
            return False
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    return ask


def can_confirm(args: Namespace, out: Output, what: str) -> None:
    """Disruptive steps are confirmed on a terminal or with --yes; a script without
    --yes is refused before anything changes."""
    if not (args.yes or out.interactive):
        raise RefusedError(f"no terminal to confirm the {what} on; nothing changed",
                           hint="pass --yes to run it from a script")


def confirmed(session, args: Namespace, out: Output, what: str, question: str) -> None:
    """Ask `question` once (unless --yes); a no refuses with nothing changed."""
    can_confirm(args, out, what)
    if not session.confirm(question):
        raise RefusedError(f"{what} not confirmed; nothing changed")
