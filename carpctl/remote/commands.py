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
RELAYD_ENABLED = cmd("rcctl", "get", "relayd")   # exit 0 enabled, 1 disabled
RELAYD_CHECK = cmd("rcctl", "check", "relayd")
RELAYD_SUMMARY = cmd("relayctl", "show", "summary", privileged=True)
UNAME = cmd("uname", "-srm")
HOSTNAME = cmd("hostname")
SYSPATCH_PENDING = cmd("syspatch", "-c", privileged=True)
SYSPATCH_APPLY = cmd("syspatch", privileged=True)
BOOTTIME = cmd("sysctl", "-n", "kern.boottime")
REBOOT = cmd("reboot", privileged=True)


def shell(line: str) -> Command:
    """An operator's own command from a playbook, run by the node's shell (with doas)."""
    return Command(("sh", "-c", line), True)


def read_marker(path: str) -> Command:
    return cmd("cat", path)


def write_marker(path: str, text: str) -> Command:
    """Write a one-line marker file (root-owned, under a directory created if needed)."""
    directory = shlex.quote(path.rsplit("/", 1)[0] or "/")
    return Command(("sh", "-c", f"mkdir -p {directory} && "
                    f"printf '%s\\n' {shlex.quote(text)} > {shlex.quote(path)}"), True)


def sha256(path: str) -> Command:
    return cmd("sha256", "-q", path, privileged=True)


# -- CARP actions ----------------------------------------------------------------------------
def set_advskew(ifname: str, advskew: int) -> Command:
    return cmd("ifconfig", ifname, "advskew", advskew, privileged=True)


def carpdemote(amount: int) -> Command:
    """Raise (amount > 0) or lower (amount < 0) the carp group's demote counter."""
    word = "carpdemote" if amount > 0 else "-carpdemote"
    return cmd("ifconfig", "-g", "carp", word, abs(amount), privileged=True)


# -- deploy and rollback: staging, validating, installing, applying files ------------------
def make_private_dir(path: str) -> Command:
    """The run's upload directory, the SSH user's alone (a doas user cannot write /etc)."""
    return cmd("mkdir", "-m", "700", path)


def make_dirs(*paths: str) -> Command:
    return cmd("mkdir", "-p", *paths, privileged=True)


def install_file(source: str, dest: str, mode: int, owner: str, group: str) -> Command:
    return cmd("install", "-m", f"{mode:o}", "-o", owner, "-g", group, source, dest,
               privileged=True)


def copy_preserving(source: str, dest: str) -> Command:
    return cmd("cp", "-p", source, dest, privileged=True)


def rename(source: str, dest: str) -> Command:
    """rename(2): the destination is replaced in one step (same filesystem)."""
    return cmd("mv", source, dest, privileged=True)


def remove(*paths: str) -> Command:
    return cmd("rm", "-f", *paths, privileged=True)


def remove_tree(*paths: str) -> Command:
    return cmd("rm", "-rf", *paths, privileged=True)


def read_file(path: str) -> Command:
    return cmd("cat", path, privileged=True)


def write_file(path: str, text: str) -> Command:
    """A small text file written in one command (for a doas user SFTP cannot write there)."""
    return Command(("sh", "-c", f"printf '%s' {shlex.quote(text)} > {shlex.quote(path)}"), True)


def touch(path: str) -> Command:
    return cmd("touch", path, privileged=True)


def run_detached(script: str) -> Command:
    """`nohup sh SCRIPT &`: it outlives this SSH session (the commit-confirmed timer)."""
    return cmd("sh", script, privileged=True, background=True)


def pf_check(path: str) -> Command:
    return cmd("pfctl", "-nf", path, privileged=True)


def pf_load(path: str) -> Command:
    return cmd("pfctl", "-f", path, privileged=True)


PF_ENABLE = cmd("pfctl", "-e", privileged=True)


def relayd_check(path: str) -> Command:
    """`relayd -n` needs root even for a valid file (it checks after parsing)."""
    return cmd("relayd", "-n", "-f", path, privileged=True)


RELAYD_ENABLE = cmd("rcctl", "enable", "relayd", privileged=True)
# start if not running, else reload: the exit status is the one of the action taken
RELAYD_START_OR_RELOAD = Command((
    "sh", "-c", "if rcctl check relayd >/dev/null; then rcctl reload relayd; "
    "else rcctl start relayd; fi"), True)
