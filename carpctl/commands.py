"""The remote vocabulary: every command carpctl runs on a firewall, built from argv.

This is the one place that turns values into command lines, so quoting, doas and
secret masking cannot be forgotten at a call site. Values are validated where
they enter (inventory) and quoted here with shlex.quote.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One remote command. `privileged` ones get `doas -n` when the node uses doas."""

    argv: tuple[str, ...]
    privileged: bool = False
    background: bool = False   # detached from the session (nohup ... &), output discarded

    def line(self, become: str = "none") -> str:
        words = list(self.argv)
        if self.background:
            words = ["nohup", *words]
        if self.privileged and become == "doas":
            words = ["doas", "-n", *words]
        text = shlex.join(words) + " </dev/null"
        if self.background:
            text += " >/dev/null 2>&1 &"
        return text

    def __str__(self) -> str:
        return shlex.join(self.argv)


def cmd(*argv: str | int, privileged: bool = False, background: bool = False) -> Command:
    return Command(tuple(str(a) for a in argv), privileged, background)


# -- facts (read-only) ---------------------------------------------------------------------
IFCONFIG_CARP = cmd("ifconfig", "carp")
CARP_DEMOTE = cmd("ifconfig", "-g", "carp")
PFSYNC = cmd("ifconfig", "pfsync0")
CARP_SYSCTL = cmd("sysctl", "net.inet.carp")
PF_INFO = cmd("pfctl", "-si", privileged=True)
RELAYD_ENABLED = cmd("rcctl", "get", "relayd", "status")
RELAYD_CHECK = cmd("rcctl", "check", "relayd")
RELAYD_SUMMARY = cmd("relayctl", "show", "summary", privileged=True)
UNAME = cmd("uname", "-srm")
HOSTNAME = cmd("hostname")
SYSPATCH_PENDING = cmd("syspatch", "-c", privileged=True)


def read_marker(path: str) -> Command:
    return cmd("cat", path)


def sha256(path: str) -> Command:
    return cmd("sha256", "-q", path, privileged=True)


# -- CARP actions ----------------------------------------------------------------------------
def set_advskew(ifname: str, advskew: int) -> Command:
    return cmd("ifconfig", ifname, "advskew", advskew, privileged=True)


def carpdemote(amount: int) -> Command:
    """Raise (amount > 0) or lower (amount < 0) the carp group's demote counter."""
    word = "carpdemote" if amount > 0 else "-carpdemote"
    return cmd("ifconfig", "-g", "carp", word, abs(amount), privileged=True)
