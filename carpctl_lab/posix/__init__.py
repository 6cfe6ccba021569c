"""The lab's portable base utilities, as one Registry to merge with the node's.

The commands live in modules named for what they do; this module only gathers
them. OpenBSD-specific tools (ifconfig, pfctl, rcctl, ...) come from elsewhere
and are merged on top, so a node may override any command here.
"""

from __future__ import annotations

from . import attrs, compare, files, printing, system, testcmd, text

REGISTRY = files.REGISTRY.merged(
    attrs.REGISTRY, compare.REGISTRY, printing.REGISTRY, testcmd.REGISTRY, text.REGISTRY,
    system.REGISTRY,
)
