"""The inventory: which pairs exist, how to reach their nodes, what to deploy.

``load_inventory`` reads one YAML file or a directory of them, checks every
value (see ``carpctl.inventory.schema``) and returns frozen, typed objects;
the rest of carpctl never looks at YAML.

Where a node's settings come from, first match wins:

1. the node's own keys, then its pair's, then ``defaults`` (the inventory);
2. ``~/.ssh/config`` for the node's ``host`` (HostName, User, Port,
   IdentityFile, ProxyJump, HashKnownHosts), as ``ssh HOST`` would use them;
3. built-in defaults: user root, port 22, no become, connect_timeout 10.

So the inventory beats ssh config, like options on an ssh command line do,
and a built-in default never does; the exception is HostName, which always
replaces ``host`` because ``host`` is what you would type after ``ssh`` (an
alias is fine). Jump hosts are resolved through ssh config too. The resulting
Node holds final values and where each came from: a transport must not read
ssh config again.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carpctl.errors import InventoryError, UsageError
from carpctl.inventory import schema
from carpctl.inventory.secrets import Secret, find_secrets
from carpctl.inventory.ssh_config import Jump, Lookup, jump_chain, ssh_config_lookup
from carpctl.inventory.yaml_reader import (
    Ctx,
    InvalidInventory,
    Problems,
    read_mapping,
    read_yaml,
    show,
    unknown_key,
)

__all__ = [
    "DeploySettings",
    "FailoverSettings",
    "FileSpec",
    "InvalidInventory",
    "Inventory",
    "Jump",
    "Node",
    "Pair",
    "load_inventory",
]

DEFAULT_PATH = "inventory"
ENV_VAR = "CARPCTL_INVENTORY"
#: Built-in connection settings, used when neither the inventory nor ssh config sets them.
CONNECTION_DEFAULTS = {
    "user": "root",
    "become": "none",
    "port": 22,
    "identity_file": (),
    "known_hosts": (),
    "connect_timeout": 10.0,
    "proxy_jump": None,
    "hash_known_hosts": False,
}
BUILT_IN = "built-in default"
#: RFC 5737 and RFC 3849: addresses for examples, which no firewall has.
DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))


@dataclass(frozen=True, kw_only=True)
class FailoverSettings:
    """How ``carpctl failover`` moves MASTER away from a node.

    method: ``advskew`` raises the node's advskew on every carp interface (the
        source material's procedure; needs ``net.inet.carp.preempt=1`` on the
        peer); ``carpdemote`` raises the node's carp demote counter, which moves
        every vhid at once whatever preempt says.
    timeout: seconds to wait for the peer to become MASTER before undoing.
    settle: seconds the new MASTER must keep every vhid before the failover
        counts as done (catches a pair that flaps back).
    advskew: the advskew set on the node handing over (254, the highest
        ifconfig accepts, as in the source material).
    demote: the N of ``ifconfig -g carp carpdemote N`` (1..95: 128 + 32 + N <= 255 at boot).
    """

    method: str = "advskew"
    timeout: float = 30.0
    settle: float = 3.0
    advskew: int = 254
    demote: int = 50


@dataclass(frozen=True)
class DeploySettings:
    """Safety margins of ``carpctl deploy`` (inventory key ``deploy``).

    backups_keep: how many earlier versions of each replaced file are kept on
        the node (older ones are removed after a successful deploy).
    confirm_timeout: seconds after ``pfctl -f`` before the node itself puts
        the old rules back unless carpctl, over a new connection, confirms.
    """

    backups_keep: int = 5
    confirm_timeout: float = 60.0


@dataclass(frozen=True, kw_only=True)
class FileSpec:
    """One file ``deploy`` renders and installs on both nodes.

    template: the Jinja2 template (absolute; written relative to the
        inventory file). dest: absolute, clean path on the node.
    kind: ``pf`` and ``relayd`` are validated and applied by carpctl itself
        (``pfctl -nf``, ``relayd -n``, lockout protection); it is inferred from
        dest (/etc/pf.conf, /etc/relayd.conf) or given. Everything else is
        ``other``, validated and applied by the optional commands below.
    mode: permissions (0600 for pf/relayd, 0644 otherwise); owner/group:
        root/wheel unless given.
    validate: command run on the node before installing; ``{file}`` is the
        uploaded copy. apply: command run after installing; ``{file}`` is dest.
    """

    template: Path
    dest: str
    kind: str
    mode: int
    owner: str = "root"
    group: str = "wheel"
    validate: str | None = None
    apply: str | None = None

    def validate_argv(self, file: str) -> tuple[str, ...] | None:
        """The validate command as words, ``{file}`` replaced after splitting."""
        return _argv(self.validate, file)

    def apply_argv(self) -> tuple[str, ...] | None:
        """The apply command as words, ``{file}`` being the installed dest."""
        return _argv(self.apply, self.dest)


def _argv(command: str | None, file: str) -> tuple[str, ...] | None:
    if command is None:
        return None
    return tuple(word.format(file=file) for word in shlex.split(command))


@dataclass(frozen=True, kw_only=True)
class Node:
    """One firewall and how to reach it, with every setting resolved.

    host/port/user: where ssh connects (after ~/.ssh/config's HostName).
    ssh_alias: the inventory's ``host`` when ssh config's HostName replaced it.
    become: ``doas`` runs privileged commands with ``doas -n`` as ``user``.
    identity_files: private keys to offer first; the agent's keys are always
        offered too, and ssh's default keys (~/.ssh/id_*) when none is named.
    known_hosts: extra known_hosts files, besides ~/.ssh/known_hosts; a new
        key accepted with --accept-new-host-keys is recorded in the first.
    proxy_jump: ``[user@]host[:port][,...]`` as in ssh's -J, or None.
    jumps: proxy_jump resolved through ssh config, first hop first.
    hash_known_hosts: ssh config's HashKnownHosts (record new keys hashed).
    connect_timeout: seconds for TCP connect and the SSH handshake.
    vars: template variables: defaults', then the pair's, then the node's
        own, each replacing whole top-level names (no deep merge).
    origins: for each connection setting, where its value came from.
    """

    name: str
    pair: str
    host: str
    port: int
    user: str
    become: str
    identity_files: tuple[Path, ...]
    known_hosts: tuple[Path, ...]
    proxy_jump: str | None
    connect_timeout: float
    vars: dict[str, Any]
    ssh_alias: str | None = None
    jumps: tuple[Jump, ...] = ()
    hash_known_hosts: bool = False
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __hash__(self) -> int:
        return hash((self.pair, self.name))

    def refuse_documentation_addresses(self) -> None:
        """UsageError if this node or a jump host is a documentation address.

        Such an address is the shipped example's, never a firewall's: dialling
        it would only time out, far from the real mistake. The host is judged
        as written (after ssh config's HostName), without any DNS lookup.
        """
        hops = [("'s jump host" + (f" {jump.name}" if jump.name != jump.host else ""), jump.host)
                for jump in self.jumps]
        for what, host in [*hops, ("", self.host)]:
            if _is_documentation_address(host):
                raise UsageError(
                    f"{self.pair}/{self.name}{what} is {host}, a documentation address: this is "
                    f"the example inventory; copy it and put your firewalls' addresses",
                    hint="`carpctl init DIR` writes a copy to edit; `carpctl lab up` starts an "
                         "emulated pair with an inventory of its own")


def _is_documentation_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False   # a name: never looked up here
    return any(address in network for network in DOCUMENTATION_NETWORKS
               if network.version == address.version)


@dataclass(frozen=True, kw_only=True)
class Pair:
    """Two nodes sharing CARP addresses, with what to deploy and how to fail over."""

    name: str
    nodes: tuple[Node, Node]
    failover: FailoverSettings
    files: tuple[FileSpec, ...]
    vars: dict[str, Any]
    source_file: Path
    deploy: DeploySettings = field(default_factory=DeploySettings)
    pfsync: bool = True               # false: no pfsync between the nodes (states not synced)
    release: str | None = None        # the release the nodes should run (status finding if not)

    def __hash__(self) -> int:
        return hash(self.name)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise UsageError(f"pair {self.name} has no node {name!r} (its nodes: {known})")

    def peer_of(self, node_name: str) -> Node:
        """The other node of the pair."""
        node = self.node(node_name)
        return self.nodes[1] if node is self.nodes[0] else self.nodes[0]

    @property
    def secrets(self) -> tuple[Secret, ...]:
        """Every secret in the pair's and nodes' variables, for redaction."""
        return find_secrets([self.vars, *(n.vars for n in self.nodes)])


@dataclass(frozen=True)
class Inventory:
    """The loaded inventory: its path, its pairs by name, the YAML files read."""

    source: Path
    pairs: dict[str, Pair]
    files: tuple[Path, ...] = ()

    def pair(self, name: str | None = None) -> Pair:
        """A pair by name; the name may be left out when there is only one pair."""
        if name is None:
            if len(self.pairs) == 1:
                return next(iter(self.pairs.values()))
            count = len(self.pairs)
            raise UsageError(f"the inventory has {count} pairs ({self._known()}): name one")
        if name not in self.pairs:
            known = self._known()
            raise UsageError(f"no pair named {name!r} in {self.source} (known pairs: {known})")
        return self.pairs[name]

    def select(self, names: Sequence[str]) -> list[Pair]:
        """Pairs by name in the order given; none or ``all`` means every pair."""
        if not names or "all" in names:
            return list(self.pairs.values())
        return [self.pair(name) for name in dict.fromkeys(names)]

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return tuple(dict.fromkeys(s for pair in self.pairs.values() for s in pair.secrets))

    def _known(self) -> str:
        return ", ".join(self.pairs) or "none"


# -- loading ---------------------------------------------------------------


def load_inventory(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    ssh_config: Path | None = None,
) -> Inventory:
    """Load, merge and check an inventory; raise UsageError/InventoryError if unusable.

    ``path`` is a YAML file or a directory of ``*.yml``/``*.yaml`` files; when
    None, ``$CARPCTL_INVENTORY`` and then ``inventory/`` are used. ``environ``
    (default os.environ) is read for that variable and for ``{env: NAME}``
    secrets. ``ssh_config`` defaults to ``~/.ssh/config`` (ignored if absent).
    All mistakes are collected and raised together as one
    ``InvalidInventory`` (an InventoryError).
    """
    environ = os.environ if environ is None else environ
    source, how = _choose_source(path, environ)
    yaml_files = _yaml_files(source, how)
    problems = Problems()
    defaults, origins, raw_pairs = _read_files(yaml_files, environ, problems)
    lookup = ssh_config_lookup(ssh_config, problems)
    ssh_origin = f"ssh config {ssh_config or '~/.ssh/config'}"
    pairs = {}
    for name, (raw, ctx) in raw_pairs.items():
        layers = Layers(defaults, origins, lookup, ssh_origin)
        pair = _build_pair(name, raw, ctx, layers)
        if pair is not None:
            pairs[name] = pair
    if not raw_pairs and not problems.errors:
        problems.errors.append(InventoryError(str(source), "pairs", "no pairs are defined"))
    problems.raise_if_any()
    files = tuple(f.resolve() for f in yaml_files)
    return Inventory(source=source.resolve(), pairs=pairs, files=files)


def _choose_source(path: str | Path | None, environ: Mapping[str, str]) -> tuple[Path, str]:
    if path is not None:
        return Path(path), "given with -i"
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR]), f"from ${ENV_VAR}"
    return Path(DEFAULT_PATH), f"the default; choose another with -i PATH or ${ENV_VAR}"


def _yaml_files(source: Path, how: str) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise UsageError(f"inventory {source} does not exist ({how})")
    found = sorted(
        p for p in source.iterdir()
        if p.suffix in (".yml", ".yaml") and not p.name.startswith(".") and p.is_file()
    )
    if not found:
        raise UsageError(f"inventory directory {source} has no *.yml or *.yaml files ({how})")
    return found


RawPairs = dict[str, tuple[object, Ctx]]


def _read_files(
    yaml_files: list[Path], environ: Mapping[str, str], problems: Problems
) -> tuple[dict[str, Any], dict[str, str], RawPairs]:
    """Read every file: defaults merged key by key, pairs collected with their file.

    A key set in the defaults of two files, or a pair defined in two files,
    is an error naming both: with files merged in name order, "last one wins"
    would make the result depend on file names.
    """
    defaults: dict[str, Any] = {}
    origins: dict[str, str] = {}
    pairs: RawPairs = {}
    for file in yaml_files:
        shown = str(file)
        ctx = Ctx(file=file.resolve(), shown=shown, path="", environ=environ, problems=problems)
        with problems.collect():
            data = read_yaml(file, shown)
            if data is None:
                continue
            if not isinstance(data, Mapping):
                ctx.fail(f"must be a mapping with defaults and pairs, not {show(data)}")
                continue
            for key in sorted(map(str, data.keys() - set(schema.TOP_KEYS))):
                ctx.at(key).fail(unknown_key(key, schema.TOP_KEYS))
            if "defaults" in data:
                here = ctx.at("defaults")
                read = read_mapping(data["defaults"], schema.DEFAULTS_KEYS, here)
                _merge_defaults(defaults, origins, read, here)
            _collect_pairs(data.get("pairs", {}), ctx.at("pairs"), pairs)
    return defaults, origins, pairs


def _merge_defaults(into: dict, origins: dict[str, str], new: dict, ctx: Ctx) -> None:
    for key, value in new.items():
        nested = key in ("failover", "deploy", "vars")
        for sub, item in value.items() if nested else [(None, value)]:
            dotted = f"{key}.{sub}" if nested else key
            if dotted in origins:
                where = ctx.at(key).at(sub) if nested and sub is not None else ctx.at(key)
                first = origins[dotted]
                where.fail(f"is also set in the defaults of {first}; set it in one file only")
                continue
            origins[dotted] = ctx.shown
            if nested:
                into.setdefault(key, {})[sub] = item
            else:
                into[key] = item


def _collect_pairs(value: object, ctx: Ctx, pairs: RawPairs) -> None:
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        ctx.fail(f"must be a mapping of pair names to pairs, not {show(value)}")
        return
    for name, raw in value.items():
        if not schema.valid_name(name, "pair", schema.RESERVED_PAIR_NAMES, ctx):
            continue
        if name in pairs:
            ctx.at(name).fail(f"pair {name} is also defined in {pairs[name][1].shown}")
            continue
        pairs[name] = (raw, ctx.at(name))


@dataclass(frozen=True)
class Layers:
    """What a node's settings are chosen from, besides the pair and the node themselves."""

    defaults: dict
    origins: dict[str, str]   # defaults' dotted key -> the file that set it
    lookup: Lookup
    ssh_origin: str


def _build_pair(name: str, raw: object, ctx: Ctx, layers: Layers) -> Pair | None:
    required = {"nodes": "a pair has exactly two nodes"}
    data = read_mapping(raw, schema.PAIR_KEYS, ctx, required=required)
    defaults = layers.defaults
    pair_vars = {**defaults.get("vars", {}), **data.get("vars", {})}
    nodes = [
        _build_node(node_name, name, data, ctx, layers, pair_vars)
        for node_name in data.get("nodes", {})
        if "host" in data["nodes"][node_name]
    ]
    if len(nodes) != 2:
        return None
    first, second = nodes
    if (first.host, first.port) == (second.host, second.port):
        ctx.at("nodes").at(second.name).at("host").fail(
            f"{second.name} reaches the same host as {first.name} ({first.host}, port "
            f"{first.port}); a pair is two different machines"
        )
        return None
    return Pair(
        name=name,
        nodes=(first, second),
        failover=FailoverSettings(**{**defaults.get("failover", {}), **data.get("failover", {})}),
        deploy=DeploySettings(**{**defaults.get("deploy", {}), **data.get("deploy", {})}),
        files=tuple(FileSpec(**entry) for entry in data.get("files", defaults.get("files", []))),
        vars=pair_vars,
        source_file=ctx.file,
        pfsync=data.get("pfsync", True),
        release=data.get("release"),
    )


def _build_node(name: str, pair: str, pair_data: dict, pair_ctx: Ctx, layers: Layers,
                pair_vars: dict) -> Node:
    """Apply the chain: node over pair over defaults, then ssh config, then built-ins."""
    node_data = pair_data["nodes"][name]
    node_ctx = pair_ctx.at("nodes").at(name)
    host = node_data["host"]
    from_ssh = layers.lookup(host)
    settings: dict[str, Any] = dict(CONNECTION_DEFAULTS)
    origins = dict.fromkeys(CONNECTION_DEFAULTS, BUILT_IN)
    for key, value in from_ssh.items():
        settings[key], origins[key] = value, f"{layers.ssh_origin} (Host {host})"
    inventory_layers = [
        (layers.defaults, lambda key: f"{layers.origins[key]}: defaults.{key}"),
        (pair_data, lambda key: f"{pair_ctx.shown}: {pair_ctx.path}.{key}"),
        (node_data, lambda key: f"{node_ctx.shown}: {node_ctx.path}.{key}"),
    ]
    for layer, origin in inventory_layers:
        for key in layer.keys() & schema.CONNECTION_KEYS.keys():
            settings[key], origins[key] = layer[key], origin(key)
    resolved = from_ssh.get("host", host)
    origins["host"] = (f"{layers.ssh_origin} (HostName for {host})" if resolved != host
                       else f"{node_ctx.shown}: {node_ctx.path}.host")
    try:
        jumps = jump_chain(settings["proxy_jump"], layers.lookup)
    except ValueError as exc:
        node_ctx.at("proxy_jump").fail(f"{settings['proxy_jump']!r} {exc}")
        jumps = ()
    fields = {key: settings[key] for key in CONNECTION_DEFAULTS if key != "identity_file"}
    return Node(
        name=name,
        pair=pair,
        host=resolved,
        vars={**pair_vars, **node_data.get("vars", {})},
        ssh_alias=host if resolved != host else None,
        identity_files=settings["identity_file"],
        jumps=jumps,
        origins=origins,
        **fields,
    )
