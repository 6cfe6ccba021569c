"""A node's network interfaces and how `ifconfig` prints them (reference section 1).

CARP's runtime values (vhid, advbase, advskew, carpdev, state) live in the pair's
CARP model once a vhid is set; an interface record keeps what the model does not:
addresses, flags of non-carp interfaces, pfsync settings and groups (which the
model mirrors for carp interfaces, whose demote count sums them). The carp
`pass` lives in the model only: ifconfig never prints it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

CARP_FLAGS = {  # (up, running) -> flags value and names
    (True, True): "8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>",
    (True, False): "8803<UP,BROADCAST,SIMPLEX,MULTICAST>",
    (False, False): "8802<BROADCAST,SIMPLEX,MULTICAST>",
    (False, True): "8802<BROADCAST,SIMPLEX,MULTICAST>",
}
ETHER_FLAGS = {
    (True, True): "8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST>",
    (True, False): "8903<UP,BROADCAST,PROMISC,SIMPLEX,MULTICAST>",
    (False, True): "8942<BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST>",
    (False, False): "8902<BROADCAST,PROMISC,SIMPLEX,MULTICAST>",
}


@dataclass(frozen=True)
class Address:
    address: str
    prefix: int
    broadcast: str | None

    def line(self) -> str:
        mask = int(ipaddress.IPv4Network(f"0.0.0.0/{self.prefix}").netmask)
        text = f"inet {self.address} netmask 0x{mask:08x}"
        return text + (f" broadcast {self.broadcast}" if self.broadcast else "")


@dataclass
class Iface:
    name: str
    index: int
    up: bool = False
    lladdr: str | None = None
    addresses: list[Address] = field(default_factory=list)
    description: str | None = None
    groups: list[str] = field(default_factory=list)
    # carp settings given before a vhid exists (applied when the vhid arrives)
    pending: dict[str, object] = field(default_factory=dict)
    carppeer: str | None = None
    # pfsync
    syncdev: str | None = None
    syncpeer: str | None = None
    maxupd: int = 128
    defer: bool = False

    @property
    def kind(self) -> str:
        return self.name.rstrip("0123456789")


def physical_ifaces(node_index: int) -> dict[str, Iface]:
    """What a node has before netstart: lo0 and three Ethernet ports, no addresses."""
    ifaces = {"lo0": Iface("lo0", 4, up=True, groups=["lo"],
                           addresses=[Address("127.0.0.1", 8, None)])}
    for i, dev in enumerate(("em0", "em1", "em2")):
        ifaces[dev] = Iface(dev, i + 1, lladdr=f"52:54:00:0{node_index}:0{i}:01",
                            groups=["egress"] if dev == "em0" else [])
    return ifaces


def parse_address(address: str, netmask: str | None) -> tuple[str, int]:
    """`192.0.2.1/24`, or an address with a dotted or 0x netmask -> (address, prefix)."""
    if "/" in address:
        iface = ipaddress.IPv4Interface(address)
        return str(iface.ip), iface.network.prefixlen
    if netmask is None:
        return str(ipaddress.IPv4Address(address)), 32 if address else 8
    mask = str(ipaddress.IPv4Address(int(netmask, 16))) if netmask.startswith("0x") else netmask
    return str(ipaddress.IPv4Address(address)), ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen


def default_broadcast(address: str, prefix: int) -> str | None:
    if prefix >= 31:
        return None
    return str(ipaddress.IPv4Network(f"{address}/{prefix}", strict=False).broadcast_address)


def render_block(iface: Iface, *, carp=None, link: bool = True, carp_status: str | None = None) -> str:
    """One `ifconfig` block. `carp` is the model's view of this carp interface."""
    lines = []
    if iface.kind == "carp":
        up, running = (carp.up, carp.running) if carp else (iface.up, False)
        lines.append(f"{iface.name}: flags={CARP_FLAGS[(up, running)]} mtu 1500")
        vhid = carp.vhid if carp else None
        lines.append(f"\tlladdr 00:00:5e:00:01:{vhid or 0:02x}")
    elif iface.kind == "pfsync":
        flags = "41<UP,RUNNING>" if iface.up else "0<>"
        lines.append(f"{iface.name}: flags={flags} mtu 1500")
    elif iface.kind == "lo":
        lines.append(f"{iface.name}: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 32768")
    else:
        lines.append(f"{iface.name}: flags={ETHER_FLAGS[(iface.up, link)]} mtu 1500")
        lines.append(f"\tlladdr {iface.lladdr}")
    if iface.description:
        lines.append(f"\tdescription: {iface.description}")
    priority = 15 if iface.kind == "carp" else 0
    lines.append(f"\tindex {iface.index} priority {priority} llprio 3")
    if carp is not None:
        peer = f" carppeer {iface.carppeer}" if iface.carppeer else ""
        lines.append(f"\tcarp: {carp.state} carpdev {carp.carpdev or 'none'} vhid {carp.vhid} "
                     f"advbase {carp.advbase} advskew {carp.advskew}{peer}")
    if iface.kind == "pfsync" and iface.syncdev:
        peer = f"syncpeer: {iface.syncpeer} " if iface.syncpeer else ""
        lines.append(f"\tpfsync: syncdev: {iface.syncdev} {peer}maxupd: {iface.maxupd} "
                     f"defer: {'on' if iface.defer else 'off'}")
    if iface.groups:
        lines.append("\tgroups: " + " ".join(iface.groups))
    if iface.kind == "em":
        lines.append("\tmedia: Ethernet autoselect (1000baseT full-duplex)")
        lines.append(f"\tstatus: {'active' if link else 'no carrier'}")
    elif iface.kind == "carp":
        lines.append(f"\tstatus: {carp_status}")
    lines.extend("\t" + a.line() for a in iface.addresses)
    return "".join(line + "\n" for line in lines)


def carp_status(carp) -> str:
    """The `status:` word of a carp interface, from its link state."""
    if carp is None or carp.state == "INIT":
        return "invalid"
    return "master" if carp.state == "MASTER" else "backup"
