"""Processes and identity: sh ksh nohup env kill sleep true false date id whoami
hostname pwd sync.

sh, nohup and env run other commands through the shell's `lookup` and `call`,
so the node's hooks and lock apply to the inner command as well. sleep waits in
short slices through `node.sleep`, so a crash (node.sleep returning False) or a
`kill` of its background job ends it early.
"""

from __future__ import annotations

import re
import signal
import time

from ..fs import USERS
from ..proc import Proc, Registry
from ..shell import jobs as shell_jobs
from ..shell.execute import call, lookup, run_shell
from .common import Usage, absolute, decode, getopt, gid_of, usage

REGISTRY = Registry()

_SLEEP_SLICE = 0.1


def _exec(proc: Proc, prog: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    spec = lookup(proc.node, argv[0], proc.cwd)
    if spec is None:
        return proc.fail(f"{prog}: {argv[0]}: No such file or directory", 127)
    child = Proc(proc.node, proc.user, proc.cwd, proc.env if env is None else env,
                 proc.stdin, proc.stdout, proc.stderr)
    return call(child, spec, argv)


@REGISTRY.command("sh", "ksh", locked=False)
@usage("ksh [-ces] [-c string | -s | file [argument ...]]")
def sh(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    flags = ""
    while args and re.fullmatch(r"-[ces]+", args[0]):
        flags += args.pop(0)[1:]
    if args and args[0] == "--":
        args.pop(0)
    if args and args[0].startswith("-") and args[0] != "-":
        raise Usage(f"{args[0]}: unknown option")
    if "c" in flags:
        if not args:
            return proc.fail(f"{argv[0]}: -c requires an argument")
        return run_shell(proc, args[0], name=args[1] if len(args) > 1 else argv[0],
                         params=tuple(args[2:]), errexit="e" in flags)
    if args and "s" not in flags:
        return _script(proc, argv[0], args, errexit="e" in flags)
    script = Proc(proc.node, proc.user, proc.cwd, proc.env, b"", proc.stdout, proc.stderr)
    return run_shell(script, decode(proc.stdin), name=argv[0], params=tuple(args),
                     errexit="e" in flags)


def _script(proc: Proc, shell: str, args: list[str], *, errexit: bool) -> int:
    """`sh FILE ARGS`: a handler the node registered for FILE, or the file's text."""
    path = absolute(proc, args[0])
    spec = proc.node.registry.get(path)
    if spec is not None:
        return call(proc, spec, args)
    try:
        text = proc.node.fs.read_text(path, proc.user)
    except OSError as exc:
        return proc.fail(f"{shell}: {args[0]}: {exc.strerror}", 127)
    return run_shell(proc, text, name=args[0], script=args[0], params=tuple(args[1:]),
                     errexit=errexit)


@REGISTRY.command("nohup", locked=False)
@usage("nohup utility [argument ...]")
def nohup(proc: Proc, argv: list[str]) -> int:
    _, args = getopt(argv, "")
    if not args:
        raise Usage("")
    return _exec(proc, "nohup", args)


@REGISTRY.command("env", locked=False)
@usage("env [-i] [name=value ...] [utility [argument ...]]")
def env(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "i")
    environ = {} if "i" in opts else dict(proc.env)
    while args and "=" in args[0]:
        name, _, value = args.pop(0).partition("=")
        environ[name] = value
    if not args:
        proc.out("".join(f"{name}={value}\n" for name, value in environ.items()))
        return 0
    return _exec(proc, "env", args, environ)


def _signal_number(name: str) -> int | None:
    if name.isdigit():
        return int(name) if int(name) < signal.NSIG else None
    try:
        return int(signal.Signals["SIG" + name.upper().removeprefix("SIG")])
    except KeyError:
        return None


@REGISTRY.command("kill")
@usage("kill [-s signal_name] pid ...\n       kill -signal_name pid ...\n"
       "       kill -signal_number pid ...")
def kill(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    name = "TERM"
    if args[:1] == ["-s"] and len(args) > 1:
        name, args = args[1], args[2:]
    elif args and args[0].startswith("-") and args[0] != "--":
        name, args = args[0][1:], args[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    signo = _signal_number(name)
    if signo is None:
        return proc.fail(f"kill: unknown signal {name}; valid signals:")
    if not args:
        raise Usage("")
    status = 0
    for pid in args:
        job = shell_jobs.find(proc.node, int(pid)) if pid.isdigit() else None
        if not pid.isdigit():
            status = proc.fail(f"kill: illegal process id: {pid}")
        elif job is None:
            status = proc.fail(f"kill: {pid}: No such process")
        elif not proc.root and job.user != proc.user:
            status = proc.fail(f"kill: {pid}: Operation not permitted")
        elif signo:
            job.kill(signo)
    return status


@REGISTRY.command("sleep", locked=False)
@usage("sleep seconds")
def sleep(proc: Proc, argv: list[str]) -> int:
    _, args = getopt(argv, "")
    if len(args) != 1:
        raise Usage("")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", args[0]):
        return proc.fail(f"sleep: invalid time interval: {args[0]}")
    deadline = time.monotonic() + float(args[0])
    while (left := deadline - time.monotonic()) > 0:
        job = shell_jobs.current()
        if (job is not None and job.stopped()) or not proc.node.sleep(min(left, _SLEEP_SLICE)):
            return shell_jobs.killed_status(job) if job else 1
    return 0


@REGISTRY.command("true")
def true(proc: Proc, argv: list[str]) -> int:
    return 0


@REGISTRY.command("false")
def false(proc: Proc, argv: list[str]) -> int:
    return 1


@REGISTRY.command("sync")
def sync(proc: Proc, argv: list[str]) -> int:
    return 0


@REGISTRY.command("pwd")
def pwd(proc: Proc, argv: list[str]) -> int:
    proc.out(proc.cwd + "\n")
    return 0


def strftime(fmt: str, seconds: float) -> str:
    """strftime(3) in UTC, with %s (epoch seconds) done here, not by the host libc."""
    tm = time.gmtime(seconds)
    return "".join(str(int(seconds)) if token == "%s" else "UTC" if token == "%Z"
                   else time.strftime(token, tm) if token.startswith("%") else token
                   for token in re.split(r"(%.)", fmt) if token)


@REGISTRY.command("date")
@usage("date [-aju] [-f pformat] [-r seconds] [-z output_zone] [+format]\n"
       "            [[[[[[cc]yy]mm]dd]HH]MM[.SS]]")
def date(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "ur:")
    if len(args) > 1 or (args and not args[0].startswith("+")):
        return proc.fail("date: setting the clock is not emulated by the lab")
    try:
        seconds = float(opts["r"]) if "r" in opts else time.time()
    except ValueError:
        return proc.fail(f"date: seconds is invalid: {opts['r']}")
    proc.out(strftime(args[0][1:] if args else "%a %b %e %H:%M:%S %Z %Y", seconds) + "\n")
    return 0


@REGISTRY.command("id")
@usage("id [user]\n       id -G [-n] [user]\n       id -g [-nr] [user]\n"
       "       id -u [-nr] [user]")
def id_(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "Ggnru")
    user = args[0] if args else proc.user
    if user not in USERS:
        return proc.fail(f"id: {user}: no such user")
    uid, group, others = USERS[user]
    groups = [group, *sorted(others - {group}, key=gid_of)]
    names = "n" in opts
    if "u" in opts:
        proc.out(f"{user if names else uid}\n")
    elif "g" in opts:
        proc.out(f"{group if names else gid_of(group)}\n")
    elif "G" in opts:
        proc.out(" ".join(g if names else str(gid_of(g)) for g in groups) + "\n")
    else:
        listing = ", ".join(f"{gid_of(g)}({g})" for g in groups)
        proc.out(f"uid={uid}({user}) gid={gid_of(group)}({group}) groups={listing}\n")
    return 0


@REGISTRY.command("whoami")
def whoami(proc: Proc, argv: list[str]) -> int:
    proc.out(proc.user + "\n")
    return 0


@REGISTRY.command("hostname")
@usage("hostname [-s] [name-of-host]")
def hostname(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "s")
    if args:
        if not proc.root:
            return proc.fail("hostname: sethostname: Operation not permitted")
        proc.node.name = args[0]
        return 0
    name = proc.node.name
    proc.out((name.split(".")[0] if "s" in opts else name) + "\n")
    return 0
