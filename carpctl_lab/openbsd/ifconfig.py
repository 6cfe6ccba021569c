"""The emulated `ifconfig`: listings, the carp group's demote counter, and setters.

Messages and exit codes follow openbsd-reference.md sections 1.1-1.3: range
checks come before the permission check, a setter naming a missing carpN creates
it (the implicit-create trap), and successful setters print nothing.
"""

from __future__ import annotations

import ipaddress
import re

from ..proc import Proc, Registry
from .ifaces import (
    Address,
    Iface,
    carp_status,
    default_broadcast,
    parse_address,
    render_block,
)

REGISTRY = Registry()
CLONEABLE = re.compile(r"^(carp|pfsync|vlan|trunk|aggr|lo|enc|pflog)\d+$")
RANGES = {"advskew": (0, 254), "advbase": (0, 254), "vhid": (1, 255), "maxupd": (0, 255)}
IOCTL = {"up": "SIOCSIFFLAGS", "down": "SIOCSIFFLAGS", "inet": "SIOCAIFADDR",
         "syncdev": "SIOCSETPFSYNC", "-syncdev": "SIOCSETPFSYNC", "syncpeer": "SIOCSETPFSYNC",
         "maxupd": "SIOCSETPFSYNC", "defer": "SIOCSETPFSYNC", "-defer": "SIOCSETPFSYNC",
         "description": "SIOCSIFDESCR", "destroy": "SIOCIFDESTROY"}


class IfconfigError(Exception):
    """One `ifconfig: ...` line on stderr, exit 1."""


@REGISTRY.command("ifconfig")
def ifconfig(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    node.pair.advance()
    args = argv[1:]
    try:
        if not args or args in (["-a"], ["-A"]):
            proc.out(_render_all(node))
            return 0
        if args[0] == "-g":
            return _group(proc, args[1:])
        name, words = args[0], args[1:]
        if not words:
            return _show(proc, name)
        _set(proc, name, words)
        return 0
    except IfconfigError as exc:
        return proc.fail(f"ifconfig: {exc}")


# -- listings ---------------------------------------------------------------------------
def _carp_views(node) -> dict:
    return {v.name: v for v in node.pair.model.interfaces(node.name)}


def _block(node, iface: Iface, views: dict) -> str:
    carp = views.get(iface.name)
    link = node.links.get(iface.name, True)
    return render_block(iface, carp=carp, link=link, carp_status=carp_status(carp))


def _render_all(node) -> str:
    views = _carp_views(node)
    ifaces = sorted(node.ifaces.values(), key=lambda i: i.index)
    return "".join(_block(node, iface, views) for iface in ifaces)


def _group_members(node, group: str) -> list[Iface]:
    return [i for i in sorted(node.ifaces.values(), key=lambda i: i.index) if group in i.groups]


def _show(proc: Proc, name: str) -> int:
    node = proc.node
    views = _carp_views(node)
    if name in node.ifaces:
        proc.out(_block(node, node.ifaces[name], views))
        return 0
    if not name[-1:].isdigit():
        members = _group_members(node, name)
        if members or name == "carp":
            proc.out("".join(_block(node, i, views) for i in members))
            return 0
    return proc.fail(f"{name}: no such interface")


# -- the carp group's demote counter ------------------------------------------------------
def _group(proc: Proc, args: list[str]) -> int:
    node = proc.node
    if not args:
        raise IfconfigError("-g: group name required")
    group, rest = args[0], args[1:]
    known = group == "carp" or _group_members(node, group)
    if not rest:
        if not known:
            raise IfconfigError(f"{group}: SIOCGIFGATTR: No such file or directory")
        try:
            demote = node.pair.model.demote(node.name, group)
        except LookupError:
            demote = 0
        proc.out(f"{group}: carp demote count {demote}\n")
        return 0
    action = rest[0]
    if action not in ("carpdemote", "-carpdemote") or len(rest) > 2:
        raise IfconfigError(f"{' '.join(rest)}: bad value")
    amount = _number(rest[1], "carp demotion", 0, 128, group) if len(rest) == 2 else 1
    if not proc.root:
        raise IfconfigError(f"{group}: SIOCSIFGATTR: Operation not permitted")
    if not known:
        raise IfconfigError(f"{group}: SIOCGIFGATTR: No such file or directory")
    try:
        node.pair.model.create_group(node.name, group, node.now())
        node.pair.model.carpdemote(node.name, amount if action == "carpdemote" else -amount,
                                   node.now(), group=group)
    except ValueError:
        raise IfconfigError(f"{group}: SIOCSIFGATTR: Invalid argument") from None
    return 0


def _number(text: str, what: str, low: int, high: int, group: str | None = None) -> int:
    """strtonum-style range check with ifconfig's wording."""
    try:
        value = int(text, 10)
    except ValueError:
        problem = "invalid"
    else:
        if value < low:
            problem = "too small"
        elif value > high:
            problem = "too large"
        else:
            return value
    if group is not None:
        raise IfconfigError(f"{group}: invalid {what}: {problem}")
    raise IfconfigError(f"{what} {text}: {problem}")


# -- setters ------------------------------------------------------------------------------
def _parse_settings(words: list[str]) -> list[tuple[str, object]]:
    """ifconfig's words as (keyword, value) in order; values range-checked."""
    settings: list[tuple[str, object]] = []
    i = 0
    takes_value = {"vhid", "advbase", "advskew", "carpdev", "pass", "state", "carppeer",
                   "syncdev", "syncpeer", "maxupd", "description", "group", "-group",
                   "netmask", "broadcast", "mtu"}
    while i < len(words):
        word = words[i]
        if word in takes_value:
            if i + 1 >= len(words):
                raise IfconfigError(f"{word}: requires a value" if word != "pass"
                                    else "pass: requires a value")
            value: object = words[i + 1]
            if word in RANGES:
                value = _number(str(value), word, *RANGES[word])
            settings.append((word, value))
            i += 2
        elif word in ("inet", "alias", "-alias"):
            if word == "inet" and i + 1 < len(words):
                settings.append(("inet", words[i + 1]))
                i += 2
            else:
                i += 1
        elif word in ("up", "down", "create", "destroy", "defer", "-defer", "-syncdev",
                      "-syncpeer", "-carppeer", "-description", "-pass", "-carpdev"):
            settings.append((word, None))
            i += 1
        else:
            try:
                ipaddress.IPv4Interface(word)
            except ValueError:
                raise IfconfigError(f"{word}: bad value") from None
            settings.append(("inet", word))
            i += 1
    return settings


def _set(proc: Proc, name: str, words: list[str]) -> None:
    node = proc.node
    settings = _parse_settings(words)
    if not proc.root:
        keyword = settings[0][0] if settings else "up"
        ioctl = IOCTL.get(keyword, "SIOCSVH" if name.startswith("carp") else "SIOCSIFFLAGS")
        raise IfconfigError(f"{name}: {ioctl}: Operation not permitted")
    iface = node.ifaces.get(name)
    if iface is None:
        if not CLONEABLE.match(name):
            raise IfconfigError(f"{name}: SIOCIFCREATE: Invalid argument")
        iface = _create(node, name)
    keys = dict(settings)
    if "destroy" in keys:
        _destroy(node, iface)
        return
    _check_groups(iface, settings)
    _apply_addresses(iface, settings)
    if iface.kind == "carp":
        _apply_carp(node, iface, settings)
    elif iface.kind == "pfsync":
        _apply_pfsync(node, iface, settings)
    for key, value in settings:
        if key == "description":
            iface.description = str(value)
        elif key == "-description":
            iface.description = None
        elif key == "group" and value not in iface.groups:
            iface.groups.append(str(value))
            if iface.name in _carp_views(node):
                node.pair.model.add_group(node.name, iface.name, str(value), node.now())
        elif key == "-group":
            iface.groups.remove(str(value))
            if iface.name in _carp_views(node):
                node.pair.model.remove_group(node.name, iface.name, str(value), node.now())
        elif key in ("up", "down") and iface.kind == "em":
            iface.up = key == "up"
            node.set_link(iface.name, iface.up and node.links.get(iface.name, True))


def _check_groups(iface: Iface, settings: list[tuple[str, object]]) -> None:
    """setifgroup/unsetifgroup's checks (ifconfig.c), before anything changes."""
    for key, value in settings:
        if key not in ("group", "-group"):
            continue
        word = "setifgroup" if key == "group" else "unsetifgroup"
        name = str(value)
        if not name:
            raise IfconfigError(f"{word}: group name empty")
        if len(name) >= 16:
            raise IfconfigError(f"{word}: group name too long")
        if name[-1].isdigit():
            raise IfconfigError(f"{word}: group names may not end in a digit")
        if key == "-group" and name not in iface.groups:
            raise IfconfigError(f"{name}: SIOCDIFGROUP: No such file or directory")


def _create(node, name: str) -> Iface:
    index = max(i.index for i in node.ifaces.values()) + 1
    iface = Iface(name, index)
    if name.startswith("carp"):
        iface.groups = ["carp"]
    elif name.startswith("pfsync"):
        iface.groups = ["carp", "pfsync"]
    node.ifaces[name] = iface
    return iface


def _destroy(node, iface: Iface) -> None:
    if iface.kind == "carp" and iface.name in _carp_views(node):
        node.pair.model.remove_interface(node.name, iface.name, node.now())
    if iface.kind == "pfsync":
        node.pfsync.up = False
    del node.ifaces[iface.name]


def _apply_addresses(iface: Iface, settings: list[tuple[str, object]]) -> None:
    keys = dict(settings)
    for key, value in settings:
        if key != "inet":
            continue
        try:
            address, prefix = parse_address(str(value), keys.get("netmask"))  # type: ignore[arg-type]
        except ValueError:
            raise IfconfigError(f"{value}: bad value") from None
        broadcast = keys.get("broadcast") or default_broadcast(address, prefix)
        iface.addresses = [a for a in iface.addresses if a.address != address]
        iface.addresses.append(Address(address, prefix, str(broadcast) if broadcast else None))
        iface.up = True  # assigning an address brings the interface up


def _guess_carpdev(node, iface: Iface) -> str | None:
    """Without `carpdev`, the kernel picks the interface on the carp address's subnet."""
    for address in iface.addresses:
        net = ipaddress.IPv4Network(f"{address.address}/{address.prefix}", strict=False)
        for other in node.ifaces.values():
            if other.kind == "em" and any(ipaddress.IPv4Address(a.address) in net
                                          for a in other.addresses):
                return other.name
    return None


def _apply_carp(node, iface: Iface, settings: list[tuple[str, object]]) -> None:
    model, now = node.pair.model, node.now()
    keys = dict(settings)
    if "carppeer" in keys:
        iface.carppeer = str(keys["carppeer"])
    if "-carppeer" in keys:
        iface.carppeer = None
    carp_keys = {k: v for k, v in keys.items()
                 if k in ("vhid", "advbase", "advskew", "carpdev", "pass")}
    current = _carp_views(node).get(iface.name)
    if current is None:
        iface.pending.update(carp_keys)
        if "vhid" in iface.pending:
            cfg = iface.pending
            model.configure(node.name, iface.name, now, vhid=int(cfg["vhid"]),
                            advbase=int(cfg.get("advbase", 1)), advskew=int(cfg.get("advskew", 0)),
                            carpdev=str(cfg.get("carpdev") or _guess_carpdev(node, iface) or "none"),
                            key=str(cfg["pass"])[:19] if cfg.get("pass") else None)
            for group in iface.groups:
                model.add_group(node.name, iface.name, group, now)
            iface.pending = {}
            if not iface.up:
                model.if_down(node.name, iface.name, now)
    else:
        if "pass" in carp_keys:
            model.set_key(node.name, iface.name, str(carp_keys["pass"]), now)
        if ("vhid" in carp_keys and carp_keys["vhid"] != current.vhid) or \
                ("carpdev" in carp_keys and carp_keys["carpdev"] != current.carpdev):
            model.configure(node.name, iface.name, now,
                            vhid=int(carp_keys.get("vhid", current.vhid)),
                            advbase=int(carp_keys.get("advbase", current.advbase)),
                            advskew=int(carp_keys.get("advskew", current.advskew)),
                            carpdev=str(carp_keys.get("carpdev", current.carpdev)))
        else:
            if "advbase" in carp_keys:
                model.set_advbase(node.name, iface.name, int(carp_keys["advbase"]), now)
            if "advskew" in carp_keys:
                model.set_advskew(node.name, iface.name, int(carp_keys["advskew"]), now)
    configured = iface.name in _carp_views(node)
    if configured and "inet" in keys and "down" not in keys \
            and not _carp_views(node)[iface.name].up:
        model.if_up(node.name, iface.name, now)  # an address brings it up (2-line hostname file)
    for key, value in settings:
        if key in ("up", "down"):
            iface.up = key == "up"
            if configured:
                (model.if_up if iface.up else model.if_down)(node.name, iface.name, now)
        elif key == "state":
            if str(value).lower() not in ("master", "backup"):
                raise IfconfigError(f"state {value}: invalid")
            if configured:
                model.set_state(node.name, iface.name, str(value), now)


def _apply_pfsync(node, iface: Iface, settings: list[tuple[str, object]]) -> None:
    for key, value in settings:
        if key == "syncdev":
            if value not in node.ifaces:
                raise IfconfigError(f"{value}: no such interface")
            iface.syncdev = str(value)
        elif key == "-syncdev":
            iface.syncdev = None
        elif key == "syncpeer":
            iface.syncpeer = str(value)
        elif key == "-syncpeer":
            iface.syncpeer = None
        elif key == "maxupd":
            iface.maxupd = int(value)  # type: ignore[arg-type]
        elif key in ("defer", "-defer"):
            iface.defer = key == "defer"
        elif key in ("up", "down"):
            iface.up = key == "up"
    node.pfsync.syncdev = iface.syncdev
    node.pfsync.up = iface.up and iface.syncdev is not None
