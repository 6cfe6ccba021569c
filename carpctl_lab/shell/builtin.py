"""Commands the lab shell runs itself, because they act on the shell's own state.

Everything else, echo and test included, is looked up in the node's Registry,
so the node's hooks see it. Messages follow ksh: `ksh: cd: /x - No such file or
directory`.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..posix.common import EXECUTE, access
from .parse import NAME, ParseError, parse
from .state import LoopControl, ShellExit, home_of

if TYPE_CHECKING:
    from .execute import Shell
    from .redirect import IO

Builtin = Callable[["Shell", list[str], "IO"], int]


def _colon(shell: Shell, argv: list[str], io: IO) -> int:
    return 0


def _cd(shell: Shell, argv: list[str], io: IO) -> int:
    state, fs = shell.state, shell.state.node.fs
    target = argv[1] if len(argv) > 1 else state.vars.get("HOME", home_of(state.user))
    if target == "-":
        target = state.vars.get("OLDPWD", state.cwd)
    path = fs.norm(target, state.cwd)
    problem = (errno.ENOENT if not fs.exists(path) else errno.ENOTDIR if not fs.isdir(path)
               else 0 if access(fs, path, state.user, EXECUTE) else errno.EACCES)
    if problem:
        return shell.report(io, f"cd: {target} - {os.strerror(problem)}")
    state.vars["OLDPWD"], state.vars["PWD"], state.cwd = state.cwd, path, path
    return 0


def _exit(shell: Shell, argv: list[str], io: IO) -> int:
    if len(argv) < 2:
        raise ShellExit(shell.state.status)
    try:
        raise ShellExit(int(argv[1]) & 0xFF)
    except ValueError:
        return shell.report(io, f"exit: {argv[1]}: bad number")


def _export(shell: Shell, argv: list[str], io: IO) -> int:
    state = shell.state
    if len(argv) == 1 or argv[1:] == ["-p"]:
        listing = "".join(f"export {name}={value}\n" for name, value in sorted(state.environ().items()))
        io.write(1, listing.encode())
        return 0
    status = 0
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if not NAME.fullmatch(name):
            status = shell.report(io, f"export: {arg}: is not an identifier")
            continue
        if eq:
            state.vars[name] = value
        state.exported.add(name)
    return status


def _unset(shell: Shell, argv: list[str], io: IO) -> int:
    for name in argv[1:]:
        shell.state.vars.pop(name, None)
        shell.state.exported.discard(name)
    return 0


def _set(shell: Shell, argv: list[str], io: IO) -> int:
    args = argv[1:]
    while args and args[0][:1] in ("-", "+") and args[0] != "--":
        flag = args.pop(0)
        on = flag[0] == "-"
        if flag[1:] == "e":
            shell.state.errexit = on
        elif flag[1:] == "o" and args and args[0] == "pipefail":
            args.pop(0)
            shell.state.pipefail = on
        else:
            return shell.report(io, f"set: {flag}: unknown option")
    if args and args[0] == "--":
        shell.state.params = args[1:]
    elif args:
        shell.state.params = args
    return 0


def _wait(shell: Shell, argv: list[str], io: IO) -> int:
    state = shell.state
    jobs = list(state.children)
    if len(argv) > 1:
        by_pid = {str(job.pid): job for job in state.children}
        missing = [arg for arg in argv[1:] if arg not in by_pid]
        if missing:
            return shell.report(io, f"wait: {missing[0]}: unknown job", 127)
        jobs = [by_pid[arg] for arg in argv[1:]]
    status = 0
    for job in jobs:
        while not job.finished.wait(0.05):
            shell.checkpoint()
        status = job.status or 0
    return status


def _exec(shell: Shell, argv: list[str], io: IO) -> int:
    if len(argv) == 1:
        return 0  # redirections only: the executor applied them to the shell itself
    raise ShellExit(shell.exec_argv(argv[1:], io, shell.state.environ()))


def _eval(shell: Shell, argv: list[str], io: IO) -> int:
    try:
        script = parse(" ".join(argv[1:]), shell.state.line)
    except ParseError as exc:
        return shell.report(io, str(exc))
    return shell.run_list(script, io)


def _umask(shell: Shell, argv: list[str], io: IO) -> int:
    if len(argv) == 1:
        io.write(1, f"{shell.state.umask:03o}\n".encode())
        return 0
    if not re.fullmatch(r"[0-7]{1,4}", argv[1]):
        return shell.report(io, f"umask: {argv[1]}: bad number")
    shell.state.umask = int(argv[1], 8)
    return 0


def _loop_control(shell: Shell, argv: list[str], io: IO) -> int:
    levels = argv[1] if len(argv) > 1 else "1"
    if not levels.isdigit() or int(levels) < 1:
        return shell.report(io, f"{argv[0]}: {levels}: bad number")
    if not shell.loop_depth:
        return shell.report(io, f"{argv[0]}: cannot {argv[0]}")
    raise LoopControl(argv[0], int(levels))


BUILTINS: dict[str, Builtin] = {
    ":": _colon,
    "cd": _cd,
    "exit": _exit,
    "export": _export,
    "unset": _unset,
    "set": _set,
    "wait": _wait,
    "exec": _exec,
    "umask": _umask,
    "eval": _eval,
    "break": _loop_control,
    "continue": _loop_control,
}
