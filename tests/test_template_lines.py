"""Tracing a rendered line back to its template line: right, or absent, never a guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from carpctl.inventory import DeploySettings, FailoverSettings, FileSpec, Node, Pair
from carpctl.render.lines import line_origins, mark_lines, origin
from carpctl.render.templates import render_files


def make_pair(tmp_path: Path, template: str, **variables) -> Pair:
    path = tmp_path / "t.conf.j2"
    path.write_text(template)
    nodes = tuple(Node(name=name, pair="pair1", host="127.0.0.1", port=2200 + i, user="root",
                       become="none", identity_files=None, known_hosts=(), proxy_jump=None,
                       connect_timeout=10.0, vars=dict(variables))
                  for i, name in enumerate(("fw1", "fw2")))
    spec = FileSpec(template=path, dest="/etc/t.conf", kind="other", mode=0o644)
    return Pair(name="pair1", nodes=nodes, failover=FailoverSettings(), files=(spec,),
                vars=dict(variables), source_file=tmp_path / "inventory.yml",
                deploy=DeploySettings())


def origins(tmp_path: Path, template: str, **variables) -> list[int] | None:
    pair = make_pair(tmp_path, template, **variables)
    (rendered,) = render_files(pair, pair.nodes[0])
    return line_origins(pair, pair.nodes[0], rendered, template)


def test_plain_lines_map_one_to_one(tmp_path):
    assert origins(tmp_path, "a\nb {{ x }}\n\nc\n", x=1) == [1, 2, 3, 4]


def test_loop_lines_map_to_the_loop_body_and_removed_tag_lines_are_skipped(tmp_path):
    template = "head\n{% for h in hosts %}\nhost {{ h }}\n{% endfor %}\ntail\n"
    assert origins(tmp_path, template, hosts=["a", "b", "c"]) == [1, 3, 3, 3, 5]


def test_a_false_if_block_shifts_the_following_lines_correctly(tmp_path):
    template = "one\n{% if flag %}\ntwo\nthree\n{% endif %}\nfour\n"
    assert origins(tmp_path, template, flag=False) == [1, 6]


def test_a_multi_line_value_belongs_to_the_line_of_its_expression(tmp_path):
    assert origins(tmp_path, "a\n{{ block }}\nz\n", block="x\ny") == [1, 2, 2, 3]


def test_a_tag_spanning_lines_gets_no_marker_inside_it(tmp_path):
    template = "a\n{{ value\n   | upper }}\nb\n"
    assert "\ue000" not in mark_lines(template).splitlines()[2]
    assert origins(tmp_path, template, value="v") == [1, 2, 4]


def test_whitespace_control_keeps_the_mapping_exact(tmp_path):
    assert origins(tmp_path, "a\n  {%- if true %}\nb\n{%- endif %}\nc\n") == [1]  # "abc"
    assert origins(tmp_path, "a\n{% if true -%}\n   b\n{% endif %}\nc\n") == [1, 3, 5]


def test_a_filter_that_counts_characters_makes_the_mapping_absent_not_wrong(tmp_path):
    template = "{% set body %}\nx\ny\n{% endset %}\nlength {{ body | length }}\n"
    assert origins(tmp_path, template) is None


@pytest.mark.parametrize("line", [1, 3, 5])
def test_origin_names_the_template_and_the_rendered_text(tmp_path, line):
    pair = make_pair(tmp_path, "{% for i in [1, 2, 3] %}\nline\n{% endfor %}\n"
                     "{% for i in [4, 5] %}\nother {{ i }}\n{% endfor %}\n")
    (rendered,) = render_files(pair, pair.nodes[0])
    found = origin(pair, pair.nodes[0], rendered, line)
    assert found.line == (2 if line <= 3 else 5)
    assert found.rendered_text == rendered.text.splitlines()[line - 1]
    assert found.location.endswith(f"t.conf.j2:{found.line}")
