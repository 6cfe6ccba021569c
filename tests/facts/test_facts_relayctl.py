"""What carpctl relies on from relayctl show summary / show hosts."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts import HostCheck, RelaydEntry, parse_relayctl

from ._fixtures import fixture


def test_show_summary_lists_the_relay_its_table_and_hosts():
    summary = parse_relayctl(fixture("relayctl_show_summary.txt"))
    assert summary.running
    assert summary.relays() == (RelaydEntry(id=1, type="relay", name="www", availability=None,
                                            status="active"),)
    assert [e for e in summary.entries if e.type == "table"] == [
        RelaydEntry(id=2, type="table", name="webhosts:80", availability=None,
                    status="active (1 hosts)")]
    assert [(h.name, h.availability, h.status) for h in summary.hosts()] == [
        ("192.168.1.2", 100.0, "up"),
        ("192.168.1.3", 0.0, "down"),
    ]
    assert [h.name for h in summary.hosts_up()] == ["192.168.1.2"]


def test_show_hosts_attaches_each_check_line_to_the_host_above_it():
    summary = parse_relayctl(fixture("relayctl_show_hosts.txt"))
    assert dict(summary.host_checks) == {
        3: HostCheck(up=12, checks=12, retries=0, error=None),
        4: HostCheck(up=0, checks=12, retries=0, error="http code mismatch"),
    }


def test_relayd_not_running_is_a_summary_with_nothing_in_it():
    for name in ("relayctl_not_running.txt", "relayctl_connection_refused.txt"):
        summary = parse_relayctl(fixture(name))
        assert (summary.running, summary.entries, dict(summary.host_checks)) == (False, (), {})


def test_a_socket_permission_error_is_refused_with_a_hint():
    with pytest.raises(ParseError, match="needs root"):
        parse_relayctl(fixture("relayctl_permission_denied.txt"))


def test_a_running_relayd_with_nothing_configured_has_no_entries():
    summary = parse_relayctl(fixture("relayctl_show_summary_empty.txt"))
    assert summary.running and summary.entries == ()


def test_names_longer_than_their_column_and_parent_hosts_parse():
    summary = parse_relayctl(fixture("relayctl_show_summary_redirects.txt"))
    assert summary.redirects()[0].status == "active (using backup table)"
    assert RelaydEntry(id=2, type="host", name="10.0.0.12", availability=0.0, status="down",
                       parent=1) in summary.hosts()
    assert summary.relays()[0].name == "https-frontend-with-a-long-name"
    assert summary.hosts_up()[0] == RelaydEntry(id=4, type="host",
                                                name="a-very-long-backend-hostname.example.org",
                                                availability=99.87, status="up")


def test_a_table_listed_under_two_services_counts_its_hosts_once():
    summary = parse_relayctl(fixture("relayctl_show_summary_redirects.txt"))
    assert [h.id for h in summary.hosts()] == [1, 2, 3, 4]


def test_relay_statistics_lines_are_skipped():
    summary = parse_relayctl(fixture("relayctl_show_relays.txt"))
    assert [r.name for r in summary.relays()] == ["www"]


@pytest.mark.parametrize(
    "row",
    [
        "5   \thost    \t192.168.1.4             \t100.00%\tsleeping",
        "5   \tpool    \tp                       \t       \tactive",
        "5   \ttable   \tt:80                    \t50.00% \tempty",
        "x   \thost    \t192.168.1.4             \t100.00%\tup",
        "5   \thost    \t192.168.1.4             \t101.00%\tup",
        "5   host    192.168.1.4             100.00% up",
        "\t        \ttotal: twelve checks",
    ],
)
def test_a_damaged_row_is_refused(row):
    text = fixture("relayctl_show_hosts.txt") + row + "\n"
    with pytest.raises(ParseError) as caught:
        parse_relayctl(text)
    assert caught.value.line == row


def test_output_without_the_header_is_refused():
    rows = fixture("relayctl_show_summary.txt").split("\n", 1)[1]
    with pytest.raises(ParseError, match="header"):
        parse_relayctl(rows)
