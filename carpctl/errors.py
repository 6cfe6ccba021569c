"""The few errors carpctl raises, each mapped to one documented exit code.

Exit codes (docs/exit-codes.md): 0 done; 1 failed and undone; 2 bad usage or
inventory; 3 refused by a preflight check, nothing changed; 4 failed and could
not be fully undone (a person must look).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNDO_FAILED = 4


class CarpctlError(Exception):
    """Base of every error a user can cause or meet; carries its exit code."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(CarpctlError):
    """Bad command line or inventory: nothing was attempted."""

    exit_code = EXIT_USAGE


class InventoryError(UsageError):
    """An inventory mistake, located by file and by path inside it."""

    def __init__(self, file: str, path: str, problem: str):
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {problem}")
        self.file = file
        self.path = path
        self.problem = problem


class RefusedError(CarpctlError):
    """A preflight check said no; nothing was changed."""

    exit_code = EXIT_REFUSED


class FailedError(CarpctlError):
    """A step failed and what the run changed was undone."""

    exit_code = EXIT_FAILED


class UndoFailedError(CarpctlError):
    """A step failed and the undo did not complete: a person must look."""

    exit_code = EXIT_UNDO_FAILED


class RemoteError(CarpctlError):
    """Talking to a node failed (connect, auth, host key, lost connection)."""

    def __init__(self, node: str, message: str, *, reason: str = "error", hint: str | None = None):
        super().__init__(f"{node}: {message}", hint=hint)
        self.node = node
        self.reason = reason


class ParseError(CarpctlError):
    """A node printed something a parser does not understand."""

    def __init__(self, what: str, line: str | None = None, detail: str = "unexpected output"):
        where = f" in line {line!r}" if line is not None else ""
        super().__init__(f"cannot parse {what} output: {detail}{where}")
        self.what = what
        self.line = line


def error_for(exit_code: int, message: str) -> CarpctlError:
    """The error class that carries `exit_code` (for results reported as codes)."""
    classes = {EXIT_USAGE: UsageError, EXIT_REFUSED: RefusedError,
               EXIT_UNDO_FAILED: UndoFailedError}
    return classes.get(exit_code, FailedError)(message)


def outcome(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message for anything that ended a run: the one mapping
    the CLI, the journal and the Python API share."""
    if isinstance(exc, CarpctlError):
        return exc.exit_code, exc.message
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_FAILED, "interrupted"
    if isinstance(exc, BrokenPipeError):
        return EXIT_FAILED, "output closed before the report was printed"
    return EXIT_FAILED, (f"internal error ({type(exc).__name__}: {exc}); this is a bug in "
                         f"carpctl. Rerun with CARPCTL_DEBUG=1 to see the traceback.")
