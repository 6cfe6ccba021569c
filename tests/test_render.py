"""Rendering the pair's files: the shipped example, template variables, errors, secrets."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from carpctl.errors import EXIT_USAGE, UsageError
from carpctl.inventory import load_inventory
from carpctl.inventory.secrets import MASK
from carpctl.render.templates import RenderError, render_files, template_context

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "inventory"
CARP_PASS = "carp-secret-1701"


@pytest.fixture
def load(tmp_path: Path):
    def load(path: Path, environ: dict[str, str] | None = None):
        return load_inventory(path, environ=environ or {}, ssh_config=tmp_path / "no-ssh-config")

    return load


@pytest.fixture
def example(load):
    pair = load(REPO / "inventory").pair("pair1")
    return {node.name: {f.dest: f.text for f in render_files(pair, node)} for node in pair.nodes}


def test_the_example_pf_conf_has_the_relayd_anchor_and_no_rdr_anchor(example):
    pf = example["fw1"]["/etc/pf.conf"]
    assert 'anchor "relayd/*"' in pf.splitlines()
    assert "rdr-anchor" not in pf.replace("rdr-anchor is gone", "")
    assert not re.search(r"^\s*rdr-anchor", pf, re.MULTILINE)


def test_the_example_pf_conf_passes_pfsync_carp_ssh_and_http(example):
    lines = example["fw1"]["/etc/pf.conf"].splitlines()
    for rule in [
        "set skip on lo",
        'ext_if = "pcn0"',
        'sync_if = "pcn1"',
        "pass quick on $sync_if proto pfsync keep state (no-sync)",
        'carp_ifs = "{ pcn0 pcn1 }"',
        "pass on $carp_ifs proto carp keep state",
        "pass in proto tcp to self port ssh",
        "pass in proto tcp to $ext_addr port http",
    ]:
        assert any(line.split("\t#")[0].strip() == rule for line in lines), rule


def test_the_example_relayd_conf_has_the_www_relay_over_both_web_hosts(example):
    relayd = example["fw1"]["/etc/relayd.conf"]
    assert 'ext_addr="192.168.1.123"' in relayd
    assert 'webhost1="192.168.1.2"' in relayd
    assert 'webhost2="192.168.1.3"' in relayd
    assert "table <webhosts> { $webhost1 $webhost2 }" in relayd
    relay = textwrap.dedent("""\
        relay www {
        \tlisten on $ext_addr port http
        \tforward to <webhosts> port http mode loadbalance check http "/" code 200
        }
        """)
    assert relayd.endswith(relay)


def test_both_example_nodes_get_the_same_rules_apart_from_their_names(example):
    def rules(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    for dest in ("/etc/pf.conf", "/etc/relayd.conf"):
        assert rules(example["fw1"][dest]) == rules(example["fw2"][dest].replace("fw1", "fw2"))


def test_templates_see_node_vars_pair_node_peer_and_nodes(load):
    pair = load(FIXTURES / "directory").pair("pair2")
    context = template_context(pair, pair.node("fw4"))
    assert context["ext_if"] == "em1"
    assert (context["pair"], context["node"]) == ("pair2", "fw4")
    fw3 = pair.node("fw3")
    assert context["peer"] == {"name": "fw3", "host": "fw3.example.net", "vars": fw3.vars}
    assert [n["name"] for n in context["nodes"]] == ["fw3", "fw4"]


def test_an_undefined_variable_names_the_template_line_and_variable(load):
    pair = load(FIXTURES / "broken-template.yml").pair()
    with pytest.raises(RenderError) as caught:
        render_files(pair, pair.nodes[0])
    error = caught.value
    assert (error.line, error.variable) == (3, "ext_iff")
    assert error.template.endswith("templates/undefined.j2")
    assert str(error).endswith(
        "undefined.j2:3: undefined variable 'ext_iff' (rendering for pair1/fw1)"
    )
    assert isinstance(error, UsageError) and error.exit_code == EXIT_USAGE


@pytest.fixture
def scratch(tmp_path: Path):
    """An inventory in tmp_path rendering the given templates, with ext_if set."""

    def scratch(**templates: str):
        for name, text in templates.items():
            (tmp_path / name).write_text(textwrap.dedent(text))
        entries = ", ".join(
            f"{{template: {name}, dest: /etc/{name}}}" for name in templates if name == "main"
        )
        (tmp_path / "inventory.yml").write_text(textwrap.dedent(f"""
            pairs:
              pair1:
                nodes: {{fw1: {{host: 192.0.2.11}}, fw2: {{host: 192.0.2.12}}}}
                files: [{entries}]
                vars: {{ext_if: em0, pass_word: {{env: PW}}}}
            """))
        inventory = load_inventory(
            tmp_path / "inventory.yml", environ={"PW": CARP_PASS}, ssh_config=tmp_path / "none"
        )
        pair = inventory.pair()
        return render_files(pair, pair.nodes[0])

    return scratch


def test_a_template_syntax_error_names_the_template_and_line(scratch):
    expected = r"/main:3: template syntax error: Unexpected end of template"
    with pytest.raises(RenderError, match=expected) as caught:
        scratch(main=FIXTURES.joinpath("templates/syntax.j2").read_text())
    assert caught.value.line == 3


def test_an_error_in_an_included_template_names_the_included_file(scratch):
    with pytest.raises(RenderError) as caught:
        scratch(
            main="set skip on lo\n{% include 'part.j2' %}\n",
            **{"part.j2": "# part\n\npass on {{ int_if }}\n"},
        )
    assert caught.value.template.endswith("part.j2")
    assert (caught.value.line, caught.value.variable) == (3, "int_if")


def test_a_missing_key_of_a_mapping_names_the_key(scratch):
    with pytest.raises(RenderError) as caught:
        scratch(main="# {{ peer.name }}\npass from {{ peer.vars.sync_addr }}\n")
    assert (caught.value.line, caught.value.variable) == (2, "sync_addr")
    assert "has no attribute 'sync_addr' (rendering for pair1/fw1)" in str(caught.value)


def test_a_missing_included_template_is_a_render_error(scratch):
    with pytest.raises(RenderError, match="included template 'nope.j2' not found"):
        scratch(main="{% include 'nope.j2' %}\n")


def test_other_failures_inside_a_template_are_render_errors_without_the_secret(scratch):
    with pytest.raises(RenderError) as caught:
        scratch(main="x\n{{ pass_word ~ (1 / 0) }}\n")
    assert caught.value.line == 2
    assert "ZeroDivisionError" in str(caught.value)
    assert CARP_PASS not in str(caught.value)


def test_the_final_newline_is_kept_and_blocks_are_trimmed(scratch):
    (rendered,) = scratch(main="{% for i in [1, 2] %}\nline {{ i }}\n{% endfor %}\n")
    assert rendered.text == "line 1\nline 2\n"


def test_secrets_render_with_their_value_and_are_reported_as_used(load):
    environ = {"CARPCTL_TEST_CARP_PASS": CARP_PASS}
    pair = load(FIXTURES / "secrets" / "inventory.yml", environ=environ).pair()
    carp, token = render_files(pair, pair.node("fw2"))
    assert carp.text.splitlines()[0] == f"vhid 1 carpdev em0 advskew 100 pass {CARP_PASS}"
    assert carp.secrets_used == (pair.vars["carp_pass"],)
    assert carp.redacted.splitlines()[0] == f"vhid 1 carpdev em0 advskew 100 pass {MASK}"
    assert token.text == "token file-secret-0451\n"
    assert token.secrets_used == (pair.vars["api"]["token"],)
    assert CARP_PASS not in repr(carp) and "file-secret-0451" not in repr(token)


def test_the_commented_hostname_carp_example_works_once_uncommented(tmp_path, load):
    """example.yml shows optional lines as '#key'; without those '#' it must still be valid."""
    text = (REPO / "inventory" / "example.yml").read_text()
    uncommented = re.sub(r"^(\s*)#(?=[^\s#])", r"\1", text, flags=re.MULTILINE)
    assert uncommented != text
    (tmp_path / "example.yml").write_text(uncommented)
    shutil.copytree(REPO / "inventory" / "templates", tmp_path / "templates")
    pair = load(tmp_path / "example.yml", environ={"CARP_PASS": CARP_PASS}).pair()
    spec = pair.files[-1]
    assert (spec.dest, spec.kind, spec.mode, spec.apply_argv()) == (
        "/etc/hostname.carp0", "other", 0o640, ("sh", "/etc/netstart", "carp0"))
    hostname = {node.name: render_files(pair, node)[-1] for node in pair.nodes}
    assert hostname["fw1"].text.splitlines()[-2:] == [
        f"vhid 1 carpdev pcn0 advbase 1 advskew 0 pass {CARP_PASS}",
        "inet 192.168.1.123/24",
    ]
    assert f"advskew 100 pass {MASK}" in hostname["fw2"].redacted
