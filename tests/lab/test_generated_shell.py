"""The shell text carpctl generates runs alike in the lab's shell and in a real mksh.

OpenBSD's /bin/sh and /bin/ksh are pdksh; Debian's mksh is its closest living
descendant. Each script carpctl sends (a batch of commands with their markers, the
commit-confirmed timer, the /etc/rc.local hook and the boot line it adds, the
unhook) runs here in both shells, step after step, on the same paths: the same stub
OpenBSD commands (ifconfig, pfctl, rcctl, date, sleep: they log their argv and print
canned output), the host's or the lab's POSIX utilities for the rest. Exit status,
stdout, stderr, the stubs' log and every file left behind must be the same, so the
lab's emulated shell cannot drift from a real one unnoticed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from fakenode import FakeNode

from carpctl.core import confirm
from carpctl.remote import commands as C
from carpctl.remote import paths
from carpctl.remote.batch import batch_script, results
from carpctl.remote.paths import BACKUPS
from carpctl_lab.proc import Proc, Registry
from carpctl_lab.shell import run

MKSH = shutil.which("mksh")
pytestmark = pytest.mark.skipif(
    MKSH is None, reason="mksh is not installed (`apt-get install mksh`; .ci/run installs it): "
    "without it the lab's shell is not compared with a real pdksh descendant")

CARP = ("carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
        "\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0\n")
#: name -> (stdout, stderr, exit status): what each stub prints whatever its arguments
STUBS = {
    "ifconfig": (CARP, "", 0),
    "pfctl": ("Status: Enabled for 0 days 01:02:03", "", 0),   # no final newline
    "rcctl": ("", "relayd(failed)\n", 1),
    "relayctl": ("", "", 0),
    "date": ("Tue Dec  8 03:00:00 UTC 2026\n", "", 0),
    "sleep": ("", "", 0),
}


class World:
    """One place (a directory tree at the same absolute path in both) and a shell."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.calls = f"{base}/calls"

    def sh(self, line: str) -> tuple[int, str, str]:
        raise NotImplementedError

    def snapshot(self) -> dict[str, str]:
        raise NotImplementedError


class Real(World):
    """A real mksh with the stubs first on PATH (and as `sh`/`ksh`: OpenBSD's are ksh)."""

    def __init__(self, base: str, bin_dir: Path) -> None:
        super().__init__(base)
        os.makedirs(base)
        bin_dir.mkdir()
        for name, (out, err, status) in STUBS.items():
            stub = bin_dir / name
            stub.write_text(
                f"#!{MKSH}\nprintf '%s' {name} >> {shlex.quote(self.calls)}\n"
                f"for a; do printf ' %s' \"$a\" >> {shlex.quote(self.calls)}; done\n"
                f"echo >> {shlex.quote(self.calls)}\n"
                f"printf '%s' {shlex.quote(out)}; printf '%s' {shlex.quote(err)} >&2\n"
                f"exit {status}\n")
            stub.chmod(0o755)
        for name in ("sh", "ksh"):
            (bin_dir / name).symlink_to(MKSH or "")
        self.env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": base, "LC_ALL": "C"}

    def sh(self, line: str) -> tuple[int, str, str]:
        done = subprocess.run([MKSH or "", "-c", line], capture_output=True, text=True,
                              env=self.env, cwd=self.base, stdin=subprocess.DEVNULL, timeout=30)
        return done.returncode, done.stdout, done.stderr

    def snapshot(self) -> dict[str, str]:
        found = {}
        for where, dirs, files in os.walk(self.base):
            for name in dirs:
                found[os.path.join(where, name)] = "dir"
            for name in files:
                path = os.path.join(where, name)
                mode = os.stat(path).st_mode & 0o777
                found[path] = f"{mode:o} {Path(path).read_text()}"
        return found


class Lab(World):
    """The lab's shell on a node whose registry has the same stubs."""

    def __init__(self, base: str, root: Path) -> None:
        super().__init__(base)
        stubs = Registry()
        for name, canned in STUBS.items():
            stubs.command(name, locked=False)(self._stub(name, *canned))
        self.node = FakeNode(root, registry=stubs)
        self.node.fs.mkdir(base, parents=True)

    def _stub(self, name: str, out: str, err: str, status: int):
        def stub(proc: Proc, argv: list[str]) -> int:
            proc.node.fs.write_text(self.calls, " ".join([name, *argv[1:]]) + "\n", append=True)
            proc.out(out)
            proc.err(err)
            return status
        return stub

    def sh(self, line: str) -> tuple[int, str, str]:
        status, out, err = run(self.node, "root", line, cwd=self.base)
        return status, out.decode(), err.decode()

    def snapshot(self) -> dict[str, str]:
        fs, found = self.node.fs, {}
        pending = [self.base]
        while pending:
            directory = pending.pop()
            for name in fs.listdir(directory):
                path = f"{directory}/{name}"
                if fs.isdir(path):
                    found[path] = "dir"
                    pending.append(path)
                else:
                    found[path] = f"{fs.stat(path).mode:o} {fs.read_text(path)}"
        return found


@pytest.fixture
def worlds(tmp_path, monkeypatch):
    """Both shells at one absolute path, carpctl's own paths moved under it."""
    base = str(tmp_path / "w")
    monkeypatch.setattr(paths, "RC_LOCAL", f"{base}/etc/rc.local")
    for name in ("STATE", "LOCK_DIR", "LOCK_OWNER"):
        monkeypatch.setattr(paths, name, base + getattr(paths, name))
    real, lab = Real(base, tmp_path / "bin"), Lab(base, tmp_path / "labroot")
    for world in (real, lab):
        world.sh("mkdir -p etc var/carpctl/backups/run1/files/etc")
    return real, lab


def alike(worlds, line: str) -> tuple[int, str, str]:
    """Run `line` in both shells; the outcome and everything left behind must match."""
    real, lab = worlds
    outcome = real.sh(line)
    assert lab.sh(line) == outcome, line
    assert lab.snapshot() == real.snapshot(), line
    return outcome


def test_a_batch_keeps_each_commands_output_and_status_alike_in_both_shells(worlds):
    base = worlds[0].base
    commands = [
        C.take_lock("alice@laptop 4242 failover p --to peer"),
        C.IFCONFIG_CARP,
        C.set_advskew("carp0", 254),
        C.read_marker(f"{base}/var/carpctl/parked"),          # missing: cat fails
        C.write_marker(f"{base}/var/carpctl/parked", "method=advskew parked=254 amount=0 "
                                                      "carp0=0 carp1=0"),
        C.read_marker(f"{base}/var/carpctl/parked"),
        C.PF_INFO,                                            # output without final newline
        C.RELAYD_CHECK,                                       # fails, on stderr
        C.RELAYD_START_OR_RELOAD,
        C.carpdemote(50),
        C.list_existing(C.leftover_patterns(f"{base}/etc", ".")),
        C.shell("echo 'a  b' | tr a A; x=$(printf %s q); echo \"$x\" >&2; false"),
        C.remove_marker(f"{base}/var/carpctl/parked"),
    ]
    status, out, err = alike(worlds, batch_script(commands, "none", "feedc0de"))
    got = results("fw1", commands, "none", "feedc0de", out, err, 1.0)
    assert [r.status for r in got] == [0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0]
    assert got[1].stdout == CARP and got[6].stdout == STUBS["pfctl"][0]
    assert got[5].stdout == "method=advskew parked=254 amount=0 carp0=0 carp1=0\n"
    assert (got[11].stdout, got[11].stderr) == ("A  b\n", "q\n")


def test_the_commit_confirmed_timer_and_its_boot_hook_run_alike_in_both_shells(worlds):
    base = worlds[0].base
    run_dir, rc_local = f"{base}/var/carpctl/backups/run1", paths.RC_LOCAL
    boot_line = confirm.BOOT_LINE.replace(BACKUPS, f"{base}/var/carpctl/backups")
    created = f"{run_dir}/rc.local.created"
    restore = [C.copy_preserving(f"{run_dir}/files/etc/pf.conf", f"{base}/etc/pf.conf"),
               C.pf_load(f"{base}/etc/pf.conf")]
    script = C.timer_script("run run1", f"{run_dir}/confirm.armed", f"{run_dir}/confirm.fired",
                            30, restore, finally_=(C.unhook_rc_local(boot_line, created),),
                            boot_log=f"{base}/var/carpctl/restored-at-boot")
    alike(worlds, f"printf 'pass\\n' > {run_dir}/files/etc/pf.conf; "
                  f"printf 'block\\n' > {base}/etc/pf.conf")
    arm = [C.write_file(f"{run_dir}/confirm.sh", script), C.touch(f"{run_dir}/confirm.armed"),
           C.hook_rc_local(boot_line, created)]
    assert alike(worlds, "\n".join(c.line() for c in arm))[0] == 0
    assert alike(worlds, C.hook_rc_local(boot_line, created).line())[0] == 0   # idempotent
    alike(worlds, f"sh {rc_local}")            # the node reboots inside the window: restored
    for world in worlds:
        assert world.snapshot()[f"{base}/etc/pf.conf"].endswith(" pass\n")
        assert f"{base}/etc/rc.local" not in world.snapshot()   # carpctl created it: gone
    assert alike(worlds, f"sh {run_dir}/confirm.sh")[0] == 0   # fired already: does nothing


def test_the_timer_of_a_confirmed_deploy_and_an_existing_rc_local_stay_alike(worlds):
    base = worlds[0].base
    run_dir, rc_local = f"{base}/var/carpctl/backups/run1", paths.RC_LOCAL
    boot_line = confirm.BOOT_LINE.replace(BACKUPS, f"{base}/var/carpctl/backups")
    created = f"{run_dir}/rc.local.created"
    alike(worlds, f"printf '%s\\n' '# site rc.local' 'echo up' > {rc_local}; chmod 700 {rc_local}")
    alike(worlds, C.hook_rc_local(boot_line, created).line())
    script = C.timer_script("run run1", f"{run_dir}/confirm.armed", f"{run_dir}/confirm.fired",
                            5, [C.pf_load(f"{base}/etc/pf.conf")],
                            finally_=(C.unhook_rc_local(boot_line, created),))
    alike(worlds, C.write_file(f"{run_dir}/confirm.sh", script).line())
    alike(worlds, f"sh {run_dir}/confirm.sh")     # not armed (confirmed): exits 0, no restore
    alike(worlds, C.touch(f"{run_dir}/confirm.armed").line())
    assert alike(worlds, f"sh {run_dir}/confirm.sh") == (0, STUBS["pfctl"][0], "")   # restored
    for world in worlds:
        assert world.snapshot()[rc_local] == "700 # site rc.local\necho up\n"
    assert alike(worlds, C.unhook_rc_local(boot_line, created).line())[0] == 0   # nothing left
