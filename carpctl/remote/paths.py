"""Where carpctl keeps its own state on a node: one place, so every reader and writer agrees.

Everything lives under /var/carpctl (root-owned), apart from the files carpctl deploys
and /etc/rc.local, which maintenance mode extends.
"""

from __future__ import annotations

STATE = "/var/carpctl"
LOCK_DIR = f"{STATE}/lock"                      # the pair lock: mkdir is atomic
LOCK_OWNER = f"{LOCK_DIR}/owner"
PARKED_FILE = f"{STATE}/parked"                 # a demotion a failover keeps on purpose
MAINTENANCE_DIR = f"{STATE}/maintenance"
MAINTENANCE_FILE = f"{MAINTENANCE_DIR}/state"   # kept by `carpctl maintenance`
RC_LOCAL = "/etc/rc.local"
RC_LOCAL_ORIGINAL = f"{MAINTENANCE_DIR}/rc.local.orig"
BOOT_RESTORED_FILE = f"{STATE}/restored-at-boot"  # a line per unconfirmed deploy put back at boot
UPGRADE_FILE = f"{STATE}/upgrade"               # a sysupgrade under way (survives its reboots)
REBOOT_WANTED = f"{STATE}/reboot-wanted"        # a line per step that asked for a reboot
BACKUPS = f"{STATE}/backups"                    # one backup set per deploy/rollback run
MANIFEST = "MANIFEST"
