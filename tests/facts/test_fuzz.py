"""Property tests: parsers raise nothing but ParseError, and valid output round-trips.

Whatever a node prints (truncated by a dropped connection, interleaved with
a warning, a release with new lines), carpctl must either understand it or
say which line it could not read; an IndexError from a parser would surface
as a crash in the middle of a failover.
"""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carpctl.errors import ParseError
from carpctl.facts import (
    CARP_STATES,
    CarpInterface,
    HostCheck,
    Pfsync,
    RelaydEntry,
    RelaydSummary,
    count_states,
    parse_carp_interfaces,
    parse_carp_sysctl,
    parse_group_demote,
    parse_pf_errors,
    parse_pf_info,
    parse_pfsync,
    parse_rcctl_check,
    parse_rcctl_get,
    parse_relayctl,
    parse_sha256,
    parse_sysctl,
    parse_syspatch,
)

from ._fixtures import all_fixtures

# No example database: the tree is shared and tests must not write into it.
FUZZ = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ROUND_TRIP = settings(FUZZ, max_examples=120)

TEXT_PARSERS = [
    parse_carp_interfaces,
    parse_pfsync,
    parse_group_demote,
    parse_sysctl,
    parse_carp_sysctl,
    parse_pf_info,
    count_states,
    parse_pf_errors,
    parse_relayctl,
    parse_sha256,
    parse_syspatch,
]
STATUS_PARSERS = [parse_rcctl_get, parse_rcctl_check]

FIXTURES = all_fixtures()
# Characters that matter to the parsers, so that mutations hit separators and
# numbers more often than random Unicode would.
NOISE = st.sampled_from(
    list("\t \t  \n\r:=,.%()<>/-_0123456789abcdefxMASTERBACKUPINIT") + ["\u00a0", "\x00", "\u0661"]
)


def assert_only_parse_errors(text: str, exit_status: int) -> None:
    for parser in TEXT_PARSERS:
        _call(parser, text)
    for parser in STATUS_PARSERS:
        _call(parser, text, exit_status)


def _call(parser, *args) -> None:
    try:
        parser(*args)
    except ParseError as error:
        assert isinstance(error.message, str) and error.message
        assert error.line is None or isinstance(error.line, str)


@st.composite
def mutated_fixture(draw) -> str:
    text = FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))]
    for _ in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


def _position(draw, text: str) -> int:
    return draw(st.integers(0, len(text)))


def _truncate(draw, text: str) -> str:
    return text[: _position(draw, text)]


def _delete(draw, text: str) -> str:
    start = _position(draw, text)
    return text[:start] + text[start + draw(st.integers(1, 12)):]


def _insert_noise(draw, text: str) -> str:
    at = _position(draw, text)
    return text[:at] + "".join(draw(st.lists(NOISE, min_size=1, max_size=6))) + text[at:]


def _replace_char(draw, text: str) -> str:
    if not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    return text[:at] + draw(NOISE) + text[at + 1:]


def _mangle_number(draw, text: str) -> str:
    """Numbers are where lenient conversions (int(), float()) break."""
    runs = list(re.finditer(r"[0-9]+", text))
    if not runs:
        return text
    run = draw(st.sampled_from(runs))
    return text[: run.start()] + draw(BAD_NUMBERS) + text[run.end():]


def _mangle_word(draw, text: str) -> str:
    """Replace or drop one word: keywords, states, names, separators."""
    words = list(re.finditer(r"[^\s]+", text))
    if not words:
        return text
    word = draw(st.sampled_from(words))
    replacement = draw(st.one_of(st.just(""), st.text(NOISE, max_size=4), st.sampled_from(WORDS)))
    return text[: word.start()] + replacement + text[word.end():]


def _tabs_to_spaces(draw, text: str) -> str:
    return text.replace("\t", " " * draw(st.integers(0, 8)), draw(st.integers(1, 3)))


def _spaces_to_tabs(draw, text: str) -> str:
    return text.replace(" ", "\t", draw(st.integers(1, 3)))


def _shuffle_lines(draw, text: str) -> str:
    lines = text.split("\n")
    return "\n".join(draw(st.permutations(lines))) if len(lines) < 40 else text


def _duplicate_line(draw, text: str) -> str:
    lines = text.split("\n")
    at = draw(st.integers(0, len(lines) - 1))
    return "\n".join(lines[: at + 1] + lines[at:])


def _splice_fixture(draw, text: str) -> str:
    return text + FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))]


BAD_NUMBERS = st.sampled_from(
    ["", "-1", "1a", "\u0663", "1_0", " 7", "0x10", "1.5", "256", "9" * 23, "9" * 5000]
)
WORDS = sorted({word for text in FIXTURES.values() for word in text.split()})

MUTATIONS = [
    _mangle_number,
    _mangle_word,
    _truncate,
    _delete,
    _insert_noise,
    _replace_char,
    _tabs_to_spaces,
    _spaces_to_tabs,
    _shuffle_lines,
    _duplicate_line,
    _splice_fixture,
]


@FUZZ
@given(st.text(max_size=400), st.integers(-1, 3))
def test_random_text_raises_nothing_but_parse_error(text, exit_status):
    assert_only_parse_errors(text, exit_status)


@FUZZ
@given(mutated_fixture(), st.integers(-1, 3))
def test_mutated_and_truncated_fixtures_raise_nothing_but_parse_error(text, exit_status):
    assert_only_parse_errors(text, exit_status)


def test_every_fixture_raises_nothing_but_parse_error_in_every_parser():
    for text in FIXTURES.values():
        for exit_status in (0, 1, 2):
            assert_only_parse_errors(text, exit_status)


@pytest.mark.parametrize("value", [None, 0, 1.5, b"carp0: flags=0<>", ["x"]])
def test_non_text_input_is_a_parse_error_too(value):
    assert_only_parse_errors(value, 0)  # type: ignore[arg-type]


# -- round trips: generate the facts, print them as ifconfig does, parse back ----------

IFNAMES = st.from_regex(r"[a-z]{1,6}[0-9]{1,3}", fullmatch=True)
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).map(str)
FLAG_BITS = [("UP", 0x1), ("BROADCAST", 0x2), ("RUNNING", 0x40), ("SIMPLEX", 0x800),
             ("MULTICAST", 0x8000)]
BALANCING_MODES = ["none", "ip", "ip-stealth", "ip-unicast"]


def render_carp_block(name, up, running, carp_lines, addresses) -> str:
    """One block laid out as sbin/ifconfig prints it (openbsd-reference.md 1.1)."""
    present = [(flag, bit) for flag, bit in FLAG_BITS
               if (flag != "UP" or up) and (flag != "RUNNING" or running)]
    flags = sum(bit for _, bit in present)
    names = ",".join(flag for flag, _ in present)
    lines = [f"{name}: flags={flags:x}<{names}> mtu 1500", "\tlladdr 00:00:5e:00:01:01",
             "\tindex 7 priority 15 llprio 3", *carp_lines, "\tgroups: carp", "\tstatus: master"]
    for address in addresses:
        if ":" in address:
            lines.append(f"\tinet6 {address} prefixlen 64")
        else:
            lines.append(f"\tinet {address} netmask 0xffffff00 broadcast 192.168.1.255")
    return "\n".join(lines) + "\n"


@st.composite
def carp_block(draw, name: str) -> tuple[str, list[CarpInterface]]:
    """A carp interface of one of the three shapes, printed, with what it must parse to."""
    up, running = draw(st.booleans()), draw(st.booleans())
    addresses = tuple(draw(st.lists(st.one_of(IPV4, IPV6), max_size=3)))
    kind = draw(st.sampled_from(["single", "balanced", "unconfigured"]))
    if kind == "unconfigured":
        unconfigured = CarpInterface(name=name, state="INIT", vhid=None, advbase=None,
                                     advskew=None, carpdev=None, up=up, running=running,
                                     addresses=addresses, carppeer=None)
        return render_carp_block(name, up, running, [], addresses), [unconfigured]
    carpdev = draw(st.one_of(st.none(), IFNAMES))
    carppeer = draw(st.one_of(st.none(), IPV4))
    advbase = draw(st.integers(0, 254))
    count = 1 if kind == "single" else draw(st.integers(2, 4))
    vhids = draw(st.lists(st.integers(1, 255), min_size=count, max_size=count, unique=True))
    states = [draw(st.sampled_from(CARP_STATES)) for _ in vhids]
    skews = [draw(st.integers(0, 254)) for _ in vhids]
    mode = None if kind == "single" else draw(st.sampled_from(BALANCING_MODES))
    dev = f"carpdev {carpdev or 'none'}"
    peer = f" carppeer {carppeer}" if carppeer else ""
    if kind == "single":
        lines = [f"\tcarp: {states[0]} {dev} vhid {vhids[0]} advbase {advbase} "
                 f"advskew {skews[0]}{peer}"]
    else:
        lines = [f"\tcarp: {dev} advbase {advbase} balancing {mode}{peer}"]
        lines += [f"\t\tstate {s} vhid {v} advskew {k}" for s, v, k in zip(states, vhids, skews)]
    expected = [
        CarpInterface(name=name, state=s, vhid=v, advbase=advbase, advskew=k, carpdev=carpdev,
                      up=up, running=running, addresses=addresses, carppeer=carppeer,
                      balancing=mode)
        for s, v, k in zip(states, vhids, skews)
    ]
    return render_carp_block(name, up, running, lines, addresses), expected


@st.composite
def pfsync_block(draw) -> tuple[str, Pfsync]:
    up = draw(st.booleans())
    text = f"pfsync0: flags={'41<UP,RUNNING>' if up else '0<>'} mtu 1500\n"
    text += "\tindex 9 priority 0 llprio 3\n"
    syncdev = draw(st.one_of(st.none(), IFNAMES))
    if syncdev is None:
        return text + "\tgroups: carp pfsync\n", Pfsync(present=True, up=up, running=up,
                                                        syncdev=None, syncpeer=None, maxupd=None,
                                                        defer=None)
    syncpeer = draw(st.one_of(st.none(), IPV4))
    maxupd, defer = draw(st.integers(0, 255)), draw(st.booleans())
    peer = f"syncpeer: {syncpeer} " if syncpeer else ""
    text += (f"\tpfsync: syncdev: {syncdev} {peer}maxupd: {maxupd} "
             f"defer: {'on' if defer else 'off'}\n")
    return text + "\tgroups: carp pfsync\n", Pfsync(present=True, up=up, running=up,
                                                    syncdev=syncdev, syncpeer=syncpeer,
                                                    maxupd=maxupd, defer=defer)


@ROUND_TRIP
@given(st.data())
def test_generated_ifconfig_carp_listings_round_trip(data):
    numbers = data.draw(st.lists(st.integers(0, 99), max_size=4, unique=True))
    text, expected = "", []
    for number in numbers:
        block, interfaces = data.draw(carp_block(f"carp{number}"))
        text += block
        expected += interfaces
    pfsync_text, pfsync = data.draw(pfsync_block())
    text += pfsync_text
    assert parse_carp_interfaces(text) == tuple(expected)
    assert parse_pfsync(text) == pfsync


# -- round trip of relayctl show hosts ---------------------------------------------------

NAMES = st.from_regex(r"[a-z0-9][a-z0-9.:-]{0,39}", fullmatch=True)
HOST_STATUS = st.sampled_from(["up", "down", "unknown", "disabled"])
CHECK_ERRORS = st.one_of(st.none(), st.sampled_from(["tcp connect timeout", "http code mismatch"]))


def row(ident, kind, name, availability, status) -> str:
    """A row as relayctl.c's show_summary_msg pads it: 4, 8, 24 and 7 columns, TABs between."""
    return f"{ident:<4}\t{kind:<8}\t{name:<24}\t{availability:<7}\t{status}"


@st.composite
def host_rows(draw, ident: int) -> tuple[list[str], RelaydEntry, HostCheck | None]:
    name, status = draw(NAMES), draw(HOST_STATUS)
    hundredths = draw(st.one_of(st.none(), st.integers(0, 10000)))
    percent = None if hundredths is None else hundredths / 100
    parent = draw(st.one_of(st.none(), st.integers(1, 99)))
    label = name if parent is None else f"{name} parent {parent}"
    lines = [row(ident, "host", label, "" if percent is None else f"{percent:.2f}%", status)]
    entry = RelaydEntry(id=ident, type="host", name=name, availability=percent, status=status,
                        parent=parent)
    if not draw(st.booleans()):
        return lines, entry, None
    check = HostCheck(draw(st.integers(0, 99)), draw(st.integers(0, 99)),
                      draw(st.integers(0, 5)), draw(CHECK_ERRORS))
    line = f"\t        \ttotal: {check.up}/{check.checks} checks"
    line += f", {check.retries} retries" if check.retries else ""
    line += f", error: {check.error}" if check.error else ""
    return lines + [line], entry, check


@st.composite
def relayd_listing(draw) -> tuple[str, RelaydSummary]:
    rows = ["Id  \tType    \tName                    \tAvlblty\tStatus"]
    entries: list[RelaydEntry] = []
    checks: dict[int, HostCheck] = {}
    for ident in draw(st.lists(st.integers(0, 9999), max_size=6, unique=True)):
        kind = draw(st.sampled_from(["table", "host", "relay"]))
        if kind == "host":
            lines, entry, check = draw(host_rows(ident))
            if check is not None:
                checks[ident] = check
        else:
            statuses = ["active (2 hosts)", "empty", "disabled"] if kind == "table" else ["active"]
            entry = RelaydEntry(id=ident, type=kind, name=draw(NAMES), availability=None,
                                status=draw(st.sampled_from(statuses)))
            lines = [row(ident, kind, entry.name, "", entry.status)]
        rows += lines
        entries.append(entry)
    return "\n".join(rows) + "\n", RelaydSummary(True, tuple(entries), MappingProxyType(checks))


@ROUND_TRIP
@given(relayd_listing())
def test_generated_relayctl_show_hosts_round_trips(listing):
    text, expected = listing
    assert parse_relayctl(text) == expected
