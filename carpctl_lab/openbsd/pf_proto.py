"""Does the loaded pf ruleset pass a CARP or pfsync packet on an interface?

The second question the lab asks pf (pf_ssh.py asks the first, about SSH). A
node whose rules block `proto carp` on a carpdev neither sends nor hears
advertisements there; rules that block `proto pfsync` on the syncdev stop state
sync. The packet is `proto carp|pfsync`, IPv4, going `in` or `out` on one
physical interface, and these are the rule parts that decide, on the one-line
rules `pfctl -sr` prints (carpctl_lab.conf.pf.PfRuleset.rules):

- `pass` or `block` (`match` and anchors decide nothing here), last match wins
  unless a matching rule is `quick`, no matching rule passes;
- `in`, `out` or neither (both directions);
- `on IF` or `on ! IF` (pfctl expands `on { a b }` into one rule each), where IF
  is the interface or a group it belongs to (`egress`, ...);
- `proto P` (pfctl expands lists), no proto matching every protocol; `inet6`
  rules never match;
- `received-on`: locally sent packets match `! received-on any` only.

Addresses, ports, states and tags are not checked: a rule that names addresses
counts as matching. `set skip on IF` (or a group of IF) passes everything on IF,
and pf disabled passes everything. Whether pf sees an advertisement on the
carpdev or on the carpN interface itself is not settled by the source read for
the lab (carp_input hands multicast copies to carpN); the lab decides on the
carpdev, as the source material's `pass on { em0 em1 } proto carp` expects.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

_HEAD_END = frozenset({"on", "inet", "inet6", "proto", "from", "to", "all"})


def proto_passes(pf, proto: str, direction: str, dev: str, groups: Iterable[str] = ()) -> bool:
    """Whether the node's pf (its PfState) passes `proto` going `direction` on `dev`.

    `groups` are the interface groups `dev` belongs to.
    """
    if not pf.enabled or pf.ruleset is None:
        return True
    names = (dev, *groups)
    return _passes(tuple(pf.ruleset.rules), tuple(pf.ruleset.options), proto, direction, names)


@lru_cache(maxsize=1024)
def _passes(rules: tuple[str, ...], options: tuple[str, ...], proto: str, direction: str,
            names: tuple[str, ...]) -> bool:
    if any(_skipped(option, names) for option in options):
        return True
    decision = True
    for rule in rules:
        words = rule.split()
        if not words or words[0] not in ("pass", "block") \
                or not _matches(words, proto, direction, names):
            continue
        decision = words[0] == "pass"
        if "quick" in words[:_head_end(words)]:
            break
    return decision


def _skipped(option: str, names: tuple[str, ...]) -> bool:
    words = option.replace("{", " ").replace("}", " ").split()
    return words[:3] == ["set", "skip", "on"] and any(w in names for w in words[3:])


def _head_end(words: list[str]) -> int:
    return next((i for i, w in enumerate(words) if w in _HEAD_END), len(words))


def _matches(words: list[str], proto: str, direction: str, names: tuple[str, ...]) -> bool:
    head = words[:_head_end(words)]
    if ("in" in head and direction != "in") or ("out" in head and direction != "out"):
        return False
    if "inet6" in words:
        return False
    if "on" in words:
        at = words.index("on") + 1
        negated = words[at] == "!"
        if (words[at + negated] in names) == negated:
            return False
    if "proto" in words and words[words.index("proto") + 1] != proto:
        return False
    if "received-on" in words:
        negated = words[words.index("received-on") - 1] == "!"
        return negated == (direction == "out")
    return True
