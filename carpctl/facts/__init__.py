"""Pure parsers: OpenBSD command output in, typed frozen dataclasses out.

No I/O and nothing heavy is imported here. Output a parser does not understand
raises `carpctl.errors.ParseError` (naming the command and the offending line);
no other exception escapes, whatever the input.
"""

from carpctl.facts.ifconfig import (
    CARP_STATES,
    CarpInterface,
    CarpState,
    Pfsync,
    parse_carp_interfaces,
    parse_group_demote,
    parse_pfsync,
)
from carpctl.facts.pfctl import PfError, PfInfo, count_states, parse_pf_errors, parse_pf_info
from carpctl.facts.rcctl import ServiceConfig, parse_rcctl_check, parse_rcctl_get
from carpctl.facts.relayctl import HostCheck, RelaydEntry, RelaydSummary, parse_relayctl
from carpctl.facts.sysctl import CarpSysctl, carp_sysctl, parse_carp_sysctl, parse_sysctl
from carpctl.facts.system import parse_sha256, parse_syspatch

__all__ = [
    "CARP_STATES",
    "CarpInterface",
    "CarpState",
    "CarpSysctl",
    "HostCheck",
    "PfError",
    "PfInfo",
    "Pfsync",
    "RelaydEntry",
    "RelaydSummary",
    "ServiceConfig",
    "carp_sysctl",
    "count_states",
    "parse_carp_interfaces",
    "parse_carp_sysctl",
    "parse_group_demote",
    "parse_pf_errors",
    "parse_pf_info",
    "parse_pfsync",
    "parse_rcctl_check",
    "parse_rcctl_get",
    "parse_relayctl",
    "parse_sha256",
    "parse_syspatch",
    "parse_sysctl",
]
