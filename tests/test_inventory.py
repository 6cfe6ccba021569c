"""Loading the inventory: where it comes from, how layers merge, what mistakes say."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from carpctl.errors import EXIT_USAGE, InventoryError, UsageError
from carpctl.inventory import InvalidInventory, load_inventory
from carpctl.inventory.secrets import MASK, Secret, redact

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "inventory"
CARP_PASS = "carp-secret-1701"
FILE_SECRET = "file-secret-0451"
FW2 = "pairs.pair1.nodes.fw2"


@pytest.fixture
def no_ssh_config(tmp_path: Path) -> Path:
    """An ssh config that does not exist, so the developer's own never leaks into a test."""
    return tmp_path / "no-ssh-config"


@pytest.fixture
def write(tmp_path: Path):
    """Write an inventory file into tmp_path (with an empty template t.j2 beside it)."""
    (tmp_path / "t.j2").write_text("# empty\n")

    def write(text: str, name: str = "inventory.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def load(no_ssh_config: Path):
    def load(path, environ=None, ssh_config=no_ssh_config):
        return load_inventory(path, environ=environ or {}, ssh_config=ssh_config)

    return load


@pytest.fixture
def problems(write, load):
    """Load an inventory that must be refused; return every problem keyed by dotted path."""

    def problems(text: str) -> dict[str, str]:
        path = write(text)
        with pytest.raises(InvalidInventory) as caught:
            load(path)
        for error in caught.value.problems:
            assert error.file == str(path), "every message names the file"
            where = f"{path}: {error.path}: " if error.path else f"{path}: "
            assert error.message == where + error.problem
        return {error.path: error.problem for error in caught.value.problems}

    return problems


def pair_with(fw2: str = "{host: 192.0.2.12}", extra: str = "") -> str:
    """A valid pair, with node fw2 and further pair keys replaced by a test."""
    text = textwrap.dedent("""
        pairs:
          pair1:
            nodes:
              fw1: {host: 192.0.2.11}
              fw2: %s
        """) % fw2
    return text + textwrap.indent(textwrap.dedent(extra), " " * 4)


def files(entries: str) -> str:
    """A pair's ``files:`` key, for pair_with(extra=...)."""
    return f"files: [{entries}]\n"


# -- where the inventory comes from -------------------------------------------


def test_the_example_inventory_loads_with_the_source_material_setup(load):
    pair = load(REPO / "inventory").pair("pair1")
    assert [n.name for n in pair.nodes] == ["fw1", "fw2"]
    assert [n.host for n in pair.nodes] == ["192.0.2.11", "192.0.2.12"]
    assert pair.vars["ext_addr"] == "192.168.1.123"
    assert pair.vars["webhosts"] == ["192.168.1.2", "192.168.1.3"]
    assert {f.dest: f.kind for f in pair.files} == {
        "/etc/pf.conf": "pf",
        "/etc/relayd.conf": "relayd",
    }
    assert all(f.mode == 0o600 for f in pair.files)
    assert pair.failover.method == "advskew"


def test_a_directory_of_files_is_merged_with_defaults_from_several_files(load):
    inventory = load(FIXTURES / "directory")
    assert list(inventory.pairs) == ["pair1", "pair2"]
    pair1, pair2 = inventory.pair("pair1"), inventory.pair("pair2")
    fw1, fw2 = pair1.nodes
    assert (fw1.user, fw1.become, fw1.connect_timeout) == ("admin", "doas", 5.0)
    assert (fw2.user, fw2.become) == ("root", "none")
    assert pair1.failover.method == "carpdemote"
    assert (pair2.failover.method, pair2.failover.timeout) == ("advskew", 12.5)
    assert pair2.node("fw4").vars["ext_if"] == "em1"
    assert pair2.node("fw3").vars["ext_if"] == "em0"
    assert pair1.source_file.name == "pair1.yml"
    assert len(inventory.files) == 4, "the hidden editor file is not read"


def test_a_pair_defined_in_two_files_is_an_error_naming_both(load):
    with pytest.raises(InventoryError) as caught:
        load(FIXTURES / "duplicate-pair")
    message = str(caught.value)
    assert "duplicate-pair/b.yml: pairs.pair1:" in message
    assert "duplicate-pair/a.yml" in message


def test_a_default_set_in_two_files_is_an_error_naming_both(write, load, tmp_path):
    write("defaults: {user: admin, failover: {timeout: 10}}\n", "a.yml")
    write("defaults: {user: root, failover: {method: carpdemote}}\n" + pair_with(), "b.yml")
    with pytest.raises(InvalidInventory) as caught:
        load(tmp_path)
    where = [(e.file, e.path) for e in caught.value.problems]
    assert where == [(str(tmp_path / "b.yml"), "defaults.user")]
    assert str(tmp_path / "a.yml") in caught.value.problem


def test_the_inventory_comes_from_CARPCTL_INVENTORY_when_no_path_is_given(load):
    inventory = load(None, environ={"CARPCTL_INVENTORY": str(FIXTURES / "directory")})
    assert inventory.source == (FIXTURES / "directory").resolve()


def test_an_explicit_path_beats_CARPCTL_INVENTORY(load):
    inventory = load(FIXTURES / "directory", environ={"CARPCTL_INVENTORY": "/nonexistent"})
    assert "pair2" in inventory.pairs


def test_the_default_inventory_is_inventory_in_the_working_directory(load, monkeypatch):
    monkeypatch.chdir(REPO)
    assert load(None).source == REPO / "inventory"


@pytest.mark.parametrize(
    ("path", "environ", "named", "how"),
    [
        ("missing.yml", {}, "missing.yml", "given with -i"),
        (None, {"CARPCTL_INVENTORY": "missing.yml"}, "missing.yml", "from $CARPCTL_INVENTORY"),
        (None, {}, "inventory", "the default"),
    ],
)
def test_a_missing_inventory_says_which_path_and_how_it_was_chosen(
    load, tmp_path, monkeypatch, path, environ, named, how
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as caught:
        load(path, environ=environ)
    assert f"inventory {named} does not exist ({how}" in str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE


def test_a_directory_without_yaml_files_is_refused(load, tmp_path):
    with pytest.raises(UsageError, match=r"no \*\.yml or \*\.yaml files"):
        load(tmp_path)


def test_a_yaml_syntax_error_names_the_file_and_line(load):
    with pytest.raises(InventoryError, match=r"syntax-error\.yml: YAML error at line 5"):
        load(FIXTURES / "syntax-error.yml")


def test_a_key_repeated_in_one_mapping_is_refused_with_both_lines(problems):
    found = problems("pairs:\n  pair1: {}\n  pair1: {}\n")
    assert "line 3" in found[""]
    assert "duplicate key 'pair1' (first at line 2)" in found[""]


def test_an_inventory_without_pairs_is_refused(problems):
    assert problems("defaults: {user: root}\n") == {"pairs": "no pairs are defined"}


# -- one test per kind of mistake -----------------------------------------------


def test_a_missing_host_is_reported_with_its_file_and_path(problems):
    assert problems(pair_with("{user: root}"))[f"{FW2}.host"].startswith("missing")


@pytest.mark.parametrize(
    ("text", "path", "suggestion"),
    [
        ("pairz: {}\n" + pair_with(), "pairz", "pairs"),
        (pair_with(extra="failvoer: {}\n"), "pairs.pair1.failvoer", "failover"),
        (pair_with("{host: 192.0.2.12, hots: x}"), f"{FW2}.hots", "host"),
        (pair_with(extra="failover: {methd: advskew}\n"), "pairs.pair1.failover.methd", "method"),
        (pair_with(extra=files("{template: t.j2, dest: /etc/x, mod: 0640}")),
         "pairs.pair1.files[0].mod", "mode"),
    ],
)
def test_an_unknown_key_is_reported_with_a_did_you_mean(problems, text, path, suggestion):
    assert f"did you mean '{suggestion}'?" in problems(text)[path]


def test_an_unknown_key_without_a_close_match_lists_the_known_keys(problems):
    assert "known keys: " in problems(pair_with("{host: 192.0.2.12, zzz: 1}"))[f"{FW2}.zzz"]


@pytest.mark.parametrize(
    ("fw2", "key", "expected"),
    [
        ("{host: 192.0.2.12, port: '22'}", ".port", "'22' must be an integer from 1 to 65535"),
        ("{host: [a, b]}", ".host", "a list is not a string"),
        ("{host: 192.0.2.12, connect_timeout: soon}", ".connect_timeout", "must be a number"),
        ("{host: 192.0.2.12, vars: [ext_if]}", ".vars", "must be a mapping of variable names"),
        ("192.0.2.12", "", "must be a mapping"),
    ],
)
def test_a_wrong_type_is_reported_with_its_file_and_path(problems, fw2, key, expected):
    assert expected in problems(pair_with(fw2))[FW2 + key]


def test_a_pair_with_other_than_two_nodes_is_refused(problems):
    found = problems("pairs:\n  pair1:\n    nodes: {a: {host: a}, b: {host: b}, c: {host: c}}\n")
    assert found["pairs.pair1.nodes"] == "a pair has exactly two nodes, found 3 (a, b, c)"


def test_a_pair_without_nodes_is_refused(problems):
    assert problems("pairs:\n  pair1: {}\n")["pairs.pair1.nodes"].startswith("missing")


@pytest.mark.parametrize(
    ("fw2", "key", "character"),
    [
        ('{host: "fw1; rm -rf /"}', "host", "';'"),
        ('{host: "fw2$(reboot)"}', "host", "'$'"),
        ('{host: fw2, user: "root`id`"}', "user", "'`'"),
        ('{host: fw2, vars: {ext_if: "em0;reboot"}}', "vars.ext_if", "';'"),
        ('{host: fw2, proxy_jump: "gw|nc"}', "proxy_jump", "'|'"),
    ],
)
def test_a_value_with_shell_syntax_is_refused_naming_the_character(problems, fw2, key, character):
    problem = problems(pair_with(fw2))[f"{FW2}.{key}"]
    assert f"contains {character}, which is shell syntax" in problem


def test_a_dest_with_shell_syntax_is_refused(problems):
    found = problems(pair_with(extra=files('{template: t.j2, dest: "/etc/pf.conf$(reboot)"}')))
    assert found["pairs.pair1.files[0].dest"] == (
        "'/etc/pf.conf$(reboot)' contains '$', which is shell syntax"
    )


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("-oProxyCommand=reboot", "is not a hostname"),
        ("192.168.1.300", "IPv4"),
        ("fw..example", "not a hostname"),
    ],
)
def test_a_host_that_is_no_hostname_or_address_is_refused(problems, host, reason):
    assert reason in problems(pair_with(f'{{host: "{host}"}}'))[f"{FW2}.host"]


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_ports_outside_1_to_65535_are_refused(problems, port):
    assert "out of range" in problems(pair_with(f"{{host: fw2, port: {port}}}"))[f"{FW2}.port"]


def test_a_user_must_be_a_posix_user_name(problems):
    found = problems(pair_with("{host: fw2, user: -admin}"))
    assert "not a valid user name" in found[f"{FW2}.user"]


def test_become_must_be_none_or_doas(problems):
    found = problems(pair_with("{host: fw2, become: sudo}"))
    assert found[f"{FW2}.become"] == "'sudo' must be one of: none, doas"


def test_a_yaml_boolean_for_become_is_shown_as_such(problems):
    found = problems(pair_with("{host: fw2, become: no}"))
    assert found[f"{FW2}.become"] == "false must be one of: none, doas"


def test_the_failover_method_must_be_advskew_or_carpdemote(problems):
    found = problems(pair_with(extra="failover: {method: demote}\n"))
    assert found["pairs.pair1.failover.method"] == "'demote' must be one of: advskew, carpdemote"


@pytest.mark.parametrize("timeout", ["0", "-5", "true", ".nan"])
def test_the_failover_timeout_must_be_greater_than_zero(problems, timeout):
    found = problems(pair_with(extra=f"failover: {{timeout: {timeout}}}\n"))
    assert "greater than 0" in found["pairs.pair1.failover.timeout"]


@pytest.mark.parametrize(
    ("variables", "path"),
    [
        ("{ext_if: em}", "ext_if"),
        ("{sync_if: 'em 1'}", "sync_if"),
        ("{trunk_ifs: [em0, em01]}", "trunk_ifs[1]"),
        ("{carp: [{carpdev: em0}, {carpdev: Em1}]}", "carp[1].carpdev"),
        ("{syncdev: 0}", "syncdev"),
    ],
)
def test_interface_variables_must_be_openbsd_interface_names(problems, variables, path):
    found = problems(pair_with(extra=f"vars: {variables}\n"))
    assert "hold interface names" in found[f"pairs.pair1.vars.{path}"]


@pytest.mark.parametrize(
    ("variables", "path"),
    [
        ("{vhid: 0}", "vhid"),
        ("{carp: [{wan_vhid: 256}]}", "carp[0].wan_vhid"),
        ("{vhid: '1'}", "vhid"),
    ],
)
def test_vhid_variables_must_be_1_to_255(problems, variables, path):
    found = problems(pair_with(extra=f"vars: {variables}\n"))
    assert "from 1 to 255" in found[f"pairs.pair1.vars.{path}"]


@pytest.mark.parametrize("variables", ["{advskew: 255}", "{advskew: -1}", "{advbase: 300}"])
def test_advskew_and_advbase_variables_must_be_0_to_254(problems, variables):
    found = problems(pair_with(f"{{host: fw2, vars: {variables}}}"))
    assert "from 0 to 254" in next(iter(found.values()))


@pytest.mark.parametrize(
    ("dest", "reason"),
    [
        ("etc/pf.conf", "not absolute"),
        ("/etc//pf.conf", "not a clean path"),
        ("/etc/../pf.conf", "not a clean path"),
        ("/etc/", "not a clean path"),
    ],
)
def test_dest_paths_must_be_absolute_and_clean(problems, dest, reason):
    found = problems(pair_with(extra=files(f"{{template: t.j2, dest: '{dest}'}}")))
    assert reason in found["pairs.pair1.files[0].dest"]


def test_a_missing_template_is_reported_with_where_it_was_looked_for(problems, tmp_path):
    found = problems(pair_with(extra=files("{template: templates/nope.j2, dest: /etc/pf.conf}")))
    looked_for = tmp_path / "templates" / "nope.j2"
    assert found["pairs.pair1.files[0].template"] == (
        f"template 'templates/nope.j2' does not exist (looked for {looked_for})"
    )


def test_a_missing_identity_file_is_reported(problems):
    found = problems(pair_with("{host: fw2, identity_file: nokey}"))
    assert "does not exist" in found[f"{FW2}.identity_file"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("'../fw2'", "not a valid name"), ("peer", "means something to the CLI")],
)
def test_node_names_that_are_paths_or_keywords_are_refused(problems, name, reason):
    found = problems(f"pairs:\n  pair1:\n    nodes: {{fw1: {{host: a}}, {name}: {{host: b}}}}\n")
    assert any(reason in problem for problem in found.values())


def test_all_is_not_a_pair_name(problems):
    assert "means something to the CLI" in problems("pairs:\n  all: {}\n")["pairs.all"]


def test_two_nodes_reaching_the_same_host_and_port_are_refused(problems):
    assert "same host as fw1" in problems(pair_with("{host: 192.0.2.11}"))[f"{FW2}.host"]


def test_variables_may_not_shadow_what_templates_get_from_carpctl(problems):
    found = problems(pair_with(extra="vars: {peer: fw2, 9lives: 1}\n"))
    assert "set by carpctl" in found["pairs.pair1.vars.peer"]
    assert "not a usable variable name" in found["pairs.pair1.vars.9lives"]


def test_pf_conf_is_always_of_kind_pf(problems):
    found = problems(pair_with(extra=files("{template: t.j2, dest: /etc/pf.conf, kind: other}")))
    assert "always kind pf" in found["pairs.pair1.files[0].kind"]


def test_validate_and_apply_are_refused_for_files_carpctl_applies_itself(problems):
    entry = "{template: t.j2, dest: /etc/relayd.conf, apply: rcctl restart relayd}"
    found = problems(pair_with(extra=files(entry)))
    assert "for kind other only" in found["pairs.pair1.files[0].apply"]


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("'grep -q vhid {file}", "not a valid command"),
        ("grep -q vhid", "must use {file}"),
        ("grep {pattern} {file}", "the only placeholder is {file}"),
    ],
)
def test_validate_commands_are_checked(problems, command, reason):
    entry = f'{{template: t.j2, dest: /etc/x, validate: "{command}"}}'
    found = problems(pair_with(extra=files(entry)))
    assert reason in found["pairs.pair1.files[0].validate"]


@pytest.mark.parametrize("mode", ["644", "0o1777", "'rw-r--r--'"])
def test_file_modes_must_be_octal_permissions(problems, mode):
    found = problems(pair_with(extra=files(f"{{template: t.j2, dest: /etc/x, mode: {mode}}}")))
    assert "write it in octal" in found["pairs.pair1.files[0].mode"]


def test_two_files_with_the_same_dest_are_refused(problems):
    entry = "{template: t.j2, dest: /etc/x}"
    found = problems(pair_with(extra=files(f"{entry}, {entry}")))
    assert found["pairs.pair1.files[1].dest"] == "/etc/x is already deployed by files[0]"


def test_every_mistake_is_reported_at_once_and_the_first_comes_first(write, load):
    path = write(pair_with('{host: "fw2;x", port: 0}', extra="failover: {method: x}\n"))
    with pytest.raises(InvalidInventory) as caught:
        load(path)
    paths = [e.path for e in caught.value.problems]
    assert paths == [f"{FW2}.host", f"{FW2}.port", "pairs.pair1.failover.method"]
    lines = str(caught.value).splitlines()
    assert lines == [e.message for e in caught.value.problems]
    assert caught.value.exit_code == EXIT_USAGE


# -- layers and ~/.ssh/config -----------------------------------------------------


def test_node_settings_beat_pair_settings_which_beat_defaults(write, load):
    path = write("""
        defaults: {user: ops, port: 2200, connect_timeout: 4, vars: {ext_if: em0, sync_if: em1}}
        pairs:
          pair1:
            user: admin
            vars: {ext_if: em2}
            nodes:
              fw1: {host: 192.0.2.11}
              fw2: {host: 192.0.2.12, user: root, port: 22, vars: {ext_if: em3}}
        """)
    fw1, fw2 = load(path).pair("pair1").nodes
    assert (fw1.user, fw1.port, fw1.connect_timeout) == ("admin", 2200, 4.0)
    assert fw1.vars == {"ext_if": "em2", "sync_if": "em1"}
    assert (fw2.user, fw2.port, fw2.vars["ext_if"]) == ("root", 22, "em3")


def test_built_in_defaults_apply_when_nothing_is_set(write, load):
    fw1 = load(write(pair_with())).pair().nodes[0]
    assert (fw1.user, fw1.port, fw1.become, fw1.connect_timeout) == ("root", 22, "none", 10.0)
    assert (fw1.identity_files, fw1.known_hosts, fw1.proxy_jump) == ((), (), None)


@pytest.fixture
def ssh_config(tmp_path: Path) -> Path:
    key = tmp_path / "id_fw"
    key.write_text("not really a key\n")
    config = tmp_path / "ssh_config"
    config.write_text(textwrap.dedent(f"""
        Host fw1-mgmt
            HostName 192.0.2.51
            User admin
            Port 2222
            IdentityFile {tmp_path}/id_missing
            IdentityFile {key}
            ProxyJump jump@bastion.example.net:22

        Host *
            User nobody
        """))
    return config


def test_ssh_config_fills_hostname_user_port_identity_file_and_proxy_jump(
    write, load, ssh_config, tmp_path
):
    text = pair_with().replace("192.0.2.11", "fw1-mgmt")
    fw1, fw2 = load(write(text), ssh_config=ssh_config).pair().nodes
    assert (fw1.host, fw1.ssh_alias) == ("192.0.2.51", "fw1-mgmt")
    assert (fw1.user, fw1.port) == ("admin", 2222)
    assert fw1.identity_files == (tmp_path / "id_fw",), "IdentityFiles that exist"
    assert fw1.proxy_jump == "jump@bastion.example.net:22"
    assert (fw2.host, fw2.ssh_alias, fw2.user, fw2.port) == ("192.0.2.12", None, "nobody", 22)
    assert fw2.proxy_jump is None


def test_the_inventory_beats_ssh_config_except_for_hostname(write, load, ssh_config, tmp_path):
    key = tmp_path / "id_inventory"
    key.write_text("x\n")
    fw2 = f"{{host: fw1-mgmt, user: root, port: 22, identity_file: {key}, proxy_jump: none}}"
    node = load(write(pair_with(fw2)), ssh_config=ssh_config).pair().nodes[1]
    assert (node.host, node.user, node.port) == ("192.0.2.51", "root", 22)
    assert (node.identity_files, node.proxy_jump) == ((key,), None)


def test_a_user_in_defaults_beats_ssh_config_too(write, load, ssh_config):
    inventory = load(write("defaults: {user: ops}\n" + pair_with()), ssh_config=ssh_config)
    assert inventory.pair().nodes[0].user == "ops"


def test_bad_values_in_ssh_config_are_reported_with_the_ssh_config_file(write, load, tmp_path):
    config = tmp_path / "ssh_config"
    config.write_text("Host fw2\n    HostName fw2;reboot\n    Port 0\n")
    with pytest.raises(InvalidInventory) as caught:
        load(write(pair_with("{host: fw2}")), ssh_config=config)
    assert [(e.file, e.path) for e in caught.value.problems] == [
        (str(config), "HostName (for fw2)"),
        (str(config), "Port (for fw2)"),
    ]
    assert "';'" in caught.value.problems[0].problem


def test_importing_inventory_and_renderer_loads_neither_yaml_jinja2_nor_paramiko():
    code = (
        "import sys, carpctl.inventory, carpctl.render, carpctl.inventory.checks, carpctl.inventory.secrets;"
        "print(sorted({'yaml', 'jinja2', 'paramiko'} & set(sys.modules)))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert (run.returncode, run.stdout.strip()) == (0, "[]"), run.stderr


# -- the objects ----------------------------------------------------------------------


def test_an_unknown_pair_name_lists_the_known_pairs(load):
    inventory = load(FIXTURES / "directory")
    with pytest.raises(UsageError, match=r"no pair named 'pair3'.*known pairs: pair1, pair2"):
        inventory.pair("pair3")


def test_the_pair_may_be_omitted_only_when_there_is_one(load):
    assert load(REPO / "inventory").pair().name == "pair1"
    with pytest.raises(UsageError, match="2 pairs"):
        load(FIXTURES / "directory").pair()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ([], ["pair1", "pair2"]),
        (["all"], ["pair1", "pair2"]),
        (["pair2", "pair1", "pair2"], ["pair2", "pair1"]),
    ],
)
def test_select_gives_pairs_in_the_order_asked_and_all_for_none_or_all(load, names, expected):
    assert [p.name for p in load(FIXTURES / "directory").select(names)] == expected


def test_peer_of_gives_the_other_node_and_unknown_nodes_are_listed(load):
    pair = load(REPO / "inventory").pair()
    assert pair.peer_of("fw1").name == "fw2"
    assert pair.peer_of("fw2").name == "fw1"
    with pytest.raises(UsageError, match=r"no node 'fw3' \(its nodes: fw1, fw2\)"):
        pair.node("fw3")


def test_file_commands_are_split_into_words_before_the_path_is_put_in(write, load):
    entry = (
        "{template: t.j2, dest: /etc/hostname.carp0, "
        "validate: \"sh -c 'grep -q vhid {file}'\", apply: sh /etc/netstart carp0}"
    )
    spec = load(write(pair_with(extra=files(entry)))).pair().files[0]
    assert (spec.kind, spec.mode, spec.owner, spec.group) == ("other", 0o644, "root", "wheel")
    assert spec.validate_argv("/etc/hostname.carp0.new") == (
        "sh", "-c", "grep -q vhid /etc/hostname.carp0.new"
    )
    assert spec.apply_argv() == ("sh", "/etc/netstart", "carp0")


def test_nodes_and_pairs_can_be_dictionary_keys(load):
    pair = load(REPO / "inventory").pair()
    assert len({pair: 1, pair.nodes[0]: 2, pair.nodes[1]: 3}) == 3


# -- secrets --------------------------------------------------------------------------


@pytest.fixture
def secret_inventory(load):
    environ = {"CARPCTL_TEST_CARP_PASS": CARP_PASS}
    return load(FIXTURES / "secrets" / "inventory.yml", environ=environ)


def test_secrets_come_from_the_environment_and_from_files(secret_inventory):
    pair = secret_inventory.pair()
    assert isinstance(pair.vars["carp_pass"], Secret)
    assert isinstance(pair.vars["api"]["token"], Secret)
    assert len(pair.secrets) == len(secret_inventory.secrets) == 2
    text = f"pass {CARP_PASS} token {FILE_SECRET}"
    assert redact(text, pair.secrets) == f"pass {MASK} token {MASK}"


def test_secrets_never_appear_in_repr_str_exceptions_or_logs(secret_inventory, caplog):
    pair = secret_inventory.pair()
    secret = pair.vars["carp_pass"]
    shown = [repr(secret_inventory), str(pair), f"{secret}", str(pair.vars), repr(pair.secrets)]
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("carpctl.test")
    logger.info("inventory %s node %r pass %s", secret_inventory, pair.nodes[1], secret)
    try:
        raise InventoryError("f.yml", "vars.carp_pass", f"bad value {secret!r}")
    except InventoryError as exc:
        shown.append(str(exc))
    for text in [*shown, caplog.text]:
        assert CARP_PASS not in text
        assert FILE_SECRET not in text
    assert MASK in caplog.text


def test_secrets_stay_masked_when_a_node_becomes_json(secret_inventory):
    node = secret_inventory.pair().nodes[0]
    text = json.dumps(dataclasses.asdict(node), default=str)
    assert CARP_PASS not in text and FILE_SECRET not in text
    assert f'"carp_pass": "{MASK}"' in text


def test_a_missing_secret_environment_variable_names_the_file_and_path(load):
    with pytest.raises(InvalidInventory) as caught:
        load(FIXTURES / "secrets" / "inventory.yml", environ={})
    error = caught.value.problems[0]
    assert error.file.endswith("secrets/inventory.yml")
    assert error.path == "pairs.pair1.vars.carp_pass.env"
    assert "CARPCTL_TEST_CARP_PASS is not set" in error.problem


def test_a_missing_or_empty_secret_file_is_an_error(problems, tmp_path):
    (tmp_path / "empty.secret").write_text("\n")
    secrets = "vars: {a: {file: nope.secret}, b: {file: empty.secret}, c: {env: 'BAD NAME'}}\n"
    found = problems(pair_with(extra=secrets))
    missing = tmp_path / "nope.secret"
    assert found["pairs.pair1.vars.a.file"] == f"secret file {missing} does not exist"
    assert "is empty" in found["pairs.pair1.vars.b.file"]
    assert "not an environment variable name" in found["pairs.pair1.vars.c.env"]


def test_a_secret_can_not_stand_for_an_interface_name(write, load):
    path = write(pair_with(extra="vars: {ext_if: {env: EXT_IF}}\n"))
    with pytest.raises(InvalidInventory, match="can not be a secret"):
        load(path, environ={"EXT_IF": "em0"})


def test_secrets_are_read_from_os_environ_by_default(write, monkeypatch, no_ssh_config):
    monkeypatch.setenv("CARPCTL_TEST_FROM_OS", "os-secret")
    path = write(pair_with(extra="vars: {x: {env: CARPCTL_TEST_FROM_OS}}\n"))
    pair = load_inventory(path, ssh_config=no_ssh_config).pair()
    assert redact("os-secret", pair.secrets) == MASK
