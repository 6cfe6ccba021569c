"""The lab shell's lexer: words with their quoting, operators, here-documents.

`$(...)` and backquotes hold whole command lists, so the lexer hands them back
to the parser (`_substitution`, `_subparse`), which is a subclass of it. Error
texts follow bin/ksh/lex.c: "no closing quote", "here document `EOF' unclosed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .syntax import CmdSub, HereDoc, Lit, Param, Part, Script, Word

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SPECIAL_PARAMS = "?!$#@*-"
_META = frozenset(" \t\n;&|()<>")
_OPERATORS = ("&&", "||", ";;", ";", "&", "|", "(", ")")


class ParseError(Exception):
    """A message as ksh prints it after its "ksh: " prefix, and the line it is on."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Token:
    kind: str  # word | op | io | newline | eof
    value: object  # Word, operator text, or (fd, operator) for io
    line: int

    def text(self) -> str:
        if isinstance(self.value, Word):
            return "".join(p.text if isinstance(p, Lit) else "$" for p in self.value.parts)
        if self.kind == "io":
            return self.value[1]  # type: ignore[index]
        return "newline" if self.kind == "newline" else str(self.value)


def merge_parts(parts: list[Part]) -> tuple[Part, ...]:
    merged: list[Part] = []
    for part in parts:
        last = merged[-1] if merged else None
        if isinstance(part, Lit) and isinstance(last, Lit) and last.quoted == part.quoted:
            merged[-1] = Lit(last.text + part.text, part.quoted)
        else:
            merged.append(part)
    return tuple(merged)


class Lexer:
    """Characters to tokens, one token of lookahead."""

    def __init__(self, text: str, line: int = 1):
        self.src = text
        self.pos = 0
        self.line = line
        self.tok: Token | None = None
        self.heredocs: list[HereDoc] = []

    def _substitution(self) -> Script:
        """The list inside $( ... ), read in place up to the closing `)`."""
        raise NotImplementedError

    def _subparse(self, text: str, line: int) -> Script:
        """A command list given as text (the inside of backquotes)."""
        raise NotImplementedError

    def _error(self, message: str) -> ParseError:
        return ParseError(message, self.line)

    # -- characters -------------------------------------------------------------
    def _peekc(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.src[i] if i < len(self.src) else ""

    def _getc(self) -> str:
        c = self._peekc()
        if c:
            self.pos += 1
            self.line += c == "\n"
        return c

    # -- tokens -------------------------------------------------------------------
    def peek(self) -> Token:
        if self.tok is None:
            self.tok = self._lex()
        return self.tok

    def advance(self) -> Token:
        tok = self.peek()
        self.tok = None
        return tok

    def _lex(self) -> Token:
        while True:
            c = self._peekc()
            if c in (" ", "\t"):
                self._getc()
            elif c == "\\" and self._peekc(1) == "\n":
                self._getc(), self._getc()
            elif c == "#":
                while self._peekc() not in ("", "\n"):
                    self._getc()
            else:
                break
        line = self.line
        if c == "":
            self._read_heredocs()
            return Token("eof", "", line)
        if c == "\n":
            self._getc()
            self._read_heredocs()
            return Token("newline", "\n", line)
        if c.isdigit() and self._peekc(1) in ("<", ">"):
            self._getc()
            return self._io(int(c), line)
        if c in "<>":
            return self._io(None, line)
        for op in _OPERATORS:
            if self.src.startswith(op, self.pos):
                self.pos += len(op)
                return Token("op", op, line)
        return Token("word", self._word(), line)

    def _io(self, fd: int | None, line: int) -> Token:
        c = self._getc()
        nxt = self._peekc()
        op = c
        if c == ">" and nxt in (">", "&", "|"):
            op += self._getc()
        elif c == "<" and nxt in ("<", "&", ">"):
            op += self._getc()
            if op == "<<" and self._peekc() == "-":
                op += self._getc()
        return Token("io", (fd if fd is not None else int(c == ">"), op), line)

    # -- words ----------------------------------------------------------------------
    def _word(self) -> Word:
        parts: list[Part] = []
        while (c := self._peekc()) and c not in _META:
            self._getc()
            if c == "\\":
                escaped = self._getc()
                if escaped and escaped != "\n":
                    parts.append(Lit(escaped, True))
            elif c == "'":
                end = self.src.find("'", self.pos)
                if end < 0:
                    raise self._error("no closing quote")
                text = self.src[self.pos:end]
                self.line += text.count("\n")
                self.pos = end + 1
                parts.append(Lit(text, True))
            elif c == '"':
                parts.extend(self._dquoted(heredoc=False))
            elif c == "$":
                parts.append(self._dollar(quoted=False))
            elif c == "`":
                parts.append(self._backquote(quoted=False))
            else:
                parts.append(Lit(c, False))
        return Word(merge_parts(parts))

    def _dquoted(self, *, heredoc: bool) -> list[Part]:
        """The inside of "...", or a here-document body (where `"` is plain)."""
        parts: list[Part] = [Lit("", True)]
        escapable = "$`\\\n" if heredoc else "$`\\\n\""
        while True:
            c = self._getc()
            if c == "":
                if heredoc:
                    return parts
                raise self._error("no closing quote")
            if c == '"' and not heredoc:
                return parts
            if c == "\\" and self._peekc() and self._peekc() in escapable:
                escaped = self._getc()
                if escaped != "\n":
                    parts.append(Lit(escaped, True))
            elif c == "$":
                parts.append(self._dollar(quoted=True))
            elif c == "`":
                parts.append(self._backquote(quoted=True))
            else:
                parts.append(Lit(c, True))

    def _dollar(self, *, quoted: bool) -> Part:
        c = self._peekc()
        if c == "(":
            if self._peekc(1) == "(":
                raise self._error("$((: arithmetic expansion is not supported by the lab shell")
            self._getc()
            return CmdSub(self._substitution(), quoted)
        if c == "{":
            end = self.src.find("}", self.pos)
            name = self.src[self.pos + 1:end] if end > 0 else self.src[self.pos + 1:]
            if end < 0 or not (NAME.fullmatch(name) or name.isdigit()
                               or (len(name) == 1 and name in SPECIAL_PARAMS)):
                raise self._error(f"${{{name}}}: bad substitution")
            self.pos = end + 1
            return Param(name, quoted)
        if c and (c in SPECIAL_PARAMS or c.isdigit()):
            self._getc()
            return Param(c, quoted)
        match = NAME.match(self.src, self.pos)
        if match:
            self.pos = match.end()
            return Param(match.group(), quoted)
        return Lit("$", quoted)

    def _backquote(self, *, quoted: bool) -> CmdSub:
        line = self.line
        text: list[str] = []
        while (c := self._getc()) != "`":
            if c == "":
                raise self._error("no closing quote")
            if c == "\\":
                escaped = self._getc()
                keep = escaped in ("$", "`", "\\") or (quoted and escaped == '"')
                text.append(escaped if keep else "\\" + escaped)
            else:
                text.append(c)
        return CmdSub(self._subparse("".join(text), line), quoted)

    def _read_heredocs(self) -> None:
        for doc in self.heredocs:
            lines: list[str] = []
            while True:
                if self.pos >= len(self.src):
                    raise self._error(f"here document `{doc.delimiter}' unclosed")
                end = self.src.find("\n", self.pos)
                end = len(self.src) if end < 0 else end
                raw = self.src[self.pos:end]
                self.pos = end + 1
                self.line += 1
                if doc.strip_tabs:
                    raw = raw.lstrip("\t")
                if raw == doc.delimiter:
                    break
                lines.append(raw + "\n")
            body = "".join(lines)
            doc.body = (Word(merge_parts(type(self)(body).heredoc_parts())) if doc.expand
                        else Word((Lit(body, True),)))
        self.heredocs = []

    def heredoc_parts(self) -> list[Part]:
        return self._dquoted(heredoc=True)
