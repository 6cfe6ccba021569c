"""carpctl's commands as an invoke Collection, for your own tasks.py or fabfile.py.

    from invoke import Collection
    import carpctl.tasks

    ns = Collection()
    ns.add_collection(carpctl.tasks.ns, "carp")
    ns.configure({"carpctl": {"inventory": "inventory/"}})

    $ inv carp.status
    $ inv carp.failover --pair pair1 --to peer --yes
    $ fab carp.deploy --pair pair1 --check

Settings are read from invoke's configuration under `carpctl` (the Collection's
configure(), invoke.yaml, INVOKE_CARPCTL_INVENTORY=...): `inventory`, `yes`, `json`,
`accept_new_host_keys`. A task does what the carpctl command of the same name does:
the same checks, confirmation, journal, output and undo on Ctrl-C and on SIGTERM; a
failure prints the command's one-line message and exits with its exit code
(docs/exit-codes.md), never with a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

from invoke import Collection, Context, Exit, task

SETTINGS = {"inventory": None, "yes": False, "json": False, "accept_new_host_keys": False}


def _carpctl(c: Context, *argv: str, yes: bool = False) -> None:
    """Run `carpctl ARGV` in this process with the configured options; exit on failure."""
    from carpctl.cli import main
    from carpctl.runtime.signals import terminating

    settings = {**SETTINGS, **dict(c.config.get("carpctl", {}))}
    options = ["-i", str(settings["inventory"])] if settings["inventory"] else []
    options += [f"--{name.replace('_', '-')}" for name in ("json", "accept_new_host_keys")
                if settings[name]]
    if yes or settings["yes"]:
        options.append("--yes")
    with terminating():
        code = main([*argv, *options])
    if code:
        raise Exit(code=code)


def _flags(**flags: object) -> list[str]:
    """`--name VALUE` for options that are set, `--name` for true booleans."""
    words: list[str] = []
    for name, value in flags.items():
        option = f"--{name.replace('_', '-')}"
        if value is True:
            words.append(option)
        elif isinstance(value, (list, tuple)):
            for item in value:
                words += [option, str(item)]
        elif value not in (None, False):
            words += [option, str(value)]
    return words


@task(iterable=["pair"], help={"pair": "a pair to read (repeatable; default: all)"})
def status(c, pair: Iterable[str] = ()) -> None:
    """Health of every node and a verdict per pair; exits 1 unless every pair is healthy."""
    _carpctl(c, "status", *pair)


@task(iterable=["pair", "only"],
      help={"pair": "a pair to deploy (repeatable)", "check": "validate and diff only",
            "only": "pf, relayd or a destination (repeatable)"})
def deploy(c, pair: Iterable[str] = (), check=False, diff=False, only: Iterable[str] = (),
           handoff=False, hand_back=False, confirm_timeout=None, parallel=None,
           fail_fast=False, break_lock=False, yes=False) -> None:
    """Render, validate on the nodes, back up, install, apply and verify, BACKUP first."""
    _carpctl(c, "deploy", *pair, *_flags(check=check, diff=diff, only=list(only),
                                          handoff=handoff, hand_back=hand_back,
                                          confirm_timeout=confirm_timeout, parallel=parallel,
                                          fail_fast=fail_fast, break_lock=break_lock), yes=yes)


@task
def rollback(c, pair, node=None, to=None, break_lock=False, yes=False) -> None:
    """Put back the files a deploy replaced (the last one, or run --to RUN)."""
    _carpctl(c, "rollback", pair, *_flags(node=node, to=to, break_lock=break_lock), yes=yes)


@task(help={"to": "`peer` (the node that is not MASTER) or a node's name"})
def failover(c, pair=None, to="peer", method=None, timeout=None, keep_demoted=False,
             force=False, break_lock=False, yes=False) -> None:
    """Hand MASTER to the other node, verified, undone on failure."""
    _carpctl(c, "failover", *([pair] if pair else []),
             *_flags(to=to, method=method, timeout=timeout, keep_demoted=keep_demoted,
                     force=force, break_lock=break_lock), yes=yes)


@task(name="enter")
def maintenance_enter(c, pair, node, break_lock=False, yes=False) -> None:
    """Move MASTER away from NODE and keep it out of MASTER, across reboots."""
    _carpctl(c, "maintenance", "enter", pair, node, *_flags(break_lock=break_lock), yes=yes)


@task(name="exit")
def maintenance_exit(c, pair, node, failback=False, break_lock=False, yes=False) -> None:
    """Undo maintenance exactly; --failback hands MASTER back to NODE."""
    _carpctl(c, "maintenance", "exit", pair, node,
             *_flags(failback=failback, break_lock=break_lock), yes=yes)


@task(iterable=["pair"])
def run(c, playbook=None, pair: Iterable[str] = (), check=False, resume=None, break_lock=False,
        yes=False) -> None:
    """A maintenance window from a playbook (--check: the plan only)."""
    _carpctl(c, "run", *([playbook] if playbook else []), *pair,
             *_flags(check=check, resume=resume, break_lock=break_lock), yes=yes)


maintenance = Collection("maintenance", maintenance_enter, maintenance_exit)
ns = Collection(status, deploy, rollback, failover, run, maintenance)
ns.configure({"carpctl": dict(SETTINGS)})
