"""CARP's protocol counters per node (struct carpstats, sys/netinet/ip_carp.h).

What `netstat -s -p carp` prints. The kernel counts in carp_proto_input (every
packet that reaches carp input, before any check; then the first check that
fails), carp_proto_input_c (vhid, version, authentication), carp_send_ad (sent,
before ip_output) and carp_master_down (transitions to master). A power cycle
starts them from zero, as the counters are allocated at attach.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class CarpStats:
    ipackets: int = 0       # packets received (IPv4)
    ipackets6: int = 0      # packets received (IPv6)
    badif: int = 0          # discarded for bad interface
    badttl: int = 0         # discarded for wrong TTL
    hdrops: int = 0         # shorter than header
    badsum: int = 0         # discarded for bad checksum
    badver: int = 0         # discarded packets with a bad version
    badlen: int = 0         # discarded because packet too short
    badauth: int = 0        # discarded for bad authentication (HMAC of `pass`)
    badvhid: int = 0        # discarded for unknown vhid (or carp interface not running)
    badaddrs: int = 0       # discarded because of a bad address list
    opackets: int = 0       # packets sent (IPv4)
    opackets6: int = 0      # packets sent (IPv6)
    onomem: int = 0         # send failed due to mbuf memory error
    preempt: int = 0        # transitions to master

    def copy(self) -> CarpStats:
        return CarpStats(**{f.name: getattr(self, f.name) for f in fields(self)})


MALFORMED = {
    # a damaged advertisement and the counter carp_proto_input raises for it, in
    # the order of its checks (a router in between, a truncated or corrupted packet)
    "ttl": "badttl",
    "short": "badlen",
    "checksum": "badsum",
    "version": "badver",
}
