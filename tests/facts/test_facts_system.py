"""What carpctl relies on from sha256 and syspatch."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts import parse_sha256, parse_syspatch

from ._fixtures import fixture

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_sha256_q_and_sha256_file_give_the_same_digest():
    assert parse_sha256(fixture("sha256_q.txt")) == DIGEST
    assert parse_sha256(fixture("sha256_file.txt")) == DIGEST


def test_a_file_name_with_parentheses_does_not_confuse_sha256():
    assert parse_sha256(f"SHA256 (/tmp/a (copy)) = {DIGEST}\n") == DIGEST


def test_sha256_of_a_missing_file_is_refused():
    with pytest.raises(ParseError, match="No such file"):
        parse_sha256(fixture("sha256_missing_file.txt"))


def test_syspatch_lists_patches_and_nothing_when_current():
    assert parse_syspatch(fixture("syspatch_c.txt")) == ("002_wifi", "003_ssl", "004_relayd")
    assert parse_syspatch(fixture("syspatch_c_current.txt")) == ()


def test_syspatch_needing_root_is_refused():
    with pytest.raises(ParseError, match="need root"):
        parse_syspatch(fixture("syspatch_needs_root.txt"))
