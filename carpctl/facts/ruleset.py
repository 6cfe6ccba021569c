"""The loaded pf ruleset and its anchors (sbin/pfctl: `pfctl -sr`, `pfctl -sA`).

`pfctl -sr` prints the main ruleset one rule per line, as pfctl normalises it
(`port = ssh`, `flags S/SA`, `all`); `pfctl -sA` prints each anchor below main as
two spaces and its path, parents first. carpctl reads them for two facts a
pf.conf on disk cannot tell: whether the node runs rc's temporary boot ruleset
(/etc/pf.conf failed to load at boot: only ssh, dns, dhcp and carp pass), and
whether relayd's redirect rules are evaluated (`anchor "relayd/*"` in the main
ruleset; reference 6, trap 12).
"""

from __future__ import annotations

import re

from carpctl.facts._text import content_lines, fail

_WHAT_RULES = "pfctl -sr"
_WHAT_ANCHORS = "pfctl -sA"
_ANCHOR = re.compile(r"  (?P<path>\S+)")
# rc's temporary ruleset (etc/rc) has marks a site's own pf.conf hardly repeats all at
# once: a first `block drop all`, the dhcp client pair, carp out except what was received
_RC_MARKS = (re.compile(r"block drop all"),
             re.compile(r"pass in inet proto udp from any port = bootps to any port = bootpc"),
             re.compile(r"pass out proto carp .*! ?received-on any"))
_RELAYD_ANCHOR = re.compile(r'anchor "relayd/\*"( .*)?')


def parse_pf_rules(text: str) -> tuple[str, ...]:
    """`pfctl -sr` -> the loaded rules, one per line (empty when nothing is loaded)."""
    rules = tuple(line.strip() for line in content_lines(text, _WHAT_RULES) if line.strip())
    if rules and rules[0].startswith("pfctl:"):
        fail(_WHAT_RULES, rules[0], "an error, not a ruleset")
    return rules


def parse_pf_anchors(text: str) -> tuple[str, ...]:
    """`pfctl -sA` -> anchor paths below main (`relayd`, `relayd/www`)."""
    paths = []
    for line in content_lines(text, _WHAT_ANCHORS):
        match = _ANCHOR.fullmatch(line.rstrip())
        if not match:
            fail(_WHAT_ANCHORS, line, "expected two spaces and an anchor path")
        paths.append(match["path"])
    return tuple(paths)


def is_rc_boot_ruleset(rules: tuple[str, ...]) -> bool:
    """The loaded rules are rc's temporary ones: /etc/pf.conf did not load at boot."""
    return bool(rules) and _RC_MARKS[0].fullmatch(rules[0]) is not None and all(
        any(mark.fullmatch(rule) for rule in rules) for mark in _RC_MARKS[1:])


def evaluates_relayd(rules: tuple[str, ...]) -> bool:
    """The main ruleset calls relayd's anchors, so redirect rules relayd adds take effect."""
    return any(_RELAYD_ANCHOR.fullmatch(rule) for rule in rules)
