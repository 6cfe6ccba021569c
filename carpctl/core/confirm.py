"""The commit-confirmed timer: a node puts its old files back unless carpctl confirms.

Like Junos `commit confirmed`: before new pf rules are loaded, a detached shell
script is started on the node (`nohup sh SCRIPT &`, so it survives the SSH
session). It sleeps for the confirm timeout, then, if the marker file
`confirm.armed` is still there, restores the backup set it sits in and
reloads what it restored. carpctl cancels it by removing the marker over a
NEW SSH connection: the removal itself is the proof that a new connection
still gets in. If the rules locked carpctl out, nobody removes the marker and
the node brings itself back.

The marker is claimed with one rename (`mv confirm.armed confirm.fired`), and
cancelled with one `rm` without -f: exactly one of the two succeeds, so carpctl
always knows whether the timer fired (its `rm` fails) or not.

The detached timer dies with the node. So the pending confirmation is kept on the
node's disk (the marker) and checked at boot: while a timer is armed, /etc/rc.local
holds BOOT_LINE, which runs every armed script at once (`sh confirm.sh boot`), so a
node that reboots or crashes inside the window boots, then restores its previous
files, and appends a line to BOOT_RESTORED_FILE (/var/carpctl/restored-at-boot), which
`status` reports while the node's files differ from the inventory. The line leaves
rc.local again when the timer is cancelled or has fired: rc.local ends byte for byte
as it was.
"""

from __future__ import annotations

from carpctl.facts.backups import BackupSet
from carpctl.remote import commands as C
from carpctl.remote.paths import BACKUPS, BOOT_RESTORED_FILE

# /etc/rc.local runs every armed timer at once at boot: a reboot or crash inside the
# window must not keep the unconfirmed files (the detached timer died with the node)
BOOT_LINE = (f'for d in {BACKUPS}/*; do [ -e "$d/confirm.armed" ] && sh "$d/confirm.sh" boot; '
             f'done  # carpctl: restore unconfirmed deploys')


def script_path(backup: BackupSet) -> str:
    return f"{backup.path}/confirm.sh"


def marker(backup: BackupSet) -> str:
    return f"{backup.path}/confirm.armed"


def fired_marker(backup: BackupSet) -> str:
    return f"{backup.path}/confirm.fired"


def script(backup: BackupSet, timeout: float, restore: list[C.Command]) -> str:
    """The timer's text; `restore` puts the set back and reloads it (run as root)."""
    return C.timer_script(f"run {backup.run}", marker(backup), fired_marker(backup), timeout,
                          restore, finally_=(unhook_command(backup),), boot_log=BOOT_RESTORED_FILE)


def arm_commands(backup: BackupSet, timeout: float, restore: list[C.Command]) -> list[C.Command]:
    """Write the script, create the marker, hook /etc/rc.local, start the script detached."""
    return [C.write_file(script_path(backup), script(backup, timeout, restore)),
            C.touch(marker(backup)),
            C.hook_rc_local(BOOT_LINE, _created(backup)),
            C.run_detached(script_path(backup))]


def cancel_command(backup: BackupSet) -> C.Command:
    """Fails (the marker is gone) when the timer fired first."""
    return C.cmd("rm", marker(backup), privileged=True)


def unhook_command(backup: BackupSet) -> C.Command:
    """/etc/rc.local as it was before the timer was armed (after a cancel or a restore)."""
    return C.unhook_rc_local(BOOT_LINE, _created(backup))


def _created(backup: BackupSet) -> str:
    return f"{backup.path}/rc.local.created"
