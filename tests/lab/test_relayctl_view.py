"""`relayctl show ...` as the lab prints it, against relayctl.c and relayd's pfe.c.

The source material's configuration gives relay 1, table 1 and hosts 1 and 2:
relayd counts IDs per kind and gives the `table <webhosts>` template and its
hosts none (parse.y 1.258). The reference's example in section 6 numbers the
same objects 1 to 4, as relayd did before templates stopped taking IDs; the
layout is the same.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from carpctl_lab.conf.relayctl_view import HostHealth, show_rows
from carpctl_lab.conf.relayd import RelaydConfig, parse_relayd

FIXTURES = Path(__file__).parent / "fixtures"
ONE_DOWN = {
    "192.168.1.2": HostHealth(up=True, checks=12, passed=12),
    "192.168.1.3": HostHealth(up=False, checks=12, passed=0, error="http code mismatch"),
}


def source_material() -> RelaydConfig:
    return parse_relayd((FIXTURES / "source_material_relayd.conf").read_text(),
                        "/etc/relayd.conf")


def test_show_summary_of_the_source_material_prints_relayctls_columns():
    expected = (FIXTURES / "relayctl_show_summary.txt").read_text()
    assert show_rows(source_material(), "summary", ONE_DOWN.get) == expected


def test_show_hosts_adds_check_totals_and_the_error_of_a_down_host():
    expected = (FIXTURES / "relayctl_show_hosts.txt").read_text()
    assert show_rows(source_material(), "hosts", ONE_DOWN.get) == expected


def test_hosts_never_checked_are_unknown_and_their_table_empty():
    rows = show_rows(source_material(), "hosts", lambda name: None).splitlines()
    assert rows[1].split("\t")[-1] == "empty"
    assert rows[2] == "1   \thost    \t192.168.1.2             \t       \tunknown"
    assert len(rows) == 4


def test_availability_has_two_decimals_and_retries_are_counted():
    health = {"192.168.1.2": HostHealth(up=True, checks=3, passed=2, retries=1)}
    rows = show_rows(source_material(), "hosts", health.get).splitlines()
    assert rows[2].split("\t")[3] == "66.67% "
    assert rows[3] == "\t        \ttotal: 2/3 checks, 1 retries"


def test_a_disabled_host_shows_disabled_and_does_not_count_as_up():
    health = dict(ONE_DOWN, **{"192.168.1.2": HostHealth(up=None, disabled=True)})
    rows = show_rows(source_material(), "summary", health.get).splitlines()
    assert rows[2].endswith("\tempty") and rows[3].endswith("\tdisabled")


def test_show_relays_lists_only_relays():
    assert show_rows(source_material(), "relays", ONE_DOWN.get).splitlines()[1:] == [
        "1   \trelay   \twww                     \t       \tactive"]


REDIRECTS = """
table <web> { 10.0.0.1 10.0.0.2 }
table <sorry> { 10.0.0.9 }
redirect www {
  listen on 192.168.1.123 port 80
  forward to <web> check tcp
  forward to <sorry> check icmp
}
"""


def redirect_config() -> RelaydConfig:
    return parse_relayd(REDIRECTS, "/etc/relayd.conf")


def test_a_redirect_lists_its_table_then_its_backup_table():
    health = {"10.0.0.1": HostHealth(True, 1, 1), "10.0.0.9": HostHealth(True, 1, 1)}
    rows = show_rows(redirect_config(), "summary", health.get).splitlines()
    assert [r.split("\t")[1].strip() for r in rows[1:]] == [
        "redirect", "table", "host", "host", "table", "host"]
    assert rows[1].endswith("\tactive") and rows[5].split("\t")[2].strip() == "sorry:80"


def test_a_redirect_runs_on_its_backup_table_when_its_table_is_empty_and_is_down_without():
    backup_only = {"10.0.0.9": HostHealth(True, 1, 1)}
    assert show_rows(redirect_config(), "redirects", backup_only.get).splitlines()[1] \
        .endswith("\tactive (using backup table)")
    assert show_rows(redirect_config(), "redirects", lambda n: None).splitlines()[1] \
        .endswith("\tdown")


def test_a_disabled_redirect_hides_its_tables_and_a_disabled_table_its_hosts():
    config = redirect_config()
    rdr = config.redirects[0]
    off = replace(config, redirects=(replace(rdr, disabled=True),))
    assert show_rows(off, "summary", lambda n: None).splitlines()[1:] == [
        "1   \tredirect\twww                     \t       \tdisabled"]
    table = replace(rdr.tables[0], disabled=True)
    table_off = replace(config, redirects=(replace(rdr, tables=(table, rdr.tables[1])),))
    kinds = [r.split("\t")[1].strip() for r in
             show_rows(table_off, "hosts", lambda n: None).splitlines()[1:]]
    assert kinds == ["table", "table", "host"]


def test_a_long_name_pushes_the_columns_instead_of_being_cut():
    config = parse_relayd(
        "table <a-very-long-table-name-indeed> { 10.0.0.1 }\n"
        "relay r {\n  listen on 10.0.0.9 port 80\n"
        "  forward to <a-very-long-table-name-indeed> port 80 check tcp\n}\n",
        "/etc/relayd.conf")
    row = show_rows(config, "summary", lambda n: None).splitlines()[2]
    assert row == "1   \ttable   \ta-very-long-table-name-indeed:80\t       \tempty"


def test_an_unknown_show_is_refused():
    with pytest.raises(ValueError):
        show_rows(source_material(), "sessions", ONE_DOWN.get)
