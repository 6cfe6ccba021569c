"""The parsed form of a command line, shared by the lab shell's parser and executor.

Words keep their quoting per part because quoting decides field splitting and
globbing, which happen only when the executor expands a word.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lit:
    text: str
    quoted: bool


@dataclass(frozen=True)
class Param:
    name: str  # NAME, a digit, or one of ? ! $ # @ * -
    quoted: bool


@dataclass(frozen=True)
class CmdSub:
    body: Script
    quoted: bool


Part = Lit | Param | CmdSub


@dataclass(frozen=True)
class Word:
    parts: tuple[Part, ...]

    def plain(self) -> str | None:
        """The text of a word made only of unquoted literals (keywords, names)."""
        if all(isinstance(p, Lit) and not p.quoted for p in self.parts):
            return "".join(p.text for p in self.parts)  # type: ignore[union-attr]
        return None


@dataclass
class HereDoc:
    """Filled by the lexer when it reaches the line after the `<<` operator."""

    delimiter: str
    strip_tabs: bool  # <<- drops leading tabs
    expand: bool  # unquoted delimiter: $VAR and $(...) are expanded in the body
    body: Word | None = None


@dataclass(frozen=True)
class Redirect:
    fd: int
    op: str  # < > >> >| <> >& <& <<
    target: Word | None
    heredoc: HereDoc | None = None


@dataclass(frozen=True)
class Simple:
    assigns: tuple[tuple[str, Word], ...]
    words: tuple[Word, ...]
    redirs: tuple[Redirect, ...]
    line: int


@dataclass(frozen=True)
class Subshell:
    body: Script
    redirs: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class Group:
    body: Script
    redirs: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class If:
    branches: tuple[tuple[Script, Script], ...]  # (condition, body) for if and each elif
    orelse: Script | None
    redirs: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class Loop:
    cond: Script
    body: Script
    until: bool
    redirs: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class For:
    var: str
    items: tuple[Word, ...] | None  # None: iterate over "$@"
    body: Script
    redirs: tuple[Redirect, ...] = ()


Command = Simple | Subshell | Group | If | Loop | For


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...]
    negate: bool = False


@dataclass(frozen=True)
class AndOr:
    first: Pipeline
    rest: tuple[tuple[str, Pipeline], ...] = ()  # ("&&" | "||", pipeline)


@dataclass(frozen=True)
class Item:
    body: AndOr
    background: bool = False


@dataclass(frozen=True)
class Script:
    items: tuple[Item, ...] = field(default_factory=tuple)
