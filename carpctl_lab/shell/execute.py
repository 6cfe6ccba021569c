"""The lab shell's executor: runs a parsed command line on a node as one user.

Pipelines run their stages one after the other, each reading the bytes the
previous one wrote; that is enough for the short commands an orchestration tool
sends and keeps every command's effects in a clear order. Every simple command
first checks that its job was not killed and its node did not go down.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
from collections.abc import Iterator
from functools import partial

from ..fs import USERS
from ..posix.common import EXECUTE, access, decode, encode
from ..proc import CommandSpec, DropConnection, NodeLike, Proc
from . import jobs as jobs
from .builtin import BUILTINS
from .expand import DEFAULT_IFS, Fields, glob
from .parse import ParseError, parse
from .redirect import IO, BufferSink, NullSink, Opener, RedirectError, apply, redirect
from .state import JobStopped, LoopControl, ShellExit, State, home_of
from .syntax import (
    AndOr,
    CmdSub,
    Command,
    For,
    Group,
    If,
    Lit,
    Loop,
    Param,
    Pipeline,
    Redirect,
    Script,
    Simple,
    Subshell,
    Word,
)

BIN_DIRS = frozenset({"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"})


def lookup(node: NodeLike, name: str, cwd: str = "/") -> CommandSpec | None:
    """The command `name` runs: a registered one, or a script file of the node.

    A path in one of the usual bin directories finds the registered basename; the
    registry may also hold handlers under a full path (e.g. "/etc/netstart").
    """
    if "/" not in name:
        return node.registry.get(name)
    path = node.fs.norm(name, cwd)
    directory, base = posixpath.split(path)
    spec = ((node.registry.get(base) if directory in BIN_DIRS else None)
            or node.registry.get(name) or node.registry.get(path))
    if spec is None and node.fs.isfile(path):
        spec = CommandSpec(partial(_exec_script, path), locked=False)
    return spec


def call(proc: Proc, spec: CommandSpec, argv: list[str]) -> int:
    """Run a command as the node wants it: after its fault hook, under its lock."""
    proc.node.before_command(proc, argv)
    if not spec.locked:
        return spec.func(proc, argv)
    with proc.node.lock:
        return spec.func(proc, argv)


def run_shell(proc: Proc, text: str, *, name: str, script: str | None = None,
              params: tuple[str, ...] = (), errexit: bool = False) -> int:
    """Parse and run `text` as a shell started by `proc`, writing to its streams."""
    io = IO(proc.stdin, {1: BufferSink(proc.stdout), 2: BufferSink(proc.stderr)})
    outer = jobs.current()
    job = outer or jobs.new_job(proc.node, proc.user, background=False)
    state = State(node=proc.node, user=proc.user, cwd=proc.cwd, vars=dict(proc.env),
                  exported=set(proc.env), params=list(params), name=name, job=job,
                  pid=jobs.new_pid(proc.node) if outer else job.pid, script=script,
                  errexit=errexit)
    try:
        tree = parse(text)
    except ParseError as exc:
        state.line = exc.line
        io.write(2, encode(f"{state.prefix()}{exc}\n"))
        return 1
    with jobs.running(job):
        return Shell(state).run_subshell(tree, io)


def _exec_script(path: str, proc: Proc, argv: list[str]) -> int:
    fs = proc.node.fs
    try:
        if not access(fs, path, proc.user, EXECUTE):
            raise OSError(errno.EACCES, path)
        text = fs.read_text(path, proc.user)
    except OSError as exc:
        return proc.fail(f"ksh: {argv[0]}: cannot execute - {os.strerror(exc.errno)}", 126)
    return run_shell(proc, text, name=argv[0], script=argv[0], params=tuple(argv[1:]))


class Shell:
    """Runs lists, pipelines and commands against one State (one shell process)."""

    def __init__(self, state: State, cond_depth: int = 0):
        self.state = state
        self.cond_depth = cond_depth  # > 0 inside if/while conditions and && || left sides
        self.loop_depth = 0
        self.substitution_status: int | None = None

    def subshell(self) -> Shell:
        return Shell(self.state.copy(), self.cond_depth)

    def report(self, io: IO, message: str, status: int = 1) -> int:
        io.write(2, encode(f"{self.state.prefix()}{message}\n"))
        return status

    def checkpoint(self) -> None:
        job = self.state.job
        if not job.stopped():
            return
        if job.background or job.killed.is_set():
            raise JobStopped
        raise DropConnection(f"{self.state.node.name} went down")

    # -- lists ------------------------------------------------------------------
    def run_subshell(self, script: Script, io: IO) -> int:
        try:
            return self.run_list(script, io)
        except ShellExit as exc:
            return exc.status

    def run_list(self, script: Script, io: IO) -> int:
        status = 0
        for item in script.items:
            if item.background:
                status = self._background(item.body, io)
                continue
            status = self._and_or(item.body, io)
            if status and self.state.errexit and not self.cond_depth:
                raise ShellExit(status)
        return status

    @contextlib.contextmanager
    def _condition(self) -> Iterator[None]:
        self.cond_depth += 1
        try:
            yield
        finally:
            self.cond_depth -= 1

    def _and_or(self, body: AndOr, io: IO) -> int:
        chain = [("", body.first), *body.rest]
        status = 0
        for i, (op, pipeline) in enumerate(chain):
            if op and (status == 0) != (op == "&&"):
                continue
            if i < len(chain) - 1:
                with self._condition():
                    status = self._pipeline(pipeline, io)
            else:
                status = self._pipeline(pipeline, io)
        return status

    def _pipeline(self, pipeline: Pipeline, io: IO) -> int:
        if pipeline.negate:
            with self._condition():
                status = int(not self._stages(pipeline.commands, io))
        else:
            status = self._stages(pipeline.commands, io)
        self.state.status = status
        return status

    def _stages(self, commands: tuple[Command, ...], io: IO) -> int:
        if len(commands) == 1:
            return self._command(commands[0], io)
        data, statuses = io.stdin, []
        for command in commands[:-1]:
            pipe = BufferSink()
            statuses.append(self.subshell()._command_in_subshell(command, IO(data, {**io.fds, 1: pipe})))
            data = bytes(pipe.buffer)
        statuses.append(self.subshell()._command_in_subshell(commands[-1], IO(data, dict(io.fds))))
        if self.state.pipefail:
            return next((s for s in reversed(statuses) if s), 0)
        return statuses[-1]

    def _command_in_subshell(self, command: Command, io: IO) -> int:
        try:
            return self._command(command, io)
        except ShellExit as exc:
            return exc.status

    def _background(self, body: AndOr, io: IO) -> int:
        job = jobs.new_job(self.state.node, self.state.user, background=True)
        state = self.state.copy()
        state.job = job
        shell = Shell(state)
        jobs.start(job, partial(shell._run_job, body, IO(b"", dict(io.fds))))
        self.state.last_background = str(job.pid)
        self.state.children.append(job)
        return 0

    def _run_job(self, body: AndOr, io: IO) -> int:
        try:
            return self._and_or(body, io)
        except ShellExit as exc:
            return exc.status
        except (JobStopped, DropConnection):
            return jobs.killed_status(self.state.job)

    # -- commands ------------------------------------------------------------------
    def _command(self, command: Command, io: IO) -> int:
        if isinstance(command, Simple):
            return self._simple(command, io)
        try:
            io = self._redirect(io, command.redirs)
        except RedirectError as exc:
            return self.report(io, str(exc))
        if isinstance(command, Subshell):
            return self.subshell().run_subshell(command.body, io)
        if isinstance(command, Group):
            return self.run_list(command.body, io)
        if isinstance(command, If):
            return self._if(command, io)
        if isinstance(command, Loop):
            return self._loop(self._while(command, io), command.body, io)
        return self._loop(self._for(command, io), command.body, io)

    def _if(self, command: If, io: IO) -> int:
        for cond, body in command.branches:
            with self._condition():
                matched = self.run_list(cond, io) == 0
            if matched:
                return self.run_list(body, io)
        return self.run_list(command.orelse, io) if command.orelse else 0

    def _while(self, command: Loop, io: IO) -> Iterator[None]:
        while True:
            with self._condition():
                succeeded = self.run_list(command.cond, io) == 0
            if succeeded == command.until:
                return
            yield

    def _for(self, command: For, io: IO) -> Iterator[None]:
        items = (self.expand_fields(command.items, io) if command.items is not None
                 else list(self.state.params))
        for item in items:
            self.state.vars[command.var] = item
            yield

    def _loop(self, iterations: Iterator[None], body: Script, io: IO) -> int:
        status = 0
        self.loop_depth += 1
        try:
            for _ in iterations:
                try:
                    status = self.run_list(body, io)
                except LoopControl as ctl:
                    if ctl.levels > 1:
                        raise LoopControl(ctl.kind, ctl.levels - 1) from None
                    if ctl.kind == "break":
                        break
        finally:
            self.loop_depth -= 1
        return status

    def _redirect(self, io: IO, redirs: tuple[Redirect, ...], *, in_place: bool = False) -> IO:
        state = self.state
        opener = Opener(state.node.fs, state.user, state.cwd, state.umask,
                        partial(self.expand_text, io=io))
        if in_place:
            apply(io, redirs, opener)
            return io
        return redirect(io, redirs, opener)

    def _simple(self, command: Simple, io: IO) -> int:
        self.state.line = command.line
        self.checkpoint()
        self.substitution_status = None
        argv = self.expand_fields(command.words, io)
        try:
            cio = self._redirect(io, command.redirs, in_place=argv == ["exec"])
        except RedirectError as exc:
            return self.report(io, str(exc))
        if not argv:
            for name, word in command.assigns:
                self.state.vars[name] = self.expand_text(word, io)
            return self.substitution_status or 0
        assigns = {name: self.expand_text(word, io) for name, word in command.assigns}
        builtin = BUILTINS.get(argv[0])
        if builtin:
            self.state.vars.update(assigns)
            return builtin(self, argv, cio)
        return self.exec_argv(argv, cio, self.state.environ() | assigns)

    def exec_argv(self, argv: list[str], io: IO, env: dict[str, str]) -> int:
        state = self.state
        spec = lookup(state.node, argv[0], state.cwd)
        if spec is None:
            return self.report(io, f"{argv[0]}: not found", 127)
        proc = Proc(state.node, state.user, state.cwd, env, io.stdin)
        status = call(proc, spec, argv)
        for fd, data in ((1, proc.stdout), (2, proc.stderr)):
            try:
                if data:
                    io.fds.get(fd, NullSink()).write(bytes(data))
            except OSError as exc:
                io.write(2, encode(f"{argv[0]}: {('stdout', 'stderr')[fd - 1]}: "
                                   f"{os.strerror(exc.errno)}\n"))
                status = status or 1
        return status

    # -- expansion ------------------------------------------------------------------
    def expand_fields(self, words: tuple[Word, ...], io: IO) -> list[str]:
        """Words as command arguments: expanded, split on IFS, globbed."""
        state = self.state
        fields: list[str] = []
        for word in words:
            builder = Fields(state.vars.get("IFS", DEFAULT_IFS))
            self._feed(builder, word, io, split=True)
            builder.end()
            for text, pattern in builder.done:
                matches = glob(state.node.fs, state.user, state.cwd, pattern) if pattern else []
                fields.extend(matches or [text])
        return fields

    def expand_text(self, word: Word, io: IO) -> str:
        """One word as one string: assignments, redirection targets, here-documents."""
        builder = Fields("")
        self._feed(builder, word, io, split=False)
        builder.end()
        return builder.done[0][0] if builder.done else ""

    def _feed(self, fields: Fields, word: Word, io: IO, *, split: bool) -> None:
        for i, part in enumerate(word.parts):
            if isinstance(part, Lit):
                if i == 0 and not part.quoted and part.text.startswith("~"):
                    self._tilde(fields, part.text)
                else:
                    fields.add(part.text, quoted=part.quoted)
                continue
            if isinstance(part, Param) and part.name in ("@", "*") and split:
                self._positional(fields, part)
                continue
            value = (self._param(part.name) if isinstance(part, Param)
                     else self._substitute(part, io))
            if part.quoted or not split:
                fields.add(value, quoted=True)
            else:
                fields.split(value)

    def _tilde(self, fields: Fields, text: str) -> None:
        user, slash, rest = text[1:].partition("/")
        home = (self.state.vars.get("HOME", home_of(self.state.user)) if not user
                else home_of(user) if user in USERS else None)
        if home is None:
            fields.add(text, quoted=False)
            return
        fields.add(home, quoted=True)
        fields.add(slash + rest, quoted=False)

    def _positional(self, fields: Fields, part: Param) -> None:
        params = self.state.params
        if part.quoted and part.name == "*":
            fields.add(self.state.vars.get("IFS", DEFAULT_IFS)[:1].join(params), quoted=True)
            return
        for i, param in enumerate(params):
            if i:
                fields.end()
            if part.quoted:
                fields.add(param, quoted=True)
            else:
                fields.split(param)

    def _param(self, name: str) -> str:
        state = self.state
        special = {"?": str(state.status), "!": state.last_background, "$": str(state.pid),
                   "#": str(len(state.params)), "0": state.name, "-": "e" if state.errexit else "",
                   "@": " ".join(state.params), "*": " ".join(state.params)}
        if name in special:
            return special[name]
        if name.isdigit():
            index = int(name)
            return state.params[index - 1] if index <= len(state.params) else ""
        return state.vars.get(name, "")

    def _substitute(self, part: CmdSub, io: IO) -> str:
        out = BufferSink()
        status = self.subshell().run_subshell(part.body, IO(b"", {1: out, 2: io.fds.get(2, NullSink())}))
        self.substitution_status = status
        return decode(out.buffer).rstrip("\n")
