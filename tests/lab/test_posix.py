"""The lab's base utilities behave and fail like OpenBSD's."""

from __future__ import annotations

import re
import threading
import time

import pytest
from fakenode import FakeNode, node  # noqa: F401  (node is a fixture)

NOENT = "No such file or directory"


def write(node: FakeNode, path: str, text: str, *, mode: int = 0o644,
          owner: str = "root", group: str = "wheel") -> None:
    node.fs.install(path, text, mode=mode, owner=owner, group=group)


# -- reading and copying --------------------------------------------------------------------
def test_cat_concatenates_files_and_stdin_and_reports_missing_ones(node):
    write(node, "/tmp/a", "a\n")
    assert node.sh("cat /tmp/a - /nope /tmp/a", stdin=b"in\n") == \
        (1, "a\nin\na\n", f"cat: /nope: {NOENT}\n")
    assert node.sh("cat /etc")[2] == "cat: /etc: Is a directory\n"


def test_cp_copies_into_a_file_or_a_directory(node):
    write(node, "/tmp/a", "data\n", mode=0o600)
    assert node.sh("cp /tmp/a /tmp/b && cp /tmp/a /etc") == (0, "", "")
    assert node.fs.read_text("/tmp/b") == node.fs.read_text("/etc/a") == "data\n"
    assert node.fs.stat("/tmp/b").mode == 0o600
    assert node.sh("cp /nope /tmp/c") == (1, "", f"cp: /nope: {NOENT}\n")
    assert node.sh("cp /tmp/a")[2].startswith("usage: cp ")


def test_cp_p_keeps_mode_owner_and_time_and_plain_cp_keeps_the_destinations(node):
    write(node, "/tmp/src", "new\n", mode=0o640, owner="admin", group="admin")
    write(node, "/etc/dst", "old\n", mode=0o600, owner="root", group="wheel")
    node.sh("cp /tmp/src /etc/dst")
    dst = node.fs.stat("/etc/dst")
    assert (dst.mode, dst.owner, node.fs.read_text("/etc/dst")) == (0o600, "root", "new\n")
    node.sh("cp -p /tmp/src /tmp/copy")
    src, copy = node.fs.stat("/tmp/src"), node.fs.stat("/tmp/copy")
    assert (copy.mode, copy.owner, copy.group, copy.mtime) == (0o640, "admin", "admin", src.mtime)


def test_cp_r_copies_a_tree_and_cp_refuses_a_directory_without_it(node):
    node.sh("mkdir -p /tmp/d/sub && echo x > /tmp/d/sub/f")
    assert node.sh("cp /tmp/d /tmp/e")[2] == "cp: /tmp/d is a directory (not copied).\n"
    assert node.sh("cp -R /tmp/d /tmp/e && cat /tmp/e/sub/f")[1] == "x\n"


def test_mv_renames_across_directories_and_reports_a_missing_source(node):
    write(node, "/tmp/a", "a\n")
    node.sh("mkdir /tmp/d && mv /tmp/a /tmp/d && mv /tmp/d/a /etc/b")
    assert node.fs.read_text("/etc/b") == "a\n" and not node.fs.exists("/tmp/d/a")
    assert node.sh("mv /nope /tmp/x") == (1, "", f"mv: /nope: {NOENT}\n")
    assert node.sh("mv /etc/b /tmp/b", user="admin") == \
        (1, "", "mv: rename /etc/b to /tmp/b: Permission denied\n")


# -- install ---------------------------------------------------------------------------------
def test_install_sets_mode_owner_and_group_and_defaults_to_0755(node):
    write(node, "/tmp/pf.conf", "pass\n")
    assert node.sh("install -m 600 -o root -g wheel /tmp/pf.conf /etc/pf.conf") == (0, "", "")
    st = node.fs.stat("/etc/pf.conf")
    assert (st.mode, st.owner, st.group) == (0o600, "root", "wheel")
    node.sh("install /tmp/pf.conf /etc/other")
    assert node.fs.stat("/etc/other").mode == 0o755


def test_install_d_creates_directories_with_their_mode(node):
    assert node.sh("install -d -m 700 -o admin /var/carpctl/state") == (0, "", "")
    st = node.fs.stat("/var/carpctl/state")
    assert (st.kind, st.mode, st.owner) == ("dir", 0o700, "admin")


def test_install_rejects_unknown_accounts_and_a_user_cannot_give_files_away(node):
    write(node, "/tmp/f", "x\n")
    assert node.sh("install -o nobody /tmp/f /tmp/g")[2] == "install: unknown user nobody\n"
    assert node.sh("install -o root /tmp/f /tmp/g", user="admin") == \
        (1, "", "install: /tmp/g: chown/chgrp: Operation not permitted\n")
    assert not node.fs.exists("/tmp/g")
    assert node.fs.listdir("/tmp") == ["f"]


def test_a_reader_never_sees_a_half_written_file_while_install_or_mv_replace_it(node):
    size = 2 << 20
    write(node, "/etc/big", "A" * size)
    write(node, "/tmp/new", "B" * size)
    write(node, "/tmp/newer", "C" * size)
    seen: set[tuple[int, bytes]] = set()
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            data = node.fs.read_bytes("/etc/big")
            seen.add((len(data), bytes(set(data))))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):
            assert node.sh("install -m 644 /tmp/new /etc/big")[0] == 0
            assert node.sh("cp /tmp/newer /tmp/staged && mv /tmp/staged /etc/big")[0] == 0
    finally:
        done.set()
        thread.join()
    assert seen <= {(size, b"A"), (size, b"B"), (size, b"C")}


# -- disk full -------------------------------------------------------------------------------
def test_on_a_full_disk_a_redirection_truncates_and_fails_like_sh(node):
    write(node, "/tmp/f", "old\n")
    node.fs.full = True
    assert node.sh("echo new > /tmp/f") == (1, "", "echo: stdout: No space left on device\n")
    assert node.fs.read_text("/tmp/f") == ""


def test_on_a_full_disk_cp_install_and_tee_fail_and_leave_the_destination_intact(node):
    write(node, "/tmp/src", "new\n")
    write(node, "/etc/pf.conf", "old\n")
    node.fs.full = True
    assert node.sh("cp /tmp/src /etc/pf.conf") == \
        (1, "", "cp: /etc/pf.conf: No space left on device\n")
    assert node.sh("install -m 600 /tmp/src /etc/pf.conf") == \
        (1, "", "install: /etc/pf.conf: No space left on device\n")
    assert node.sh("cat /tmp/src > /tmp/x")[2] == "cat: stdout: No space left on device\n"
    assert node.fs.read_text("/etc/pf.conf") == "old\n"
    assert sorted(node.fs.listdir("/etc")) == ["pf.conf"]
    assert node.sh("mv /tmp/src /etc/pf.conf")[0] == 0


# -- directories -----------------------------------------------------------------------------
def test_mkdir_p_m_and_its_errors(node):
    assert node.sh("mkdir -p -m 700 /tmp/a/b/c && mkdir -p /tmp/a/b")[0] == 0
    assert node.fs.stat("/tmp/a/b/c").mode == 0o700 and node.fs.stat("/tmp/a").mode == 0o755
    assert node.sh("mkdir /tmp/a")[2] == "mkdir: /tmp/a: File exists\n"
    assert node.sh("mkdir /x/y")[2] == f"mkdir: /x/y: {NOENT}\n"
    assert node.sh("mkdir /etc/d", user="admin")[2] == "mkdir: /etc/d: Permission denied\n"


def test_rm_removes_files_and_trees_and_rmdir_only_empty_directories(node):
    node.sh("mkdir -p /tmp/d/e && touch /tmp/d/e/f /tmp/g")
    assert node.sh("rm /tmp/nope; rm -f /tmp/nope /tmp/g") == (0, "", f"rm: /tmp/nope: {NOENT}\n")
    assert node.sh("rm /tmp/d")[2] == "rm: /tmp/d: is a directory\n"
    assert node.sh("rmdir /tmp/d")[2] == "rmdir: /tmp/d: Directory not empty\n"
    assert node.sh("rm -r /tmp/d")[0] == 0 and node.fs.listdir("/tmp") == []


def test_non_root_cannot_remove_or_change_system_files(node):
    write(node, "/etc/pf.conf", "x\n")
    assert node.sh("rm /etc/pf.conf", user="admin")[2] == "rm: /etc/pf.conf: Permission denied\n"
    assert node.sh("chmod 777 /etc/pf.conf", user="admin")[2] == \
        "chmod: /etc/pf.conf: Operation not permitted\n"
    assert node.sh("chown admin /etc/pf.conf", user="admin")[2] == \
        "chown: /etc/pf.conf: Operation not permitted\n"
    assert node.sh("touch /etc/new", user="admin")[2] == "touch: /etc/new: Permission denied\n"


def test_touch_creates_a_file_and_updates_the_time_of_an_existing_one(node):
    write(node, "/tmp/f", "keep\n")
    before = node.fs.stat("/tmp/f").mtime
    time.sleep(0.01)
    assert node.sh("touch /tmp/f /tmp/new; touch -c /tmp/absent") == (0, "", "")
    assert node.fs.stat("/tmp/f").mtime > before and node.fs.read_text("/tmp/f") == "keep\n"
    assert node.fs.exists("/tmp/new") and not node.fs.exists("/tmp/absent")


def test_mktemp_creates_a_private_file_or_directory_from_a_template(node):
    status, out, _ = node.sh("mktemp /tmp/carpctl.XXXXXXXX")
    assert status == 0 and re.fullmatch(r"/tmp/carpctl\.[A-Za-z0-9]{8}\n", out)
    assert node.fs.stat(out.strip()).mode == 0o600
    out = node.sh("mktemp -d")[1].strip()
    assert re.fullmatch(r"/tmp/tmp\.\w{10}", out) and node.fs.stat(out).mode == 0o700
    assert node.sh("mktemp -p /etc x.XXXXXX")[1].startswith("/etc/x.")
    assert node.sh("mktemp /tmp/fewXXX")[2] == \
        "mktemp: insufficient number of Xs in template `/tmp/fewXXX'\n"


# -- modes and owners --------------------------------------------------------------------------
@pytest.mark.parametrize("spec, mode", [
    ("600", 0o600), ("u+x", 0o744), ("go-r", 0o600), ("a=r", 0o444), ("u=rw,g+w", 0o664),
])
def test_chmod_takes_octal_and_symbolic_modes(node, spec, mode):
    write(node, "/tmp/f", "x\n", mode=0o644)
    assert node.sh(f"chmod {spec} /tmp/f") == (0, "", "")
    assert node.fs.stat("/tmp/f").mode == mode


def test_chmod_rejects_a_bad_mode_and_a_missing_file(node):
    assert node.sh("chmod 99 /tmp")[2] == "chmod: invalid file mode: 99\n"
    assert node.sh("chmod 600 /nope")[2] == f"chmod: /nope: {NOENT}\n"


def test_chown_sets_owner_and_group_and_rejects_unknown_names(node):
    write(node, "/tmp/f", "x\n")
    assert node.sh("chown admin:operator /tmp/f && chgrp wheel /tmp/f") == (0, "", "")
    assert node.fs.owner("/tmp/f") == ("admin", "wheel")
    assert node.sh("chown bob /tmp/f")[2] == "chown: unknown user bob\n"


def test_ls_l_prints_openbsd_columns(node):
    write(node, "/etc/pf.conf", "x" * 1234, mode=0o600)
    write(node, "/etc/hostname.carp0", "inet\n", owner="admin", group="admin")
    out = node.sh("ls -l /etc")[1].splitlines()
    assert out[0] == "total 8"
    assert re.fullmatch(r"-rw-r--r--  1 admin  admin     5 \w{3} [ \d]\d \d\d:\d\d hostname\.carp0", out[1])
    assert re.fullmatch(r"-rw-------  1 root   wheel  1234 \w{3} [ \d]\d \d\d:\d\d pf\.conf", out[2])


def test_ls_lists_names_hidden_ones_with_a_and_directories_themselves_with_d(node):
    node.sh("touch /tmp/b /tmp/a /tmp/.hidden")
    assert node.sh("ls /tmp")[1] == "a\nb\n"
    assert node.sh("ls -a1 /tmp")[1] == ".\n..\n.hidden\na\nb\n"
    assert node.sh("ls -d /tmp /etc")[1] == "/etc\n/tmp\n"
    assert node.sh("ls /tmp/a /nope") == (1, "/tmp/a\n", f"ls: /nope: {NOENT}\n")


def test_stat_f_prints_mode_owner_size_time_and_name(node):
    write(node, "/etc/pf.conf", "pass\n", mode=0o640, owner="root", group="wheel")
    status, out, _ = node.sh("stat -f '%Lp %Su %Sg %z %N %p %u:%g' /etc/pf.conf")
    assert (status, out) == (0, "640 root wheel 5 /etc/pf.conf 100640 0:0\n")
    mtime = int(node.fs.stat("/etc/pf.conf").mtime)
    assert node.sh("stat -f %m /etc/pf.conf")[1] == f"{mtime}\n"
    assert node.sh("stat -n -f %Sp /etc")[1] == "drwxr-xr-x"
    assert node.sh("stat /nope") == (1, "", f"stat: /nope: {NOENT}\n")


# -- comparing --------------------------------------------------------------------------------
def test_cmp_reports_the_first_difference_and_s_only_the_status(node):
    write(node, "/tmp/a", "abc\nde\n")
    write(node, "/tmp/b", "abc\nxe\n")
    write(node, "/tmp/c", "abc\n")
    assert node.sh("cmp /tmp/a /tmp/a") == (0, "", "")
    assert node.sh("cmp /tmp/a /tmp/b") == (1, "/tmp/a /tmp/b differ: char 5, line 2\n", "")
    assert node.sh("cmp -s /tmp/a /tmp/b") == (1, "", "")
    assert node.sh("cmp /tmp/c /tmp/a") == (1, "", "cmp: EOF on /tmp/c\n")
    assert node.sh("cmp /tmp/a /nope") == (2, "", f"cmp: /nope: {NOENT}\n")


def test_diff_u_prints_a_unified_diff_with_openbsd_headers(node):
    write(node, "/tmp/old", "a\nb\nc\n")
    write(node, "/tmp/new", "a\nB\nc\nd")
    status, out, _ = node.sh("diff -u /tmp/old /tmp/new")
    lines = out.splitlines()
    assert status == 1
    assert re.fullmatch(r"--- /tmp/old\t\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", lines[0])
    assert lines[1].startswith("+++ /tmp/new\t")
    assert lines[2:] == ["@@ -1,3 +1,4 @@", " a", "-b", "+B", " c", "+d",
                         "\\ No newline at end of file"]
    assert node.sh("diff -u -L before -L after /tmp/old /tmp/old") == (0, "", "")
    assert node.sh("diff -u -L before -L after /tmp/old /tmp/new")[1].startswith(
        "--- before\n+++ after\n@@")
    assert node.sh("diff /tmp/old /nope") == (2, "", f"diff: /nope: {NOENT}\n")


def test_diff_without_u_prints_the_normal_format(node):
    write(node, "/tmp/old", "a\nb\n")
    write(node, "/tmp/new", "a\nc\nd\n")
    assert node.sh("diff /tmp/old /tmp/new") == (1, "2c2,3\n< b\n---\n> c\n> d\n", "")


def test_sha256_prints_bsd_style_reversed_and_quiet_digests(node):
    write(node, "/tmp/f", "abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert node.sh("sha256 /tmp/f")[1] == f"SHA256 (/tmp/f) = {digest}\n"
    assert node.sh("sha256 -r /tmp/f; sha256 -q /tmp/f")[1] == f"{digest} /tmp/f\n{digest}\n"
    assert node.sh("sha256 /nope") == (1, "", f"sha256: /nope: {NOENT}\n")


@pytest.mark.parametrize("expression, status", [
    ("-e /etc", 0), ("-f /etc", 1), ("-d /etc", 0), ("-s /tmp/empty", 1), ("-s /tmp/full", 0),
    ("-r /root", 1), ("-w /tmp", 0), ("-x /tmp/full", 1), ("-n ''", 1), ("-z ''", 0),
    ("abc = abc", 0), ("abc != abc", 1), ("10 -gt 9", 0), ("2 -le 1", 1), ("! -e /nope", 0),
    ("-e /etc -a -e /nope", 1), ("-e /etc -o -e /nope", 0), ("-n", 0), ("''", 1),
    ("x -eq 1", 2),
])
def test_test_evaluates_file_string_and_number_conditions(node, expression, status):
    write(node, "/tmp/empty", "")
    write(node, "/tmp/full", "x", owner="admin", group="admin")
    assert node.sh(f"test {expression}", user="admin")[0] == status
    assert node.sh(f"[ {expression} ]", user="admin")[0] == status


def test_test_reports_bad_numbers_and_a_missing_bracket(node):
    assert node.sh("[ x -eq 1 ]")[2] == "[: x: bad number\n"
    assert node.sh("[ 1 = 1") == (2, "", "[: missing ]\n")


# -- text ----------------------------------------------------------------------------------------
def test_echo_n_and_escapes_as_kshs_echo(node):
    assert node.sh("echo -n a; echo 'b\\tc'; echo -E 'd\\te'; echo 'f\\c'; echo g")[1] == \
        "ab\tc\nd\\te\nfg\n"


def test_printf_formats_and_reuses_its_format_for_the_remaining_arguments(node):
    assert node.sh("printf '%s=%d\\n' a 1 b 2")[1] == "a=1\nb=2\n"
    assert node.sh("printf '%5s|%-3d|%03d|%x|%%|%b' ab 7 5 255 'x\\ny'")[1] == \
        "   ab|7  |005|ff|%|x\ny"
    assert node.sh("printf '%d\\n' abc") == (1, "0\n", "printf: abc: invalid number\n")


def test_wc_counts_lines_words_and_bytes(node):
    write(node, "/tmp/f", "one two\nthree\n")
    assert node.sh("wc /tmp/f")[1] == "       2       3      14 /tmp/f\n"
    assert node.sh("wc -l < /tmp/f; wc -c /tmp/f; wc -w /tmp/f")[1] == \
        "       2\n      14 /tmp/f\n       3 /tmp/f\n"


def test_head_and_tail_take_the_first_and_last_lines(node):
    write(node, "/tmp/f", "".join(f"{n}\n" for n in range(1, 21)))
    assert node.sh("head -n 2 /tmp/f; head -3 /tmp/f | tail -n 1")[1] == "1\n2\n3\n"
    assert node.sh("tail -n 2 /tmp/f; tail -n +19 /tmp/f; head /tmp/f | wc -l")[1] == \
        "19\n20\n19\n20\n      10\n"


def test_grep_options_and_statuses(node):
    write(node, "/tmp/f", "carp0 MASTER\ncarp1 BACKUP\nem0 up\n")
    assert node.sh("grep carp /tmp/f")[1] == "carp0 MASTER\ncarp1 BACKUP\n"
    assert node.sh("grep -c -i master /tmp/f; grep -n -v carp /tmp/f")[1] == "1\n3:em0 up\n"
    assert node.sh("grep -E 'MASTER|BACKUP$' /tmp/f | wc -l")[1] == "       2\n"
    assert node.sh("grep -F 'p[0' /tmp/f; echo $?")[1] == "1\n"
    assert node.sh("grep -q BACKUP /tmp/f") == (0, "", "")
    assert node.sh("grep 'carp[[:digit:]] \\(MASTER\\)' /tmp/f")[1] == "carp0 MASTER\n"
    assert node.sh("grep x /nope") == (2, "", f"grep: /nope: {NOENT}\n")


def test_sort_uniq_cut_and_tr_transform_lines(node):
    assert node.sh("printf 'b\\na\\nb\\n' | sort -u")[1] == "a\nb\n"
    assert node.sh("printf '10\\n9\\n' | sort -n -r")[1] == "10\n9\n"
    assert node.sh("printf 'a\\na\\nb\\n' | uniq -c")[1] == "   2 a\n   1 b\n"
    assert node.sh("echo 'a:b:c:d' | cut -d : -f 2,4; echo abcdef | cut -c 2-3")[1] == "b:d\nbc\n"
    assert node.sh("echo hello | tr a-z A-Z; echo a-b | tr -d -; echo aaa | tr -s a")[1] == \
        "HELLO\nab\na\n"


def test_tee_writes_stdin_to_files_and_stdout(node):
    assert node.sh("echo x | tee /tmp/t; echo y | tee -a /tmp/t >/dev/null")[1] == "x\n"
    assert node.fs.read_text("/tmp/t") == "x\ny\n"


def test_basename_and_dirname_split_paths(node):
    out = node.sh("basename /etc/pf.conf; basename /etc/pf.conf .conf; basename /etc/; "
                  "dirname /etc/pf.conf; dirname pf.conf; dirname /etc/")[1]
    assert out == "pf.conf\npf\netc\n/etc\n.\n/\n"


# -- processes and identity -------------------------------------------------------------------------
def test_id_and_whoami_describe_the_user(node):
    assert node.sh("id", user="admin")[1] == "uid=1000(admin) gid=1000(admin) groups=1000(admin), 0(wheel)\n"
    assert node.sh("id -u; id -un; id -g; id -gn; whoami", user="admin")[1] == \
        "1000\nadmin\n1000\nadmin\nadmin\n"
    assert node.sh("id bob") == (1, "", "id: bob: no such user\n")


def test_hostname_prints_the_node_name_and_only_root_may_set_it(node):
    assert node.sh("hostname")[1] == "fw1\n"
    assert node.sh("hostname fw9", user="admin") == \
        (1, "", "hostname: sethostname: Operation not permitted\n")
    assert node.sh("hostname fw1.example.org; hostname -s")[1] == "fw1\n"
    assert node.name == "fw1.example.org"


def test_date_prints_openbsd_default_and_custom_formats(node):
    assert re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}\n", node.sh("date")[1])
    assert abs(int(node.sh("date +%s")[1]) - time.time()) < 5
    assert node.sh("date -r 0 '+%Y-%m-%d %H:%M:%S %Z'")[1] == "1970-01-01 00:00:00 UTC\n"


def test_sleep_accepts_fractions_and_rejects_garbage(node):
    start = time.monotonic()
    assert node.sh("sleep 0.2") == (0, "", "")
    assert time.monotonic() - start >= 0.2
    assert node.sh("sleep soon") == (1, "", "sleep: invalid time interval: soon\n")


def test_env_prints_or_changes_the_environment_of_a_command(node):
    assert "USER=root\n" in node.sh("env")[1]
    assert node.sh("env -i A=1 env")[1] == "A=1\n"
    assert node.sh("env nosuch") == (127, "", "env: nosuch: No such file or directory\n")


def test_true_false_sync_and_pwd(node):
    assert node.sh("true; echo $?; false; echo $?; sync; cd /etc; pwd")[1] == "0\n1\n/etc\n"


def test_an_unknown_option_prints_the_usage(node):
    assert node.sh("mkdir -z /tmp/x") == \
        (1, "", "mkdir: unknown option -- z\nusage: mkdir [-p] [-m mode] directory ...\n")
