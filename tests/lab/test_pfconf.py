"""The lab's pf.conf checker against what `pfctl -nf` says on OpenBSD 7.x.

Expected messages and line numbers come from sbin/pfctl/parse.y (rev 1.719)
and the byacc parser it is built with: every error is `FILE:LINE: MESSAGE`,
the line is the one of the token being read when the error was noticed, and
yacc says nothing about a second syntax error until three tokens have been
accepted after the first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carpctl_lab.conf.pf import PfRuleset, PfSyntaxError, check_pf

FIXTURES = Path(__file__).parent / "fixtures"
CONF = "/etc/pf.conf"


def errors_of(text: str, files: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(PfSyntaxError) as refused:
        check_pf(text, CONF, reader(files or {}))
    return refused.value.errors


def reader(files: dict[str, str]):
    def read(path: str) -> str:
        if path not in files:
            raise FileNotFoundError(2, "No such file or directory", path)
        return files[path]
    return read


def source_material() -> PfRuleset:
    return check_pf((FIXTURES / "source_material_pf.conf").read_text(), CONF)


def test_the_source_material_setup_written_for_modern_pf_loads_as_pfctl_would_print_it():
    assert source_material().rules == (
        "block drop log all",
        'anchor "relayd/*" all',
        "pass quick on em1 proto pfsync all keep state (no-sync)",
        "pass on em0 proto carp all",
        "pass on em1 proto carp all",
        "pass in on em0 inet proto tcp from any to 192.168.1.123 port = ssh flags S/SA",
        "pass in on em0 inet proto tcp from any to 192.168.1.123 port = www flags S/SA",
        "pass out on em0 proto tcp from any to <webhosts> port = www flags S/SA",
        "pass out all flags S/SA",
    )


def test_the_source_material_setup_names_its_anchor_table_options_and_macros():
    ruleset = source_material()
    assert ruleset.anchor_names == ("relayd/*",)
    assert [(t.name, t.flags, t.addresses) for t in ruleset.tables] == [
        ("webhosts", ("persist",), ("192.168.1.2", "192.168.1.3"))]
    assert ruleset.options == ("set skip on lo", "set block-policy drop")
    assert dict(ruleset.macros)["sync_if"] == "em1"


def test_the_checksum_is_stable_and_changes_with_the_rules():
    text = (FIXTURES / "source_material_pf.conf").read_text()
    checksum = source_material().checksum
    assert len(checksum) == 32 and int(checksum, 16) >= 0
    assert check_pf(text, "/tmp/other-name.conf").checksum == checksum
    assert check_pf(text.replace("port ssh", "port 2222"), CONF).checksum != checksum


def test_the_source_materials_literal_rdr_anchor_line_is_a_syntax_error_on_its_line():
    source_lines = (
        "# relayd needs these\n"
        'rdr-anchor "relayd/*"\n'
        'anchor "relayd/*"\n'
        "pass quick on { pcn1 } proto pfsync keep state (no-sync)\n"
        "pass on { pcn0 pcn1 } proto carp keep state\n"
    )
    assert errors_of(source_lines) == [f"{CONF}:2: syntax error"]


@pytest.mark.parametrize("statement", [
    'nat-anchor "relayd/*"',
    'binat-anchor "relayd/*"',
    "nat on em0 from 10.0.0.0/24 to any -> (em0)",
    "rdr on em0 proto tcp to port 80 -> 10.0.0.5",
    "binat on em0 from 10.0.0.5 to any -> 192.168.1.5",
    "scrub in all",
    "altq on em0 cbq bandwidth 10Mb queue { std }",
])
def test_statements_removed_in_openbsd_4_7_are_syntax_errors(statement):
    assert errors_of(f"pass out\n{statement}\n") == [f"{CONF}:2: syntax error"]


def test_garbage_is_reported_at_its_own_line_after_continuation_lines():
    text = (
        'ext_if = "em0"\n'
        "pass in on $ext_if \\\n"
        "    proto tcp \\\n"
        "    to port ssh\n"
        "this is not pf\n"
        "pass out\n"
    )
    assert errors_of(text) == [f"{CONF}:5: syntax error"]


def test_garbage_on_a_continued_line_is_reported_at_that_physical_line():
    text = "pass in on em0 \\\n    proto tcp to port ssh \\\n    keep state garbage\n"
    assert errors_of(text) == [f"{CONF}:3: syntax error"]


def test_an_undefined_macro_is_reported_with_pfctls_message_then_a_syntax_error():
    text = "pass out\npass in on $ext_if proto tcp to port ssh\n"
    assert errors_of(text) == [
        f"{CONF}:2: macro 'ext_if' not defined",
        f"{CONF}:2: syntax error",
    ]


def test_an_unquoted_relayd_anchor_is_a_syntax_error_and_a_quoted_one_is_not():
    assert errors_of("pass out\nanchor relayd/*\n") == [f"{CONF}:2: syntax error"]
    assert check_pf('anchor "relayd/*"\n', CONF).anchor_names == ("relayd/*",)


def test_an_unknown_service_name_gives_pfctls_unknown_port():
    assert errors_of("pass in proto tcp to port htp\n") == [f"{CONF}:1: unknown port htp"]


def test_a_port_without_tcp_or_udp_is_skipped_with_pfctls_three_messages():
    assert errors_of("pass in on em0 to port 22\n") == [
        f"{CONF}:1: port only applies to tcp/udp",
        f"{CONF}:1: skipping rule due to errors",
        f"{CONF}:1: rule expands to no valid combination",
    ]


def test_every_broken_line_is_reported_and_parsing_goes_on():
    text = (
        "pass in proto tcp to port htp\n"
        "pass out\n"
        "nat on em0 from any to any -> 192.0.2.1\n"
        "pass out\n"
        "set optimization fast\n"
    )
    assert errors_of(text) == [
        f"{CONF}:1: unknown port htp",
        f"{CONF}:3: syntax error",
        f"{CONF}:5: unknown optimization fast",
    ]


def test_a_syntax_error_right_after_another_is_not_reported_as_byacc_does():
    text = "scrub in all\naltq on em0 cbq bandwidth 10Mb queue { std }\npass out\n"
    assert errors_of(text) == [f"{CONF}:1: syntax error"]


def test_an_undefined_macro_swallows_the_line_after_it():
    text = "pass on $lan_if\nthis line is never read\npass out\nbogus line\n"
    assert errors_of(text) == [
        f"{CONF}:1: macro 'lan_if' not defined",
        f"{CONF}:1: syntax error",
        f"{CONF}:4: syntax error",
    ]


def test_errors_in_an_included_file_name_that_file_and_its_line():
    files = {"/etc/pf.local": "block all\nfoo bar\n"}
    assert errors_of('include "/etc/pf.local"\npass out\n', files) == [
        "/etc/pf.local:2: syntax error"]


def test_a_missing_include_is_reported_as_pfctl_does():
    assert errors_of('include "/etc/pf.local"\n') == [
        "pfctl: pushfile: /etc/pf.local: No such file or directory",
        f"{CONF}:1: failed to include file /etc/pf.local",
    ]


def test_included_rules_and_table_files_are_read_through_the_reader():
    files = {"/etc/pf.local": "pass in proto udp to port domain\n",
             "/etc/pf.bad": "# abusers\n198.51.100.7\n203.0.113.0/24\n"}
    ruleset = check_pf('include "/etc/pf.local"\ntable <bad> persist file "/etc/pf.bad"\n',
                       CONF, reader(files))
    assert ruleset.rules == ("pass in proto udp from any to any port = domain",)
    assert ruleset.tables[0].addresses == ("198.51.100.7", "203.0.113.0/24")
    assert errors_of('table <bad> file "/etc/pf.bad"\n') == [
        f'{CONF}:1: cannot load "/etc/pf.bad": No such file or directory']


def test_lists_expand_into_one_rule_per_combination():
    ruleset = check_pf("pass in on { em0 em1 } proto { tcp udp } to port { 53 123 }\n", CONF)
    assert len(ruleset.rules) == 8
    assert ruleset.rules[0] == "pass in on em0 proto tcp from any to any port = domain flags S/SA"
    assert ruleset.rules[-1] == "pass in on em1 proto udp from any to any port = ntp"


def test_realistic_rules_with_translation_state_options_and_icmp_are_accepted():
    text = (
        "set limit { states 100000, src-nodes 20000 }\n"
        "set timeout tcp.established 3600\n"
        "antispoof quick for em0 inet\n"
        "match out on egress inet from 10.0.0.0/8 nat-to (egress)\n"
        "pass in on em0 inet proto tcp to 192.168.1.123 port 8080 rdr-to 10.0.0.5 port 80\n"
        "pass in inet proto icmp icmp-type { echoreq, unreach }\n"
        "pass in on em0 proto tcp to port ssh modulate state "
        "(max-src-conn 10, max-src-conn-rate 5/30, overload <brutes> flush global)\n"
        "block return in log quick on em0 proto tcp from <brutes> label \"brutes\"\n"
        'anchor "ftp-proxy/*"\n'
        'anchor "local" in on em0 {\n  pass in proto tcp to port 8443\n}\n'
    )
    ruleset = check_pf(text, CONF)
    assert "match out on egress inet from 10.0.0.0/8 to any nat-to (egress)" in ruleset.rules
    assert ruleset.anchor_names == ("ftp-proxy/*", "local")
    assert ruleset.anchors[1].rules == (
        "pass in proto tcp from any to any port = 8443 flags S/SA",)


@pytest.mark.parametrize("line, message", [
    ("pass in from 10.0.0.300", "could not parse host specification"),
    ("pass in proto foo", "unknown protocol foo"),
    ("pass in proto tcp to port 70000", "illegal port value 70000"),
    ("pass in proto tcp flags SA/S", "flags always false"),
    ("pass in proto udp flags S/SA", "flags only apply to tcp"),
    ("set block-policy drop\nset optimization fast", "unknown optimization fast"),
    ("table <t> foo { 10.0.0.1 }", "invalid table option 'foo'"),
    ("table <t> { <other> }", "tables cannot contain tables"),
    ("pass in on em0 inet6 from 10.0.0.1", "rule expands to no valid combination"),
    ('anchor "a/b" {\npass\n}', "anchor paths containing '/' cannot be used for inline anchors."),
])
def test_pfctls_own_messages_for_common_mistakes(line, message):
    errors = errors_of(line + "\n")
    assert errors[0].startswith(f"{CONF}:") and errors[0].endswith(f": {message}")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([
    "pass", "block", "in", "on", "em0", "{", "}", "(", ")", "<t>", "!", "!=", ",", "/",
    "proto", "tcp", "from", "to", "any", "port", "22", "ssh", "keep", "state", "no-sync",
    "quick", "all", "anchor", '"relayd/*"', "table", "set", "skip", "$x", "x", "=", '"em0"',
    "\\\n", "\n", "#c\n", "10.0.0.0/8", "inet6", "flags", "S/SA", "rdr-to", "label", '"',
]), max_size=30))
def test_any_text_is_either_loaded_or_refused_with_pfctl_style_lines(words):
    try:
        check_pf(" ".join(words), CONF)
    except PfSyntaxError as refused:
        assert refused.errors
        assert all(re.fullmatch(rf"{CONF}:\d+: .+", line) for line in refused.errors)
