"""The lab's /bin/ksh: what an SSH exec request runs, as `ksh -c LINE` would.

`run` is the entry point for the SSH server. Commands that run other commands
(sh, nohup, env, doas) use `lookup` and `call`, so they find commands and honour
the node's hooks and lock exactly as the shell does, and `run_shell` to run
shell text (sh -c, scripts).

Supported: quoting, $VAR ${VAR} $? $! $$ $# $@ $* $0-$9, $(...) and `...`,
~ at word start, IFS splitting, globbing of * ? [...] against the node's files,
; && || | ! &, ( ), { }, if/elif/else, while/until, for, break/continue,
redirections < > >> >| <> 2>&1 >&2 >&- << <<-, assignments and prefixes, and the
builtins : cd exit export unset set (-e, -o pipefail, --) wait exec eval umask.
Not supported: case, functions, arithmetic $((...)), ${VAR:-...} and other
parameter operators, read, aliases, job control (fg, bg, %N), set -x.

Simplifications: every command of a line sees the whole stdin of its input
(commands do not consume a shared descriptor); the stages of a pipeline run one
after another; a background job's output goes to the request's streams only
while the request still runs, and is lost after (use nohup ... >file 2>&1 &).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..proc import NodeLike, Proc
from .execute import call, lookup, run_shell
from .state import home_of

__all__ = ["call", "lookup", "run", "run_shell"]

DEFAULT_PATH = "/usr/bin:/bin:/usr/sbin:/sbin:/usr/X11R6/bin:/usr/local/bin:/usr/local/sbin"


def run(node: NodeLike, user: str, line: str, *, stdin: bytes = b"",
        env: Mapping[str, str] | None = None, cwd: str | None = None) -> tuple[int, bytes, bytes]:
    """Run one command line as `user`; returns (exit status, stdout, stderr).

    DropConnection raised by the node's hook (or because the node went down
    while the line ran) propagates. Background jobs keep running after return.
    """
    home = home_of(user)
    if cwd is None:
        cwd = home if node.fs.isdir(home) else "/"
    environ = {"HOME": home, "USER": user, "LOGNAME": user, "SHELL": "/bin/ksh",
               "PATH": DEFAULT_PATH, **(env or {}), "PWD": cwd}
    proc = Proc(node, user, cwd, environ, stdin)
    status = run_shell(proc, line, name="ksh")
    return status, bytes(proc.stdout), bytes(proc.stderr)
