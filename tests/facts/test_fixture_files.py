"""The fixtures are command output byte for byte: TABs must survive editing."""

from __future__ import annotations

from ._fixtures import all_fixtures


def test_relayctl_rows_are_still_tab_separated():
    for name, text in all_fixtures().items():
        if name.startswith("relayctl_show"):
            for line in text.splitlines():
                assert line.count("\t") == (2 if line.startswith("\t") else 4), (name, line)


def test_current_ifconfig_detail_lines_still_start_with_a_tab():
    for name, text in all_fixtures().items():
        if name.startswith(("ifconfig_carp_", "ifconfig_carp0", "ifconfig_pfsync0")):
            details = [line for line in text.splitlines() if line[:1] in (" ", "\t")]
            assert all(line.startswith("\t") for line in details), name


def test_every_fixture_ends_with_a_newline_like_command_output():
    for name, text in all_fixtures().items():
        assert text == "" or text.endswith("\n"), name
