"""The lab shell's parser: command lines as OpenBSD's ksh reads them.

A recursive-descent parser over the lexer in lex.py. The whole line is parsed
before anything runs, so a syntax error runs nothing. Error texts follow
bin/ksh/syn.c: "syntax error: `fi' unexpected", "`if' unmatched", "unexpected EOF".
"""

from __future__ import annotations

import re

from .lex import NAME, Lexer, ParseError, Token
from .syntax import (
    AndOr,
    CmdSub,
    Command,
    For,
    Group,
    HereDoc,
    If,
    Item,
    Lit,
    Loop,
    Pipeline,
    Redirect,
    Script,
    Simple,
    Subshell,
    Word,
)

__all__ = ["NAME", "ParseError", "parse"]

_RESERVED = frozenset({"then", "else", "elif", "fi", "do", "done", "}", "in", "!"})


def parse(text: str, line: int = 1) -> Script:
    """Parse a whole command line or script; raises ParseError."""
    return _Parser(text, line).program()


def _assignment(word: Word) -> tuple[str, Word] | None:
    first = word.parts[0] if word.parts else None
    if not isinstance(first, Lit) or first.quoted:
        return None
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", first.text)
    if not match:
        return None
    rest = first.text[match.end():]
    value = ((Lit(rest, False),) if rest else ()) + word.parts[1:]
    return match.group(1), Word(value)


class _Parser(Lexer):
    def __init__(self, text: str, line: int = 1):
        super().__init__(text, line)
        self.nesting: list[str] = []

    def _unexpected(self, tok: Token) -> ParseError:
        if tok.kind != "eof":
            return ParseError(f"syntax error: `{tok.text()}' unexpected", tok.line)
        if self.nesting:
            return self._error(f"syntax error: `{self.nesting[-1]}' unmatched")
        return self._error("syntax error: unexpected EOF")

    def _substitution(self) -> Script:
        saved = self.tok
        self.tok = None
        self.nesting.append("(")
        body = self.parse_list({")"})
        self._expect(")")
        self.nesting.pop()
        self.tok = saved
        return body

    def _subparse(self, text: str, line: int) -> Script:
        return parse(text, line)

    # -- grammar -----------------------------------------------------------------------
    def program(self) -> Script:
        body = self.parse_list(set())
        if self.peek().kind != "eof":
            raise self._unexpected(self.peek())
        return body

    def _keyword(self) -> str | None:
        tok = self.peek()
        return tok.value.plain() if isinstance(tok.value, Word) else None

    def _at_stop(self, stop: set[str]) -> bool:
        tok = self.peek()
        if tok.kind == "eof":
            return True
        if tok.kind == "op":
            return tok.value in stop
        return self._keyword() in stop

    def _skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.advance()

    def _expect(self, word: str) -> None:
        tok = self.peek()
        found = tok.value if tok.kind == "op" else self._keyword()
        if found == word:
            self.advance()
        else:
            raise self._unexpected(tok)

    def parse_list(self, stop: set[str]) -> Script:
        """Items up to one of `stop` (keywords or `)`); nested lists may not be empty."""
        items: list[Item] = []
        self._skip_newlines()
        while not self._at_stop(stop):
            body = self._and_or()
            tok = self.peek()
            if tok.kind == "op" and tok.value in ("&", ";"):
                self.advance()
            elif tok.kind == "newline":
                self.advance()
            elif not self._at_stop(stop):
                raise self._unexpected(tok)
            items.append(Item(body, tok.value == "&"))
            self._skip_newlines()
        if stop and not items:
            raise self._unexpected(self.peek())
        return Script(tuple(items))

    def _and_or(self) -> AndOr:
        first = self._pipeline()
        rest: list[tuple[str, Pipeline]] = []
        while (tok := self.peek()).kind == "op" and tok.value in ("&&", "||"):
            self.advance()
            self._skip_newlines()
            rest.append((str(tok.value), self._pipeline()))
        return AndOr(first, tuple(rest))

    def _pipeline(self) -> Pipeline:
        negate = self._keyword() == "!"
        if negate:
            self.advance()
        commands = [self._command()]
        while (tok := self.peek()).kind == "op" and tok.value == "|":
            self.advance()
            self._skip_newlines()
            commands.append(self._command())
        return Pipeline(tuple(commands), negate)

    def _command(self) -> Command:
        tok = self.peek()
        keyword = self._keyword()
        if tok.kind == "op" and tok.value == "(":
            self.advance()
            return Subshell(self._enclosed("(", ")"), self._redirs())
        if keyword == "{":
            self.advance()
            return Group(self._enclosed("{", "}"), self._redirs())
        if keyword == "if":
            return self._if()
        if keyword in ("while", "until"):
            self.advance()
            self.nesting.append(keyword)
            cond = self.parse_list({"do"})
            return Loop(cond, self._do_body(), keyword == "until", self._redirs())
        if keyword == "for":
            return self._for()
        if keyword in _RESERVED:
            raise self._unexpected(tok)
        return self._simple()

    def _enclosed(self, opener: str, closer: str) -> Script:
        self.nesting.append(opener)
        body = self.parse_list({closer})
        self._expect(closer)
        self.nesting.pop()
        return body

    def _do_body(self) -> Script:
        """`do LIST done`, closing the loop opened on the nesting stack."""
        self._skip_newlines()
        self._expect("do")
        body = self.parse_list({"done"})
        self._expect("done")
        self.nesting.pop()
        return body

    def _if(self) -> If:
        self.advance()
        self.nesting.append("if")
        branches: list[tuple[Script, Script]] = []
        orelse = None
        while True:
            cond = self.parse_list({"then"})
            self._expect("then")
            branches.append((cond, self.parse_list({"elif", "else", "fi"})))
            keyword = self._keyword()
            if keyword not in ("elif", "else", "fi"):
                raise self._unexpected(self.peek())
            self.advance()
            if keyword == "else":
                orelse = self.parse_list({"fi"})
                self._expect("fi")
            if keyword != "elif":
                break
        self.nesting.pop()
        return If(tuple(branches), orelse, self._redirs())

    def _for(self) -> For:
        self.advance()
        self.nesting.append("for")
        tok = self.advance()
        var = tok.value.plain() if isinstance(tok.value, Word) else None
        if not var or not NAME.fullmatch(var):
            raise self._unexpected(tok)
        self._skip_newlines()
        items = None
        if self._keyword() == "in":
            self.advance()
            words: list[Word] = []
            while isinstance(self.peek().value, Word):
                words.append(self.advance().value)  # type: ignore[arg-type]
            items = tuple(words)
            if self.peek().kind not in ("newline",) and self.peek().value != ";":
                raise self._unexpected(self.peek())
            self.advance()
        elif self.peek().value == ";":
            self.advance()
        return For(var, items, self._do_body(), self._redirs())

    def _redirs(self) -> tuple[Redirect, ...]:
        redirs = []
        while self.peek().kind == "io":
            redirs.append(self._redirect())
        return tuple(redirs)

    def _redirect(self) -> Redirect:
        fd, op = self.advance().value  # type: ignore[misc]
        target = self.advance()
        if not isinstance(target.value, Word):
            raise self._unexpected(target)
        if op in ("<<", "<<-"):
            parts = target.value.parts
            delimiter = "".join(p.text if isinstance(p, Lit) else f"${p.name}"
                                for p in parts if not isinstance(p, CmdSub))
            expand = not any(getattr(p, "quoted", False) for p in parts)
            doc = HereDoc(delimiter, op == "<<-", expand)
            self.heredocs.append(doc)
            return Redirect(fd, "<<", None, doc)
        return Redirect(fd, op, target.value)

    def _simple(self) -> Simple:
        line = self.peek().line
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirs: list[Redirect] = []
        while True:
            tok = self.peek()
            if tok.kind == "io":
                redirs.append(self._redirect())
                continue
            if not isinstance(tok.value, Word):
                break
            self.advance()
            assignment = None if words else _assignment(tok.value)
            if assignment:
                assigns.append(assignment)
            else:
                words.append(tok.value)
        if not (assigns or words or redirs):
            raise self._unexpected(self.peek())
        return Simple(tuple(assigns), tuple(words), tuple(redirs), line)
