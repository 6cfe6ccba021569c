"""The tokenizer that pfctl and relayd share, for the lab's config checkers.

Both daemons' parse.y carry the same hand-written lexer, and its quirks decide
which line an error names: a backslash joins lines anywhere outside quotes (and
is dropped before any other character), `$macro` is expanded by pushing its text
back into the input, a newline inside quotes is swallowed, the first end of each
file reads as one extra newline, and an undefined macro skips the rest of the
line and hands the parser an ERROR token. Errors are printed with the line of
the token the lexer read last (`yylval.lineno`), so the lexer keeps that value
as state (`yylineno`) instead of attaching a line to each message after the fact.
Reproducing the machinery is what makes the lab's `FILE:LINE:` agree with a real
firewall on continuation lines, macros and included files.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field

Reader = Callable[[str], str]
"""Returns a file's text or raises OSError, like open() on the node would."""

_START, _DONE = "\x01", "\x02"          # expansion markers, as in parse.y
_SPACE = " \t\n\v\f\r"
_DIGITS = frozenset(string.digits)
_ALNUM = frozenset(string.ascii_letters + string.digits)
_PUNCT = frozenset(string.punctuation)
_NOT_IN_WORD = frozenset("(){}<>!=/#,")
_ENDS_NUMBER = frozenset(_SPACE + "),/}=")
_LLONG = 2**63
_MAX_FILES = 64                            # include depth before "Too many open files"


@dataclass(frozen=True)
class Token:
    """One token. `kind` is string, number, kw, char, op, newline, error or eof."""

    kind: str
    value: str | int = ""
    quoted: bool = False

    def text(self) -> str:
        """The token as a config file would spell it again."""
        if self.kind == "string" and (self.quoted or not self.value):
            return '"' + str(self.value).replace('"', '\\"') + '"'
        return str(self.value)


@dataclass
class _Source:
    name: str
    text: str
    lineno: int
    pos: int = 0
    unget: list[str] = field(default_factory=list)
    eof_reached: bool = False


class Lexer:
    """Streams tokens from a file, following includes the parser asks for.

    `operators` turns on pfctl's two-character comparisons (`!=`, `<=`, `>=`,
    `<>`, `><`); relayd's lexer has none. Errors go to `errors` as
    `FILE:LINE: MESSAGE`; `warn_prefix` is how the program names itself on
    lines that are not tied to a position (`pfctl: `, or nothing for relayd).
    """

    def __init__(self, text: str, filename: str, *, keywords: frozenset[str],
                 operators: bool, read_file: Reader | None, warn_prefix: str):
        self._files = [_Source(filename, text, lineno=1)]
        self._keywords = keywords
        self._operators = operators
        self._read = read_file
        self._warn_prefix = warn_prefix
        self.macros: dict[str, str] = {}
        self.errors: list[str] = []
        self.yylineno = 1
        self._expanding = False

    # -- what the parser uses --------------------------------------------
    @property
    def filename(self) -> str:
        return self._files[-1].name

    def error(self, message: str) -> None:
        """yyerror(): the message at the line the lexer read last."""
        self.errors.append(f"{self.filename}:{self.yylineno}: {message}")

    def warn(self, message: str) -> None:
        """A warn()/log_warn() line: program prefix, no position."""
        self.errors.append(self._warn_prefix + message)

    def read_quiet(self, path: str) -> tuple[str | None, str]:
        """Another file's text, or None and strerror() of why it cannot be read."""
        if len(self._files) >= _MAX_FILES:
            return None, "Too many open files"
        if self._read is None:
            return None, "No such file or directory"
        try:
            return self._read(path), ""
        except OSError as exc:
            return None, exc.strerror or str(exc)

    def push_file(self, path: str) -> bool:
        """`include`: continue in `path` (numbered from its first newline)."""
        text, reason = self.read_quiet(path)
        if text is None:
            self.warn(f"pushfile: {path}: {reason}")
            return False
        self._files.append(_Source(path, text, lineno=0, unget=["\n"]))
        return True

    def next(self) -> Token:
        """yylex()."""
        while True:
            token = self._lex()
            if token is not None:
                return token

    # -- character input (igetc/lgetc/lungetc) ------------------------------
    def _igetc(self) -> str | None:
        src = self._files[-1]
        while True:
            if src.unget:
                c = src.unget.pop()
            elif src.pos < len(src.text):
                c = src.text[src.pos]
                src.pos += 1
            else:
                return None
            if c == _START:
                self._expanding = True
            elif c == _DONE:
                self._expanding = False
            else:
                return c

    def _pop_file(self) -> bool:
        if len(self._files) == 1:
            return False
        self._files.pop()
        return True

    def _getc_quoted(self, quote: str) -> str | None:
        c = self._igetc()
        if c is None:
            self.error("reached end of file while parsing quoted string")
            return quote if self._pop_file() else None
        return c

    def _getc(self) -> str | None:
        while (c := self._igetc()) == "\\":
            nxt = self._igetc()
            if nxt != "\n":
                c = nxt
                break
            src = self._files[-1]
            self.yylineno = src.lineno
            src.lineno += 1
        if c is None:
            src = self._files[-1]
            if not src.eof_reached:
                src.eof_reached = True
                return "\n"
            while c is None:
                if not self._pop_file():
                    return None
                c = self._igetc()
        return c

    def _ungetc(self, c: str | None) -> None:
        if c is not None:
            self._files[-1].unget.append(c)

    def _find_eol(self) -> Token:
        while True:
            c = self._getc()
            if c == "\n":
                self._files[-1].lineno += 1
                break
            if c is None:
                break
        return Token("error")

    # -- tokens -------------------------------------------------------------
    def _lex(self) -> Token | None:
        """One pass of yylex; None means a macro was expanded: start again."""
        c = self._getc()
        while c in (" ", "\t"):
            c = self._getc()
        self.yylineno = self._files[-1].lineno
        if c == "#":
            while (c := self._getc()) not in ("\n", None):
                pass
        if c == "$" and not self._expanding:
            return self._expand_macro()
        if c in ("'", '"'):
            return self._quoted(c)
        if self._operators and c in ("!", "<", ">"):
            op = self._operator(c)
            if op is not None:
                return op
        if c is not None and (c == "-" or c in _DIGITS):
            token = self._number(c)
            if token is not None:
                return token
        if c is not None and (c in _ALNUM or c in ":_"):
            return self._word(c)
        if c == "\n":
            self.yylineno = self._files[-1].lineno
            self._files[-1].lineno += 1
            return Token("newline", "\n")
        if c is None:
            return Token("eof")
        return Token("char", c)

    def _expand_macro(self) -> Token | None:
        name = []
        while True:
            c = self._getc()
            if c is None:
                return Token("eof")
            if c in _ALNUM or c == "_":
                name.append(c)
                continue
            self._ungetc(c)
            break
        value = self.macros.get("".join(name))
        if value is None:
            self.error(f"macro '{''.join(name)}' not defined")
            return self._find_eol()
        unget = self._files[-1].unget
        unget.append(_DONE)
        unget.extend(reversed(value))
        unget.append(_START)
        return None

    def _quoted(self, quote: str) -> Token:
        buf: list[str] = []
        while True:
            c = self._getc_quoted(quote)
            if c is None:
                return Token("eof")
            if c == "\n":
                self._files[-1].lineno += 1
                continue
            if c == "\\":
                nxt = self._getc_quoted(quote)
                if nxt is None:
                    return Token("eof")
                if nxt == quote or nxt in (" ", "\t"):
                    c = nxt
                elif nxt == "\n":
                    self._files[-1].lineno += 1
                    continue
                else:
                    self._ungetc(nxt)
            elif c == quote:
                return Token("string", "".join(buf), quoted=True)
            elif c == "\0":
                self.error("syntax error")
                return self._find_eol()
            buf.append(c)

    def _operator(self, c: str) -> Token | None:
        nxt = self._getc()
        pairs = {"!": {"=": "!="}, "<": {">": "<>", "=": "<="}, ">": {"<": "><", "=": ">="}}
        op = pairs[c].get(nxt or "")
        if op is not None:
            return Token("op", op)
        self._ungetc(nxt)
        return None

    def _number(self, first: str) -> Token | None:
        buf = [first]
        while (c := self._getc()) is not None and c in _DIGITS:
            buf.append(c)
        self._ungetc(c)
        text = "".join(buf)
        if text != "-" and (c is None or c in _ENDS_NUMBER):
            value = int(text)
            if -_LLONG <= value < _LLONG:
                return Token("number", value)
            reason = "too large" if value > 0 else "too small"
            self.error(f'"{text}" invalid number: {reason}')
            return self._find_eol()
        for ch in reversed(buf[1:]):
            self._ungetc(ch)
        return Token("char", "-") if first == "-" else None

    def _word(self, first: str) -> Token:
        buf = [first]
        while (c := self._getc()) is not None and (
                c in _ALNUM or (c in _PUNCT and c not in _NOT_IN_WORD)):
            buf.append(c)
        self._ungetc(c)
        word = "".join(buf)
        return Token("kw" if word in self._keywords else "string", word)
