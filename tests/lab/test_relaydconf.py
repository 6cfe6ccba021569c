"""The lab's relayd.conf checker against what `relayd -n` says on OpenBSD 7.x.

Expected messages come from usr.sbin/relayd/parse.y (rev 1.258): grammar
errors are `FILE:LINE: MESSAGE`, the whole-file checks after parsing have no
position, and IDs are counted per kind as table_inherit() and friends hand
them out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carpctl_lab.conf.relayd import RelaydSyntaxError, parse_relayd

FIXTURES = Path(__file__).parent / "fixtures"
CONF = "/etc/relayd.conf"
SOURCE = (FIXTURES / "source_material_relayd.conf").read_text()


def refusal(text: str, files: dict[str, str] | None = None) -> RelaydSyntaxError:
    def read(path: str) -> str:
        if files is None or path not in files:
            raise FileNotFoundError(2, "No such file or directory", path)
        return files[path]
    with pytest.raises(RelaydSyntaxError) as refused:
        parse_relayd(text, CONF, read)
    return refused.value


def test_the_source_materials_relayd_conf_is_accepted_as_one_relay_on_one_table():
    config = parse_relayd(SOURCE, CONF)
    assert (config.interval, config.timeout_ms) == (10, 200)
    (relay,) = config.relays
    assert (relay.id, relay.name, relay.listener.address, relay.listener.port) == (
        1, "www", "192.168.1.123", 80)
    (table,) = relay.tables
    assert (table.id, table.name, table.port, table.mode) == (1, "webhosts:80", 80, "loadbalance")
    assert (table.check, table.check_spec) == ("http", 'http "/" code 200')
    assert [(h.id, h.name) for h in table.hosts] == [(1, "192.168.1.2"), (2, "192.168.1.3")]
    assert config.tables == (table,) and config.redirects == () and config.routers == ()


def test_an_unknown_table_is_reported_at_its_forward_line_and_leaves_no_actions():
    text = SOURCE.replace("forward to <webhosts>", "forward to <webhost>")
    assert refusal(text).errors == [f"{CONF}:8: unknown table webhost",
                                    "no actions, nothing to do"]


def test_a_file_with_no_redirect_relay_or_router_has_nothing_to_do():
    text = 'ext_addr="192.168.1.123"\ntable <webhosts> { 192.168.1.2 }\n'
    error = refusal(text)
    assert error.errors == ["no actions, nothing to do"] and not error.first_pass


def test_a_syntax_error_in_a_relay_block_is_reported_at_its_line_and_drops_the_relay():
    text = SOURCE.replace("code 200\n", "code 200\n  sticky\n")
    assert refusal(text).errors == [f"{CONF}:9: syntax error", "no actions, nothing to do"]


def test_errors_before_the_first_service_stop_relayd_in_its_first_pass():
    text = "interval ten\ntable <t> { 10.0.0.1 }\nrelay r {\n listen on 10.0.0.9 port 80\n" \
           " forward to <nope> port 80\n}\n"
    error = refusal(text)
    assert error.first_pass and error.errors == [f"{CONF}:1: syntax error"]


def test_an_undefined_macro_is_reported_with_relayds_message():
    text = SOURCE.replace('ext_addr="192.168.1.123"\n', "")
    assert refusal(text).errors == [
        f"{CONF}:6: macro 'ext_addr' not defined",
        f"{CONF}:6: syntax error",
        "no actions, nothing to do",
    ]


def test_a_global_timeout_not_below_the_interval_is_refused():
    assert refusal(SOURCE + "timeout 10000\n").errors == ["global timeout exceeds interval"]


def test_tables_take_the_global_timeout_in_force_where_they_are_defined():
    assert refusal("interval 1\ntimeout 1000\n" + SOURCE).errors == [
        "global timeout exceeds interval", "table timeout exceeds interval: webhosts:80"]


def test_tables_no_service_uses_are_dropped_silently():
    config = parse_relayd("table <spare> { 10.0.0.9 }\n" + SOURCE, CONF)
    assert [t.name for t in config.tables] == ["webhosts:80"]


def test_ids_are_counted_per_kind_in_file_order_and_templates_take_none():
    text = (
        "table <web> { 10.0.0.1, 10.0.0.2 }\n"
        "table <sorry> { 10.0.0.9 }\n"
        "redirect www {\n"
        "  listen on 192.168.1.123 port 80\n"
        "  forward to <web> check tcp\n"
        "  forward to <sorry> check tcp\n"
        "}\n"
        "relay api {\n"
        "  listen on 192.168.1.123 port 8080\n"
        "  listen on 192.168.1.124 port 8080\n"
        "  forward to <web> port 8080 check tcp\n"
        "}\n"
    )
    config = parse_relayd(text, CONF)
    (rdr,) = config.redirects
    assert [(t.id, t.name) for t in rdr.tables] == [(1, "web:80"), (2, "sorry:80")]
    assert [h.id for t in config.tables for h in t.hosts] == [1, 2, 3, 4, 5]
    assert [(r.id, r.name, r.listener.address) for r in config.relays] == [
        (1, "api", "192.168.1.123"), (2, "api2:8080", "192.168.1.124")]
    assert config.relays[1].tables == config.relays[0].tables


@pytest.mark.parametrize("broken, message", [
    ("forward to <webhosts> port http mode loadbalance check http \"/\" code 200",
     None),
    ("forward to <webhosts> port htp check tcp", "unknown port htp"),
    ("forward to <webhosts> port http check smtp", "invalid check type: smtp"),
    ("forward to <webhosts> port http check tcp bogus", "syntax error"),
    ("forward to <webhosts> port http check https \"/\" code 0", "invalid HTTP code: 0"),
    ("forward to <webhosts> port http mode least-states check tcp",
     "mode not supported for relays"),
    ("protocol nosuch", "no such protocol: nosuch"),
])
def test_relayds_own_messages_for_common_mistakes_in_a_relay(broken, message):
    text = SOURCE.replace(
        'forward to <webhosts> port http mode loadbalance check http "/" code 200', broken)
    if message is None:
        parse_relayd(text, CONF)
        return
    assert refusal(text).errors[0] == f"{CONF}:8: {message}"


def test_a_redirect_needs_a_check_on_its_table():
    text = "table <web> { 10.0.0.1 }\nredirect www {\n  listen on 192.168.1.123 port 80\n" \
           "  forward to <web> port 80\n}\n"
    assert refusal(text).errors == [f"{CONF}:4: table web:80 has no check",
                                    "no actions, nothing to do"]


def test_included_files_are_read_through_the_reader_and_missing_ones_refused():
    files = {"/etc/relayd.tables": "table <webhosts> { 192.168.1.2 }\n"}
    text = SOURCE.replace("table <webhosts> { $webhost1 $webhost2 }",
                          'include "/etc/relayd.tables"')
    assert parse_relayd(text, CONF, files.__getitem__).tables[0].hosts[0].name == "192.168.1.2"
    error = refusal(text)
    assert error.first_pass and error.errors == [
        "pushfile: /etc/relayd.tables: No such file or directory",
        f"{CONF}:5: failed to include file /etc/relayd.tables",
    ]
