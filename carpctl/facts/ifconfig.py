"""CARP and pfsync state from ifconfig (sbin/ifconfig/ifconfig.c).

carpctl runs `ifconfig carp` (the group listing: every carpN and pfsync0) or
`ifconfig carpN`, `ifconfig pfsync0` and `ifconfig -g carp`. Only the lines
carpctl relies on are parsed, strictly: the header's flags, `carp:` and its
per-vhid lines, `pfsync:`, `inet`/`inet6`. Every other detail line (lladdr,
index, groups, status, lines a later release may add) is ignored, so the
parsers keep working across releases but never guess at what they read.

Decisions the OpenBSD source leaves to us:
- An interface without a `carp:` line (no vhid configured; ifconfig prints
  nothing then) is reported as state INIT with vhid, advbase and advskew None.
- An interface using `carpnodes` prints one shared
  `carp: carpdev IF advbase N balancing MODE` line and one
  `state STATE vhid N advskew N` line per vhid; it becomes one CarpInterface
  per vhid, all with the same name and `balancing` set. Key them by
  (name, vhid).
- `status:` is ignored: the state comes from the `carp:` line.
- The source material's older output (`carp: MASTER vhid 1 advbase 0
  advskew 10`, no carpdev, detail lines indented with spaces) parses too.
- Ranges: vhid 1..255, advbase and advskew 0..255. ifconfig only sets
  0..254, but the kernel fields are 8 bits and a value the kernel holds is
  reported, not refused.
- ifconfig's `carpN: no such interface` (stderr, exit 1) parses as no
  interfaces, and `pfsync0: no such interface` as an absent pfsync.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from carpctl.facts._ifblocks import IfBlock, missing_interface, split_blocks
from carpctl.facts._text import fail, key_value_pairs, require, single_line, to_int, to_ip

CarpState = Literal["INIT", "BACKUP", "MASTER"]
CARP_STATES: tuple[CarpState, ...] = ("INIT", "BACKUP", "MASTER")

_CARP_NAME = re.compile(r"carp[0-9]+")
_PFSYNC_NAME = re.compile(r"pfsync[0-9]+")
_IFNAME = re.compile(r"[a-z][a-z0-9]*[0-9]")
_BALANCING_MODE = re.compile(r"[a-z][a-z-]*")
_DEMOTE = re.compile(r"(?P<group>[a-z][a-z0-9_-]*): carp demote count (?P<count>[0-9]+)")

_WHAT_CARP = "ifconfig carp"
_WHAT_PFSYNC = "ifconfig pfsync0"
_WHAT_DEMOTE = "ifconfig -g carp"


@dataclass(frozen=True, kw_only=True)
class CarpInterface:
    """One vhid of a carp interface, as this node sees it.

    `vhid`, `advbase` and `advskew` are None when no vhid is configured;
    `carpdev` is None for `carpdev none` and for old releases that did not print
    it; `balancing` is the mode of a `carpnodes` interface, else None.
    """

    name: str
    state: CarpState
    vhid: int | None
    advbase: int | None
    advskew: int | None
    carpdev: str | None
    up: bool
    running: bool
    addresses: tuple[str, ...]
    carppeer: str | None
    balancing: str | None = None


@dataclass(frozen=True, kw_only=True)
class Pfsync:
    """pfsync0 as ifconfig shows it; every field but `present` is empty if absent.

    `syncdev` is None while no sync interface is set (ifconfig then prints no
    `pfsync:` line at all); `defer` is None for releases that do not print it.
    """

    present: bool
    up: bool
    running: bool
    syncdev: str | None
    syncpeer: str | None
    maxupd: int | None
    defer: bool | None


PFSYNC_ABSENT = Pfsync(present=False, up=False, running=False, syncdev=None, syncpeer=None,
                       maxupd=None, defer=None)


@dataclass(frozen=True)
class _CarpCommon:
    carpdev: str | None
    advbase: int
    carppeer: str | None
    balancing: str | None


@dataclass(frozen=True)
class _Vhid:
    state: CarpState
    vhid: int
    advskew: int


def parse_carp_interfaces(text: str) -> tuple[CarpInterface, ...]:
    """Every carp vhid in `ifconfig carp` / `ifconfig carpN` output, in order.

    Blocks of other interfaces (pfsync0 is a member of group carp) are skipped.
    """
    missing = missing_interface(text, _WHAT_CARP)
    if missing is not None:
        if not _CARP_NAME.fullmatch(missing):
            fail(_WHAT_CARP, None, f"{missing} is not a carp interface")
        return ()
    result: list[CarpInterface] = []
    for block in split_blocks(text, _WHAT_CARP):
        if _CARP_NAME.fullmatch(block.name):
            result.extend(_carp_block(block))
    return tuple(result)


def parse_pfsync(text: str) -> Pfsync:
    """pfsync0 from `ifconfig pfsync0` or from the pfsync0 block of `ifconfig carp`."""
    missing = missing_interface(text, _WHAT_PFSYNC)
    if missing is not None:
        if not _PFSYNC_NAME.fullmatch(missing):
            fail(_WHAT_PFSYNC, None, f"{missing} is not a pfsync interface")
        return PFSYNC_ABSENT
    blocks = [b for b in split_blocks(text, _WHAT_PFSYNC) if _PFSYNC_NAME.fullmatch(b.name)]
    if not blocks:
        return PFSYNC_ABSENT
    if len(blocks) > 1:
        fail(_WHAT_PFSYNC, None, "more than one pfsync interface")
    return _pfsync_block(blocks[0])


def parse_group_demote(text: str) -> int:
    """The demote counter from `ifconfig -g carp` (`carp: carp demote count N`)."""
    line = single_line(text, _WHAT_DEMOTE).strip()
    match = _DEMOTE.fullmatch(line)
    if not match:
        fail(_WHAT_DEMOTE, line, "expected 'GROUP: carp demote count N'")
    return to_int(match["count"], _WHAT_DEMOTE, line)


def _carp_block(block: IfBlock) -> list[CarpInterface]:
    common: _CarpCommon | None = None
    vhids: list[_Vhid] = []
    addresses: list[str] = []
    for text, raw in block.details:
        tokens = text.split()
        keyword = tokens[0]
        if keyword == "carp:":
            if common is not None:
                fail(_WHAT_CARP, raw, f"second carp line for {block.name}")
            common, single = _carp_line(tokens[1:], raw)
            if single is not None:
                vhids.append(single)
        elif keyword == "state":
            if common is None or common.balancing is None:
                fail(_WHAT_CARP, raw, "per-vhid line without a balancing carp line")
            vhids.append(_balanced_vhid(tokens, raw))
        elif keyword in ("inet", "inet6"):
            if len(tokens) < 2:
                fail(_WHAT_CARP, raw, "address line without an address")
            version = 4 if keyword == "inet" else 6
            addresses.append(to_ip(tokens[1], _WHAT_CARP, raw, version=version))
    return _combine(block, common, vhids, tuple(addresses))


def _carp_line(tokens: list[str], raw: str) -> tuple[_CarpCommon, _Vhid | None]:
    """`carp: STATE [carpdev IF] vhid N advbase N advskew N [carppeer A]` or the balancing form."""
    if tokens and tokens[0] in CARP_STATES:
        pairs = key_value_pairs(tokens[1:], _WHAT_CARP, raw)
        return _common(pairs, raw, balancing=None), _vhid(tokens[0], pairs, raw)
    pairs = key_value_pairs(tokens, _WHAT_CARP, raw)
    if "balancing" not in pairs:
        fail(_WHAT_CARP, raw, "expected a carp state (INIT, BACKUP, MASTER) or a balancing mode")
    mode = pairs["balancing"]
    if not _BALANCING_MODE.fullmatch(mode):
        fail(_WHAT_CARP, raw, f"unknown balancing mode {mode!r}")
    return _common(pairs, raw, balancing=mode), None


def _common(pairs: dict[str, str], raw: str, *, balancing: str | None) -> _CarpCommon:
    carpdev = pairs.get("carpdev")
    if carpdev == "none":
        carpdev = None
    elif carpdev is not None and not _IFNAME.fullmatch(carpdev):
        fail(_WHAT_CARP, raw, f"{carpdev!r} is not an interface name")
    carppeer = pairs.get("carppeer")
    if carppeer is not None:
        to_ip(carppeer, _WHAT_CARP, raw, version=4)
    advbase = to_int(require(pairs, "advbase", _WHAT_CARP, raw), _WHAT_CARP, raw, hi=255)
    return _CarpCommon(carpdev, advbase, carppeer, balancing)


def _balanced_vhid(tokens: list[str], raw: str) -> _Vhid:
    """`state STATE vhid N advskew N`, one per vhid of a carpnodes interface."""
    pairs = key_value_pairs(tokens, _WHAT_CARP, raw)
    return _vhid(require(pairs, "state", _WHAT_CARP, raw), pairs, raw)


def _vhid(state: str, pairs: dict[str, str], raw: str) -> _Vhid:
    for known in CARP_STATES:
        if state == known:
            return _Vhid(
                known,
                to_int(require(pairs, "vhid", _WHAT_CARP, raw), _WHAT_CARP, raw, lo=1, hi=255),
                to_int(require(pairs, "advskew", _WHAT_CARP, raw), _WHAT_CARP, raw, hi=255),
            )
    fail(_WHAT_CARP, raw, f"unknown carp state {state!r}")


def _combine(
    block: IfBlock, common: _CarpCommon | None, vhids: list[_Vhid], addresses: tuple[str, ...]
) -> list[CarpInterface]:
    if common is None:
        unconfigured = CarpInterface(
            name=block.name, state="INIT", vhid=None, advbase=None, advskew=None, carpdev=None,
            up=block.up, running=block.running, addresses=addresses, carppeer=None,
        )
        return [unconfigured]
    if not vhids:
        fail(_WHAT_CARP, None, f"{block.name}: balancing carp line without any vhid line")
    numbers = [v.vhid for v in vhids]
    if len(set(numbers)) != len(numbers):
        fail(_WHAT_CARP, None, f"{block.name}: a vhid is listed twice")
    return [
        CarpInterface(
            name=block.name,
            state=v.state,
            vhid=v.vhid,
            advbase=common.advbase,
            advskew=v.advskew,
            carpdev=common.carpdev,
            up=block.up,
            running=block.running,
            addresses=addresses,
            carppeer=common.carppeer,
            balancing=common.balancing,
        )
        for v in vhids
    ]


def _pfsync_block(block: IfBlock) -> Pfsync:
    lines = [(text, raw) for text, raw in block.details if text.split()[0] == "pfsync:"]
    if len(lines) > 1:
        fail(_WHAT_PFSYNC, lines[1][1], "second pfsync line")
    if not lines:
        return Pfsync(present=True, up=block.up, running=block.running, syncdev=None, syncpeer=None,
                      maxupd=None, defer=None)
    text, raw = lines[0]
    pairs = _colon_pairs(text.split()[1:], raw)
    syncdev = require(pairs, "syncdev", _WHAT_PFSYNC, raw)
    if not _IFNAME.fullmatch(syncdev):
        fail(_WHAT_PFSYNC, raw, f"{syncdev!r} is not an interface name")
    syncpeer = pairs.get("syncpeer")
    if syncpeer is not None:
        to_ip(syncpeer, _WHAT_PFSYNC, raw, version=4)
    maxupd = pairs.get("maxupd")
    defer = pairs.get("defer")
    if defer not in (None, "on", "off"):
        fail(_WHAT_PFSYNC, raw, f"defer is {defer!r}, expected on or off")
    return Pfsync(
        present=True,
        up=block.up,
        running=block.running,
        syncdev=syncdev,
        syncpeer=syncpeer,
        maxupd=None if maxupd is None else to_int(maxupd, _WHAT_PFSYNC, raw, hi=255),
        defer=None if defer is None else defer == "on",
    )


def _colon_pairs(tokens: list[str], raw: str) -> dict[str, str]:
    """pfsync's `syncdev: em2 maxupd: 128 defer: off`: keys carry a colon."""
    keys = tokens[::2]
    if not all(key.endswith(":") for key in keys):
        fail(_WHAT_PFSYNC, raw, "expected 'key: value' pairs")
    unsuffixed = [token[:-1] if i % 2 == 0 else token for i, token in enumerate(tokens)]
    return key_value_pairs(unsuffixed, _WHAT_PFSYNC, raw)
