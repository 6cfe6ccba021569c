"""Opening a Session from the command line's options."""

from __future__ import annotations

from argparse import Namespace

from ..output import Output


def open_session(args: Namespace, out: Output, command: str, pairs: list[str] | None = None,
                 *, journal: bool = True):
    """Load the inventory and start the run's journal."""
    from ..history import History
    from ..inventory import load_inventory
    from ..session import Session

    inventory = load_inventory(args.inventory)
    session = Session(inventory, out=out, history=History() if journal else None,
                      accept_new_host_keys=args.accept_new_host_keys, assume_yes=args.yes)
    session.begin(command, pairs or [])
    return session
