"""What carpctl relies on from rcctl: the exit status is part of the answer."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts import ServiceConfig, parse_rcctl_check, parse_rcctl_get

from ._fixtures import fixture


def test_an_enabled_relayd_without_flags_has_empty_flags():
    assert parse_rcctl_get(fixture("rcctl_get_relayd_enabled.txt"), 0) == ServiceConfig(
        name="relayd", enabled=True, flags="", login_class="daemon", execdir=None, logger=None,
        rtable=0, timeout=30, user="root",
    )


def test_a_disabled_relayd_exits_1_and_has_no_flags():
    config = parse_rcctl_get(fixture("rcctl_get_relayd_disabled.txt"), 1)
    assert (config.enabled, config.flags) == (False, None)


def test_relayd_flags_are_kept_as_one_string():
    config = parse_rcctl_get(fixture("rcctl_get_relayd_flags.txt"), 0)
    assert config.flags == "-v -f /etc/relayd.conf"


def test_older_releases_without_execdir_and_logger_still_parse():
    config = parse_rcctl_get(fixture("rcctl_get_relayd_old_release.txt"), 0)
    assert (config.enabled, config.execdir, config.logger, config.timeout) == (True, None, None, 30)


def test_a_special_service_is_a_switch_without_flags():
    assert parse_rcctl_get(fixture("rcctl_get_pf.txt"), 0) == ServiceConfig(
        name="pf", enabled=True, flags=None, special=True,
    )


@pytest.mark.parametrize(("name", "status"), [
    ("rcctl_get_relayd_enabled.txt", 1),
    ("rcctl_get_relayd_disabled.txt", 0),
    ("rcctl_get_relayd_enabled.txt", 2),
])
def test_an_exit_status_that_contradicts_the_flags_is_refused(name, status):
    with pytest.raises(ParseError):
        parse_rcctl_get(fixture(name), status)


def test_a_service_that_does_not_exist_is_refused_with_that_reason():
    with pytest.raises(ParseError, match="does not exist"):
        parse_rcctl_get(fixture("rcctl_no_such_service.txt"), 2)


def test_a_variable_of_another_service_is_refused():
    text = fixture("rcctl_get_relayd_enabled.txt") + "httpd_user=www\n"
    with pytest.raises(ParseError, match="relayd_VARIABLE"):
        parse_rcctl_get(text, 0)


def test_rcctl_check_ok_means_running_and_failed_means_not():
    assert parse_rcctl_check(fixture("rcctl_check_ok.txt"), 0) is True
    assert parse_rcctl_check(fixture("rcctl_check_failed.txt"), 1) is False


def test_rcctl_check_cannot_tell_for_a_missing_service():
    assert parse_rcctl_check(fixture("rcctl_no_such_service.txt"), 2) is None
    assert parse_rcctl_check("/etc/rc.d/relayd: need root privileges\n", 1) is None


def test_rcctl_check_with_a_contradicting_exit_status_is_refused():
    with pytest.raises(ParseError, match="contradicts"):
        parse_rcctl_check(fixture("rcctl_check_ok.txt"), 1)
