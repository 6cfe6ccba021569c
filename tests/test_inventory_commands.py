"""`validate:` and `apply:` run one command without a shell: shell operators in them are
refused when the inventory is loaded, before any node is dialled (issue 14 item 8)."""

from __future__ import annotations

import textwrap

import pytest

from carpctl.cli import main

INVENTORY = """
pairs:
  pair1:
    nodes:
      fw1: {host: 127.0.0.1, port: 1}
      fw2: {host: 127.0.0.1, port: 2}
    files:
      - {template: t.j2, dest: /etc/x, %s: %s}
"""


@pytest.mark.parametrize("key", ["validate", "apply"])
@pytest.mark.parametrize(("command", "operator"), [
    ("'grep -q x {file}; rm -rf /'", ";"),
    ("'grep -q x {file} && true'", "&&"),
    ("'sort {file} | uniq'", "|"),
    ("'test -s $(echo {file})'", "$("),
    ("'grep x {file} > /tmp/out'", ">"),
])
def test_a_command_with_a_shell_operator_is_refused_at_load_naming_file_and_path(
        tmp_path, capsys, key, command, operator):
    (tmp_path / "t.j2").write_text("x\n")
    path = tmp_path / "inventory.yml"
    path.write_text(textwrap.dedent(INVENTORY % (key, command)))

    code = main(["status", "-i", str(path)])

    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{path}: pairs.pair1.files[0].{key}:" in err
    assert f"shell operator {operator!r}" in err
    assert "Traceback" not in err


def test_an_operator_inside_quotes_is_a_plain_argument_and_is_accepted(tmp_path):
    from carpctl.inventory import load_inventory

    (tmp_path / "t.j2").write_text("x\n")
    path = tmp_path / "inventory.yml"
    path.write_text(textwrap.dedent(INVENTORY % ("validate", "\"grep -Eq 'a|b;c' {file}\"")))

    spec = load_inventory(path, environ={}, ssh_config=tmp_path / "none").pair("pair1").files[0]
    assert spec.validate_argv("/etc/.x") == ("grep", "-Eq", "a|b;c", "/etc/.x")
