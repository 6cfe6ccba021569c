"""Recursive descent with byacc's error recovery, for the lab's config checkers.

pfctl and relayd are yacc parsers whose only recovery rule is
`ruleset error '\\n'`: after an error they throw tokens away up to the next
newline and carry on, so every broken line is reported. byacc also stays quiet
about a second syntax error until three tokens have been shifted since the
last one, which is why a bad line right after another bad line can produce no
message at all, and why an undefined macro (whose lexer error eats the rest of
its line, newline included) silently swallows the line after it. Blocks
(`relay www { ... }`, inline anchors) have no recovery rule of their own, so an
error inside one unwinds to the top level and the block's remaining lines are
parsed as top-level statements. This module reproduces exactly that, so the
lab reports the same set of lines a real firewall does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn

from .lexer import Lexer, Token


class Fault(Exception):
    """Abandon the statement. `syntax` faults print yacc's `syntax error`."""

    def __init__(self, syntax: bool):
        super().__init__("syntax error" if syntax else "YYERROR")
        self.syntax = syntax


class Accept(Exception):
    """YYACCEPT: stop parsing the file here, successfully."""


class Parser:
    """Token access and recovery shared by the pf.conf and relayd.conf grammars.

    Tokens are lexed only when the grammar looks at them, because lexing has
    side effects a real parser would not have had yet (macro errors, and the
    line number later errors are printed with).
    """

    def __init__(self, lexer: Lexer):
        self.lex = lexer
        self._look: Token | None = None
        self._errflag = 0
        self.taken: list[Token] = []

    # -- looking at tokens --------------------------------------------------
    def peek(self) -> Token:
        if self._look is None:
            self._look = self.lex.next()
        return self._look

    def at(self, kind: str, *values: str) -> bool:
        tok = self.peek()
        return tok.kind == kind and (not values or tok.value in values)

    def at_kw(self, *words: str) -> bool:
        return self.at("kw", *words)

    def advance(self) -> Token:
        """Shift the lookahead."""
        tok = self.peek()
        self._look = None
        if self._errflag:
            self._errflag -= 1
        self.taken.append(tok)
        return tok

    def accept(self, kind: str, *values: str) -> Token | None:
        return self.advance() if self.at(kind, *values) else None

    def accept_kw(self, *words: str) -> str | None:
        tok = self.accept("kw", *words)
        return None if tok is None else str(tok.value)

    def expect(self, kind: str, *values: str) -> Token:
        tok = self.accept(kind, *values)
        if tok is None:
            self.syntax()
        return tok

    def expect_kw(self, *words: str) -> str:
        return str(self.expect("kw", *words).value)

    def string(self) -> str:
        return str(self.expect("string").value)

    def number(self) -> int:
        return int(self.expect("number").value)

    def optnl(self) -> None:
        while self.accept("newline"):
            pass

    def mark(self) -> int:
        return len(self.taken)

    def since(self, mark: int) -> list[Token]:
        return self.taken[mark:]

    # -- errors -------------------------------------------------------------
    def syntax(self) -> NoReturn:
        raise Fault(syntax=True)

    def fail(self, message: str) -> NoReturn:
        """yyerror(message); YYERROR."""
        self.lex.error(message)
        raise Fault(syntax=False)

    def report(self, message: str) -> None:
        """yyerror(message) without leaving the statement."""
        self.lex.error(message)

    # -- the file -----------------------------------------------------------
    def parse_file(self, statement: Callable[[], None]) -> None:
        """`grammar: grammar statement '\\n' | grammar error '\\n'`."""
        while True:
            self.taken = []
            tok = self.peek()
            if tok.kind == "eof":
                return
            try:
                if tok.kind != "newline":
                    statement()
                self.expect("newline")
            except Accept:
                return
            except Fault as fault:
                if fault.syntax and not self._errflag:
                    self.lex.error("syntax error")
                if not self._recover():
                    return

    def _recover(self) -> bool:
        self._errflag = 3
        while True:
            tok = self.peek()
            if tok.kind == "newline":
                self.advance()
                return True
            if tok.kind == "eof":
                return False
            self._look = None


def render(tokens: Iterable[Token]) -> str:
    """Tokens back to config text, spaced the way pfctl prints rules."""
    out = ""
    for tok in tokens:
        text = tok.text()
        glue = tok.kind == "char" and text in "),/>" or out.endswith(("(", "/", "<"))
        if text == "," and tok.kind == "char":
            out += ","
            continue
        out += text if glue or not out else " " + text
    return out
