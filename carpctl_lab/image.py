"""The files a fresh lab node boots from, shaped like the source material.

Two carp interfaces (carp0 on em0 for the shared service address, carp1 on em1
for the inside), pfsync on a dedicated em2, relayd with a relay `www` that
forwards to two web hosts with an http check. The primary runs at advskew 0,
the secondary at 100, both with preempt on; options choose other values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fs import NodeFS

PHYSICAL = ("em0", "em1", "em2")


@dataclass(frozen=True)
class CarpSpec:
    ifname: str
    vhid: int
    carpdev: str
    address: str
    netmask: str = "255.255.255.0"
    groups: tuple[str, ...] = ()   # interface groups besides `carp` (`group X` lines)


@dataclass(frozen=True)
class PairSpec:
    """How to build one emulated pair."""

    name: str = "pair1"
    nodes: tuple[str, str] = ("fw1", "fw2")
    advskew: tuple[int, int] = (0, 100)
    preempt: tuple[bool, bool] = (True, True)
    advbase: int = 1
    carp: tuple[CarpSpec, ...] = (
        CarpSpec("carp0", 1, "em0", "192.168.1.123"),
        CarpSpec("carp1", 2, "em1", "10.0.0.1"),
    )
    syncdev: str = "em2"
    webhosts: tuple[str, ...] = ("192.168.1.2", "192.168.1.3")
    carp_pass: str = "lab-secret"
    relayd_enabled: bool = True
    syspatch_pending: tuple[str, ...] = ()
    node_addresses: tuple[tuple[str, str, str], ...] = field(default=(
        ("192.168.1.11", "10.0.0.11", "10.10.10.1"),
        ("192.168.1.12", "10.0.0.12", "10.10.10.2"),
    ))


def hostname_carp(spec: PairSpec, carp: CarpSpec, index: int) -> str:
    return (f"inet {carp.address} {carp.netmask} NONE vhid {carp.vhid} "
            f"carpdev {carp.carpdev} advbase {spec.advbase} "
            f"advskew {spec.advskew[index]} pass {spec.carp_pass}\n"
            + "".join(f"group {group}\n" for group in carp.groups))


def pf_conf(spec: PairSpec) -> str:
    hosts = " ".join(spec.webhosts)
    return f"""\
# pf.conf of an emulated carpctl lab node
ext_if = "em0"
int_if = "em1"
sync_if = "{spec.syncdev}"
table <webhosts> {{ {hosts} }}
set skip on lo
block log all
anchor "relayd/*"
pass quick on $sync_if proto pfsync keep state (no-sync)
pass on {{ $ext_if $int_if }} proto carp keep state
pass in on $ext_if proto tcp to port ssh
pass in on $ext_if proto tcp to port http
pass out
"""


def relayd_conf(spec: PairSpec) -> str:
    carp0 = spec.carp[0]
    macros = "".join(f'webhost{i}="{h}"\n' for i, h in enumerate(spec.webhosts, 1))
    members = " ".join(f"$webhost{i}" for i in range(1, len(spec.webhosts) + 1))
    return f"""\
ext_addr="{carp0.address}"
{macros}
table <webhosts> {{ {members} }}
relay www {{
\tlisten on $ext_addr port http
\tforward to <webhosts> port http mode loadbalance check http "/" code 200
}}
"""


def write_image(fs: NodeFS, spec: PairSpec, index: int) -> None:
    """Lay down /etc and friends for node `index` (0 = primary) of the pair."""
    name = spec.nodes[index]
    fs.install("/etc/myname", f"{name}.{spec.name}.lab\n")
    fs.install("/etc/installurl", "https://cdn.openbsd.org/pub/OpenBSD\n")  # as the installer writes it
    for dev, addr in zip(PHYSICAL, spec.node_addresses[index]):
        fs.install(f"/etc/hostname.{dev}", f"inet {addr} 255.255.255.0 NONE\n", mode=0o640)
    for carp in spec.carp:
        fs.install(f"/etc/hostname.{carp.ifname}", hostname_carp(spec, carp, index), mode=0o640)
    fs.install("/etc/hostname.pfsync0", f"up syncdev {spec.syncdev}\n", mode=0o640)
    preempt = 1 if spec.preempt[index] else 0
    fs.install("/etc/sysctl.conf", f"net.inet.ip.forwarding=1\nnet.inet.carp.preempt={preempt}\n")
    fs.install("/etc/rc.conf.local", "relayd_flags=\n" if spec.relayd_enabled else "")
    fs.install("/etc/pf.conf", pf_conf(spec), mode=0o600)
    fs.install("/etc/relayd.conf", relayd_conf(spec), mode=0o600)
    fs.install("/etc/doas.conf", "permit nopass keepenv root\npermit nopass admin as root\n",
               mode=0o600)
    for directory in ("/tmp", "/var/run", "/var/log", "/var/db", "/home/admin", "/root"):
        fs.mkdir(directory, parents=True)
    fs.chmod("/tmp", 0o1777)
    fs.chmod("/root", 0o700)
    fs.chown("/home/admin", "admin", "admin")
    fs.install("/var/log/messages", "")
