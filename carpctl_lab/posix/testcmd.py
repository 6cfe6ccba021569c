"""test and [: the conditions scripts branch on (bin/test/test.c).

A binary operator is tried before a unary one, so `[ "$x" = -n ]` compares
strings whatever $x holds. Errors exit 2, as test(1) does.
"""

from __future__ import annotations

from ..proc import Proc, Registry
from .common import EXECUTE, READ, WRITE, absolute, access

REGISTRY = Registry()

_BINARY = frozenset({"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
_UNARY = frozenset({"-e", "-f", "-d", "-s", "-r", "-w", "-x", "-n", "-z",
                    "-L", "-h", "-b", "-c", "-p", "-S", "-t"})


class _Syntax(Exception):
    pass


@REGISTRY.command("test", "[")
def test(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            return proc.fail("[: missing ]", 2)
        args = args[:-1]
    try:
        return 0 if _Expression(proc, args).evaluate() else 1
    except _Syntax as exc:
        return proc.fail(f"{argv[0]}: {exc}", 2)


class _Expression:
    def __init__(self, proc: Proc, args: list[str]):
        self.proc = proc
        self.args = args
        self.pos = 0

    def evaluate(self) -> bool:
        if not self.args:
            return False
        result = self._or()
        if self.pos < len(self.args):
            raise _Syntax(f"{self.args[self.pos]}: unexpected operator")
        return result

    def _peek(self, ahead: int = 0) -> str | None:
        i = self.pos + ahead
        return self.args[i] if i < len(self.args) else None

    def _take(self) -> str:
        arg = self._peek()
        if arg is None:
            raise _Syntax("argument expected")
        self.pos += 1
        return arg

    def _or(self) -> bool:
        result = self._and()
        while self._peek() == "-o":
            self.pos += 1
            result = self._and() or result
        return result

    def _and(self) -> bool:
        result = self._not()
        while self._peek() == "-a":
            self.pos += 1
            result = self._not() and result
        return result

    def _not(self) -> bool:
        if self._peek() == "!" and self._peek(1) is not None:
            self.pos += 1
            return not self._not()
        return self._primary()

    def _primary(self) -> bool:
        arg = self._take()
        if arg == "(" and self._peek(1) is not None and self._peek() not in _BINARY:
            result = self._or()
            if self._take() != ")":
                raise _Syntax("closing paren expected")
            return result
        operator = self._peek()
        if operator in _BINARY and self._peek(1) is not None:
            self.pos += 1
            return self._binary(arg, operator, self._take())
        if arg in _UNARY and operator is not None:
            return self._unary(arg, self._take())
        return arg != ""

    def _unary(self, op: str, operand: str) -> bool:
        if op == "-n":
            return operand != ""
        if op == "-z":
            return operand == ""
        fs, user = self.proc.node.fs, self.proc.user
        path = absolute(self.proc, operand)
        if not operand or not fs.exists(path):
            return False
        checks = {
            "-e": lambda: True,
            "-f": lambda: fs.isfile(path),
            "-d": lambda: fs.isdir(path),
            "-s": lambda: fs.stat(path).size > 0,
            "-r": lambda: access(fs, path, user, READ),
            "-w": lambda: access(fs, path, user, WRITE),
            "-x": lambda: access(fs, path, user, EXECUTE),
        }
        return checks.get(op, lambda: False)()  # no links, devices, pipes or ttys

    @staticmethod
    def _binary(left: str, op: str, right: str) -> bool:
        strings = {"=": left == right, "==": left == right, "!=": left != right,
                   "<": left < right, ">": left > right}
        if op in strings:
            return strings[op]
        a, b = _integer(left), _integer(right)
        return {"-eq": a == b, "-ne": a != b, "-lt": a < b,
                "-le": a <= b, "-gt": a > b, "-ge": a >= b}[op]


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _Syntax(f"{text}: bad number") from None
