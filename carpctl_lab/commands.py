"""Every command a lab node knows: the POSIX utilities, then OpenBSD's tools."""

from .openbsd import doas, ifconfig, netstat, pfctl, rcctl, relayd, system, sysupgrade
from .posix import REGISTRY as POSIX

REGISTRY = POSIX.merged(ifconfig.REGISTRY, netstat.REGISTRY, pfctl.REGISTRY, relayd.REGISTRY, rcctl.REGISTRY,
                        system.REGISTRY, doas.REGISTRY, sysupgrade.REGISTRY)
