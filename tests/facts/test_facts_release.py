"""What carpctl relies on from uname -r, kern.version and the upgrade tools' output."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts.release import next_release, parse_kern_version, parse_release
from carpctl.facts.upgrade import parse_df, parse_fw_update, parse_pkg_add, parse_sysmerge

from ._fixtures import fixture


def test_kern_version_gives_the_release_build_and_date_of_a_release_kernel():
    kv = parse_kern_version(fixture("sysctl_kern_version.txt"))
    assert (kv.release, kv.tag, kv.kernel, kv.build) == ("7.6", "", "GENERIC.MP", 338)
    assert kv.date == "Mon Sep 30 08:55:35 MDT 2024" and kv.name == "7.6"


def test_a_snapshot_kernel_carries_its_current_tag():
    kv = parse_kern_version(fixture("sysctl_kern_version_current.txt"))
    assert kv.name == "7.7-current" and kv.build == 12


def test_kern_version_that_is_not_openbsds_line_is_refused():
    with pytest.raises(ParseError):
        parse_kern_version("Linux version 6.1\n")


def test_uname_r_is_the_release_and_nothing_else():
    assert parse_release(fixture("uname_r.txt")) == "7.6"
    with pytest.raises(ParseError):
        parse_release("7.6-current\n")


def test_the_next_release_after_a_nine_is_the_next_major():
    assert (next_release("7.6"), next_release("7.9")) == ("7.7", "8.0")


def test_df_gives_capacity_and_available_space_per_mount_point():
    spaces = parse_df(fixture("df_pk_usr_home.txt"))
    assert (spaces["/usr"].capacity, spaces["/home"].avail_kb) == (44, 9677872)


def test_df_without_its_header_is_refused():
    with pytest.raises(ParseError):
        parse_df("/dev/sd0d 1 1 1 1% /usr\n")


def test_sysmerge_batch_names_the_files_left_for_a_person_as_etc_paths():
    merged = parse_sysmerge(fixture("sysmerge_b_left.txt"))
    assert merged.updated == ("/etc/daily", "/etc/services")
    assert merged.left == ("/etc/ssh/sshd_config",)


def test_fw_update_status_line_says_what_changed():
    fw = parse_fw_update(fixture("fw_update_status.txt"))
    assert (fw.added, fw.updated, fw.kept, fw.changed, fw.failed) == (
        ("iwm",), (), ("vmm",), ("iwm",), False)


def test_fw_update_that_could_not_fetch_its_index_is_a_failure():
    assert parse_fw_update(fixture("fw_update_failed.txt")).failed


def test_pkg_add_u_lists_the_packages_it_changed_and_not_the_quirks_line():
    assert parse_pkg_add(fixture("pkg_add_u.txt")) == (("rsync-3.3.0", "3.4.1"),)
