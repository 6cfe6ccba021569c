"""The remote vocabulary: every command carpctl runs on a firewall, built from argv.

This is the one place that turns values into command lines, so quoting, doas and
secret masking cannot be forgotten at a call site. Values are validated where
they enter (inventory) and quoted here with shlex.quote.

It is pure (no I/O) and sits in the bottom layer, remote, because the connection and
the batches run its Command and every layer above builds them: facts and core use
it, and only it, paths and batch, from remote (tests/facts/test_facts_imports.py).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from carpctl.remote import paths


@dataclass(frozen=True)
class Command:
    """One remote command. `privileged` ones get `doas -n` when the node uses doas."""

    argv: tuple[str, ...]
    privileged: bool = field(default=False, kw_only=True)
    # detached from the session (nohup ... &), output discarded
    background: bool = field(default=False, kw_only=True)

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
    return Command(tuple(str(a) for a in argv), privileged=privileged, background=background)


def sh(*parts: str) -> Command:
    """A root shell one-liner (`sh -c`), its parts joined with `&&`: for steps that must
    happen together in one exec. Every value in `parts` is already quoted."""
    return Command(("sh", "-c", " && ".join(parts)), privileged=True)


# -- facts (read-only) ---------------------------------------------------------------------
IFCONFIG_CARP = cmd("ifconfig", "carp")
IFCONFIG_ALL = cmd("ifconfig")                   # every interface: groups, link, subnets
CARP_DEMOTE = cmd("ifconfig", "-g", "carp")
CARP_SYSCTL = cmd("sysctl", "net.inet.carp")
CARP_STATS = cmd("netstat", "-s", "-p", "carp")
PF_INFO = cmd("pfctl", "-si", privileged=True)
PF_RULES = cmd("pfctl", "-sr", privileged=True)
PF_ANCHORS = cmd("pfctl", "-sA", privileged=True)
RELAYD_ENABLED = cmd("rcctl", "get", "relayd")   # exit 0 enabled, 1 disabled
RELAYD_CHECK = cmd("rcctl", "check", "relayd")
RELAYD_SUMMARY = cmd("relayctl", "show", "summary", privileged=True)
SYSPATCH_PENDING = cmd("syspatch", "-c", privileged=True)
SYSPATCH_APPLY = cmd("syspatch", privileged=True)


def rcctl_restart(daemon: str) -> Command:
    """Restart a daemon that runs, so it uses its patched binary (`rcctl check` first:
    `rcctl restart` would start a daemon that was stopped on purpose)."""
    return sh(f"if rcctl check {shlex.quote(daemon)} >/dev/null; then rcctl restart "
              f"{shlex.quote(daemon)}; fi")
BOOTTIME = cmd("sysctl", "-n", "kern.boottime")
SYSCTL_CONF = cmd("cat", "/etc/sysctl.conf")
# `ifconfig -g G` for every group a carp interface (or pfsync0) is in: the kernel
# advertises the sum of a carp interface's groups, not only `carp` (reference 2.1, 2.4)
GROUP_DEMOTES = Command(("sh", "-c", (
    "for g in $(ifconfig carp | grep 'groups:'); do "
    "if [ \"$g\" != groups: ]; then ifconfig -g \"$g\"; fi; done; true")))
# Each /etc/hostname.carpN with every `pass WORD` taken out, then the sha256 of the pass
# words computed on the node: the secret never leaves it (compared by hash between nodes).
# Only ksh builtins touch the pass (printf), so it shows in no process list either.
HOSTNAME_CARP = Command(("sh", "-c", """for f in /etc/hostname.carp[0-9]*; do
[ -f "$f" ] || continue
echo "@@file $f"
p=
IFS='
'
for l in $(cat "$f"); do
IFS=' \t'
o=
s=
for w in $l; do
if [ -n "$s" ]; then p="$p $w"; s=; elif [ "$w" = pass ]; then s=1; else o="$o $w"; fi
done
printf '%s\n' "$o"
done
unset IFS
if [ -n "$p" ]; then echo "@@pass $(printf %s "$p" | sha256 -q)"; fi
done; true"""), privileged=True)
REBOOT = cmd("reboot", privileged=True)


# -- release upgrades (carpctl.flows.upgrade) -------------------------------------------------
RELEASE = cmd("uname", "-r")
KERN_VERSION = cmd("sysctl", "-n", "kern.version")
ARCH = cmd("uname", "-m")
INSTALLURL = cmd("cat", "/etc/installurl")
UPGRADE_SPACE = cmd("df", "-Pk", "/usr", "/home")      # where sysupgrade puts and unpacks sets
SYSMERGE = cmd("sysmerge", "-b", privileged=True)
FW_UPDATE = cmd("fw_update", privileged=True)
PKG_UPDATE = cmd("pkg_add", "-Iu", privileged=True)


def sysupgrade(snapshot: bool) -> Command:
    """Always -n: carpctl keeps the whole output and reboots itself once it is read."""
    return cmd("sysupgrade", "-n", *(("-s",) if snapshot else ()), privileged=True)


def fetch_check(url: str) -> Command:
    """The node's own ftp(1) fetches `url` to nowhere: does its mirror answer it?"""
    return cmd("ftp", "-V", "-o", "/dev/null", url)


def shell(line: str) -> Command:
    """An operator's own command from a playbook, run by the node's shell (with doas)."""
    return Command(("sh", "-c", line), privileged=True)


def read_marker(path: str) -> Command:
    return cmd("cat", path)


def _write_line(text: str, path: str, *, append: bool = False) -> str:
    return f"printf '%s\\n' {shlex.quote(text)} {'>>' if append else '>'} {shlex.quote(path)}"


def write_marker(path: str, text: str) -> Command:
    """Write a one-line marker file (root-owned, under a directory created if needed)."""
    return sh(f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0] or '/')}", _write_line(text, path))


def append_marker(path: str, text: str) -> Command:
    """Add a line to a marker file (created, with its directory, if needed)."""
    return sh(f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0] or '/')}",
              _write_line(text, path, append=True))


def remove_marker(path: str) -> Command:
    return cmd("rm", "-f", path, privileged=True)


# -- the pair lock (carpctl.runtime.lock) ------------------------------------------------------
def take_lock(owner: str) -> Command:
    """mkdir is atomic: of two runs, exactly one creates the directory and writes its owner."""
    return sh(f"mkdir -p {paths.STATE}", f"mkdir {paths.LOCK_DIR}",
              _write_line(owner, paths.LOCK_OWNER))


def release_lock(owner: str) -> Command:
    """Remove the lock only if it is still this owner's."""
    return sh(f'test "$(cat {paths.LOCK_OWNER} 2>/dev/null)" = {shlex.quote(owner)}',
              f"rm -rf {paths.LOCK_DIR}")


READ_LOCK_OWNER = cmd("cat", paths.LOCK_OWNER, privileged=True)
BREAK_LOCK = cmd("rm", "-rf", paths.LOCK_DIR, privileged=True)


# -- maintenance mode (carpctl.flows.maintenance) ----------------------------------------------
READ_RC_LOCAL = cmd("cat", paths.RC_LOCAL, privileged=True)


def persist_maintenance(record: str, line: str, *, rc_local_exists: bool) -> Command:
    """Keep rc.local's original, append the demotion line, write the record, drop a parked
    record (maintenance replaces it): one round trip."""
    keep = (f"cp -p {paths.RC_LOCAL} {paths.RC_LOCAL_ORIGINAL}" if rc_local_exists
            else f"rm -f {paths.RC_LOCAL_ORIGINAL}")
    return sh(f"mkdir -p {paths.MAINTENANCE_DIR}", keep,
              _write_line(line, paths.RC_LOCAL, append=True),
              _write_line(record, paths.MAINTENANCE_FILE), f"rm -f {paths.PARKED_FILE}")


def restore_rc_local(*, rc_local_existed: bool) -> Command:
    """Put rc.local back as it was before maintenance, byte for byte, and forget the record."""
    put_back = (f"cp -p {paths.RC_LOCAL_ORIGINAL} {paths.RC_LOCAL}" if rc_local_existed
                else f"rm -f {paths.RC_LOCAL}")
    return sh(put_back, f"rm -f {paths.MAINTENANCE_FILE} {paths.RC_LOCAL_ORIGINAL}")


# -- backup sets (carpctl.core.backups) --------------------------------------------------------
LIST_BACKUP_SETS = Command(
    ("sh", "-c", f"cat {paths.BACKUPS}/*/{paths.MANIFEST} 2>/dev/null; true"), privileged=True)


def sha256(path: str) -> Command:
    return cmd("sha256", "-q", path, privileged=True)


# -- CARP actions ----------------------------------------------------------------------------
def set_advskew(ifname: str, advskew: int) -> Command:
    return cmd("ifconfig", ifname, "advskew", advskew, privileged=True)


def set_carp_timing(ifname: str, *, advbase: int | None = None,
                    advskew: int | None = None) -> Command:
    """`ifconfig carpN [advbase B] [advskew S]`: one exec, the vhid changes both at once."""
    words = [w for key, value in (("advbase", advbase), ("advskew", advskew))
             if value is not None for w in (key, str(value))]
    return cmd("ifconfig", ifname, *words, privileged=True)


def set_preempt(on: bool) -> Command:
    return cmd("sysctl", f"net.inet.carp.preempt={int(on)}", privileged=True)


def carpdemote(amount: int) -> Command:
    """Raise (amount > 0) or lower (amount < 0) the carp group's demote counter."""
    word = "carpdemote" if amount > 0 else "-carpdemote"
    return cmd("ifconfig", "-g", "carp", word, abs(amount), privileged=True)


# -- deploy and rollback: staging, validating, installing, applying files ------------------
def make_private_dir(path: str) -> Command:
    """The run's upload directory, the SSH user's alone (a doas user cannot write /etc)."""
    return cmd("mkdir", "-m", "700", path)


def list_existing(*patterns: str) -> Command:
    """The paths matching shell globs, one a line (none: no output, exit 0). A pattern is
    a quoted directory and a glob of carpctl's own naming (see leftover_patterns), left
    unquoted for the shell to expand."""
    loop = f"for f in {' '.join(patterns)}; do [ -e \"$f\" ] && echo \"$f\"; done; true"
    return Command(("sh", "-c", loop), privileged=True)


def leftover_patterns(directory: str, staged_prefix: str) -> str:
    """`'DIR'/.*.carpctl-*`-like: the quoted directory, then the unquoted glob."""
    return f"{shlex.quote(directory)}/{staged_prefix}*"


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
    return sh(f"printf '%s' {shlex.quote(text)} > {shlex.quote(path)}")


def touch(path: str) -> Command:
    return cmd("touch", path, privileged=True)


def timer_script(owner: str, marker: str, fired: str, timeout: float,
                 restore: list[Command], *, finally_: tuple[Command, ...] = (),
                 boot_log: str | None = None) -> str:
    """A dead-man timer: unless `marker` is removed within `timeout`, claim it (one rename,
    so a cancel and the timer can never both succeed), run `restore` as root, then
    `finally_`. Run as `sh SCRIPT boot` (from /etc/rc.local) it does not sleep: a node
    that rebooted inside the window restores at once, and says so in `boot_log`."""
    logged = [f"[ \"$1\" = boot ] && echo \"$(date) {owner}: unconfirmed at boot, restored\" "
              f">> {shlex.quote(boot_log)}"] if boot_log else []
    lines = [
        f"# carpctl commit-confirmed timer of {owner}: unless carpctl removes",
        f"# {marker} within {timeout:g}s, put back the files of this",
        "# backup set and reload them.",
        f"[ \"$1\" = boot ] || sleep {timeout:g}",
        f"mv {shlex.quote(marker)} {shlex.quote(fired)} 2>/dev/null || exit 0",
        *(command.line() for command in restore),
        f"date >> {shlex.quote(fired)}",
        *logged,
        *(command.line() for command in finally_),
    ]
    return "\n".join(lines) + "\n"


def hook_rc_local(line: str, created: str) -> Command:
    """Append `line` to /etc/rc.local unless it is there; `created` records that carpctl
    created the file (so unhook removes it again)."""
    quoted, rc = shlex.quote(line), paths.RC_LOCAL
    return sh(f"{{ grep -qxF {quoted} {rc} 2>/dev/null || {{ [ -e {rc} ] || touch "
              f"{shlex.quote(created)}; printf '%s\\n' {quoted} >> {rc}; }}; }}")


def unhook_rc_local(line: str, created: str) -> Command:
    """Remove `line` from /etc/rc.local, mode and owner kept; the file too if carpctl
    created it and nothing else is in it. Exit 0 when there is nothing to remove."""
    quoted, rc = shlex.quote(line), paths.RC_LOCAL
    temp = f"{paths.RC_LOCAL}.carpctl-unhook"
    return sh(f"{{ grep -qxF {quoted} {rc} 2>/dev/null || exit 0; }}",
              f"cp -p {rc} {temp}",
              f"{{ grep -vxF {quoted} {rc} > {temp}; true; }}",
              f"if [ -e {shlex.quote(created)} ] && [ ! -s {temp} ]; then rm -f {rc} {temp}; "
              f"else mv {temp} {rc}; fi",
              f"rm -f {shlex.quote(created)}")


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
RELAYD_DISABLE = cmd("rcctl", "disable", "relayd", privileged=True)
RELAYD_STOP = cmd("rcctl", "stop", "relayd", privileged=True)
# start if not running, else reload: the exit status is the one of the action taken
RELAYD_START_OR_RELOAD = sh(
    "if rcctl check relayd >/dev/null; then rcctl reload relayd; else rcctl start relayd; fi")
