"""The lab shell parses and runs command lines as OpenBSD's ksh -c would."""

from __future__ import annotations

import threading
import time

import pytest
from fakenode import FakeNode, node  # noqa: F401  (node is a fixture)

from carpctl_lab.proc import DropConnection, Proc, Registry
from carpctl_lab.shell import run


def fields(node: FakeNode, words: str) -> list[str]:
    """The arguments the shell passes for `words`, one per [..]."""
    status, out, err = node.sh(f"printf '[%s]' {words}")
    assert status == 0, err
    return out[1:-1].split("][") if out else []


def wait_for(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


# -- words ------------------------------------------------------------------------------
def test_quotes_keep_spaces_and_special_characters_literal(node):
    assert fields(node, "'a  b' \"c  d\" e\\ f '$HOME' \"\\$x\" '\"'") == \
        ["a  b", "c  d", "e f", "$HOME", "$x", '"']


def test_double_quotes_expand_variables_but_single_quotes_do_not(node):
    assert node.sh("x=val; echo \"[$x]\" '[$x]' [${x}]")[1] == "[val] [$x] [val]\n"


def test_unquoted_expansions_are_split_into_fields_and_quoted_ones_are_not(node):
    node.sh("true")
    assert node.sh('x="a  b   c"; printf "[%s]" $x "$x"')[1] == "[a][b][c][a  b   c]"


def test_an_empty_quoted_word_is_still_an_argument_and_an_empty_variable_is_not(node):
    assert node.sh('e=; printf "[%s]" "" $e x')[1] == "[][x]"


def test_a_comment_starts_only_at_the_beginning_of_a_word(node):
    assert node.sh("echo a#b # not this")[1] == "a#b\n"


def test_special_parameters_give_status_pids_and_positional_arguments(node):
    status, out, _ = node.sh("false; echo $?; sh -c 'echo $0 $# $1 \"$@\"' name one two")
    assert out == "1\nname 2 one one two\n"


def test_a_glob_matches_files_and_is_left_alone_when_nothing_matches(node):
    node.sh("touch /tmp/a.conf /tmp/b.conf /tmp/c.txt")
    assert node.sh("echo /tmp/*.conf /tmp/*.none '/tmp/*.conf'")[1] == \
        "/tmp/a.conf /tmp/b.conf /tmp/*.none /tmp/*.conf\n"


def test_a_tilde_at_the_start_of_a_word_is_the_home_directory(node):
    assert node.sh("echo ~ ~/x ~admin a~", user="admin")[1] == \
        "/home/admin /home/admin/x /home/admin a~\n"


# -- lists and statuses -------------------------------------------------------------------
def test_semicolon_and_newline_run_commands_in_order_and_the_last_status_counts(node):
    assert node.sh("echo a; false\necho b") == (0, "a\nb\n", "")
    assert node.sh("echo a; false")[0] == 1


def test_and_or_lists_run_the_right_side_only_when_they_should(node):
    out = node.sh("true && echo 1; false && echo 2; false || echo 3; true || echo 4; "
                  "false && echo 5 || echo 6")[1]
    assert out == "1\n3\n6\n"


def test_a_pipeline_feeds_each_stage_and_returns_the_last_status(node):
    assert node.sh("printf 'b\\na\\n' | sort | head -n 1") == (0, "a\n", "")
    assert node.sh("false | true")[0] == 0
    assert node.sh("true | false")[0] == 1


def test_pipefail_makes_a_failed_stage_fail_the_pipeline(node):
    assert node.sh("set -o pipefail; false | true")[0] == 1


def test_bang_negates_the_status_of_a_pipeline(node):
    assert node.sh("! false")[0] == 0
    assert node.sh("! true")[0] == 1


def test_dollar_question_holds_the_status_of_the_previous_command(node):
    assert node.sh("cat /missing 2>/dev/null; echo $?; nosuch 2>/dev/null; echo $?")[1] == "1\n127\n"


def test_exit_stops_the_line_with_its_status(node):
    assert node.sh("echo a; exit 3; echo b") == (3, "a\n", "")


def test_errexit_stops_at_the_first_failure_outside_conditions(node):
    assert node.sh("set -e; if false; then :; fi; false || true; echo on; false; echo no") == \
        (1, "on\n", "")


def test_a_subshell_keeps_its_changes_to_itself_and_a_group_does_not(node):
    out = node.sh("x=1; (x=2; cd /tmp); echo $x $PWD; { x=3; cd /tmp; }; echo $x $PWD")[1]
    assert out == "1 /root\n3 /tmp\n"


def test_if_elif_else_while_and_for_control_the_flow(node):
    out = node.sh("""
        for n in 1 2 3; do
            if [ $n -eq 1 ]; then echo one
            elif [ $n -eq 2 ]; then echo two
            else echo many; fi
        done
        i=
        while [ "$i" != xxx ]; do i=${i}x; done; echo $i
        until true; do echo never; done
        for x in a b c d; do [ $x = c ] && break; [ $x = a ] && continue; echo $x; done
    """)[1]
    assert out == "one\ntwo\nmany\nxxx\nb\n"


def test_assignments_take_effect_left_to_right(node):
    assert node.sh("a=1 b=$a; echo $b")[1] == "1\n"


def test_assignments_before_a_command_reach_only_that_command(node):
    assert node.sh("FOO=bar env | grep FOO; echo \"[$FOO]\"")[1] == "FOO=bar\n[]\n"


def test_exported_variables_reach_commands_and_plain_ones_do_not(node):
    assert node.sh("A=1; export B=2; env | grep -E '^(A|B)='")[1] == "B=2\n"


def test_cd_changes_the_directory_of_later_commands_and_reports_a_missing_one(node):
    assert node.sh("cd /etc; pwd; cd /nope; pwd") == \
        (0, "/etc\n/etc\n", "ksh: cd: /nope - No such file or directory\n")


def test_eval_runs_its_arguments_as_a_command_line(node):
    assert node.sh("cmd='echo a; echo b'; eval $cmd")[1] == "a\nb\n"


# -- command substitution -------------------------------------------------------------------
def test_command_substitution_inserts_output_without_trailing_newlines(node):
    node.fs.write_text("/etc/myname", "fw1.example.org\n\n")
    assert node.sh('name=$(cat /etc/myname); echo "[$name]" `echo bq` "$(echo "in  ner")"')[1] == \
        "[fw1.example.org] bq in  ner\n"


def test_command_substitution_nests_and_its_status_is_the_assignments_status(node):
    assert node.sh("echo $(echo $(echo deep)); x=$(false); echo $?")[1] == "deep\n1\n"


# -- redirections ---------------------------------------------------------------------------
def test_output_redirections_create_truncate_and_append(node):
    node.sh("echo one > /tmp/f; echo two >> /tmp/f; echo err 2> /tmp/e >&2; echo x 2>>/tmp/e >&2")
    assert node.fs.read_text("/tmp/f") == "one\ntwo\n"
    assert node.fs.read_text("/tmp/e") == "err\nx\n"
    node.sh("echo three > /tmp/f")
    assert node.fs.read_text("/tmp/f") == "three\n"


def test_input_redirection_and_dev_null(node):
    node.fs.write_text("/tmp/in", "data\n")
    assert node.sh("cat < /tmp/in; cat < /dev/null; echo gone > /dev/null; ls /nope 2>/dev/null") == \
        (1, "data\n", "")


def test_a_missing_input_file_fails_the_command_without_running_it(node):
    assert node.sh("cat < /nope; echo $?") == \
        (0, "1\n", "ksh: cannot open /nope: No such file or directory\n")
    assert ["cat"] not in node.commands


def test_redirection_order_decides_where_stderr_goes(node):
    node.sh("cat /nope > /tmp/both 2>&1")
    assert node.fs.read_text("/tmp/both") == "cat: /nope: No such file or directory\n"
    status, out, err = node.sh("cat /nope 2>&1 > /tmp/only-out")
    assert node.fs.read_text("/tmp/only-out") == ""
    assert out == "cat: /nope: No such file or directory\n" and err == ""


def test_redirections_apply_to_groups_and_subshells(node):
    node.sh("{ echo a; echo b; } > /tmp/g; (echo c; echo d >&2) 2> /tmp/s")
    assert node.fs.read_text("/tmp/g") == "a\nb\n"
    assert node.fs.read_text("/tmp/s") == "d\n"


def test_exec_with_only_redirections_redirects_the_rest_of_the_shell(node):
    assert node.sh("exec 2>/dev/null; cat /nope; echo $?") == (0, "1\n", "")


def test_here_documents_expand_unless_the_delimiter_is_quoted(node):
    out = node.sh("x=1\ncat <<EOF\nx=$x\nEOF\ncat <<'EOF'\nx=$x\nEOF\ncat <<-EOF\n\tindented\n\tEOF")[1]
    assert out == "x=1\nx=$x\nindented\n"


def test_umask_sets_the_mode_of_files_that_redirections_create(node):
    assert node.sh("umask; umask 077; umask; echo s > /tmp/secret")[1] == "022\n077\n"
    assert node.fs.stat("/tmp/secret").mode == 0o600


def test_a_redirection_into_a_root_directory_fails_for_a_user(node):
    assert node.sh("echo x > /etc/f", user="admin") == \
        (1, "", "ksh: cannot create /etc/f: Permission denied\n")


# -- errors -----------------------------------------------------------------------------------
def test_an_unknown_command_fails_with_127_and_the_ksh_message(node):
    assert node.sh("nosuch arg") == (127, "", "ksh: nosuch: not found\n")
    assert node.sh("/usr/local/bin/nosuch")[2] == "ksh: /usr/local/bin/nosuch: not found\n"


@pytest.mark.parametrize("line, message", [
    ("echo a; if true; then echo b", "syntax error: `if' unmatched"),
    ("echo a; fi", "syntax error: `fi' unexpected"),
    ("echo a |", "syntax error: unexpected EOF"),
    ("echo a && ; echo b", "syntax error: `;' unexpected"),
    ("echo 'a", "no closing quote"),
    ("(echo a", "syntax error: `(' unmatched"),
])
def test_a_syntax_error_runs_nothing_and_fails_with_1(node, line, message):
    assert node.sh(line) == (1, "", f"ksh: {message}\n")
    assert node.commands == []


def test_errors_in_a_script_name_the_file_and_line(node):
    node.fs.write_text("/tmp/s.sh", "echo a\nnosuch\n")
    assert node.sh("sh /tmp/s.sh") == (127, "a\n", "/tmp/s.sh[2]: nosuch: not found\n")


# -- nested shells and command lookup -----------------------------------------------------------
def test_sh_c_nests_with_its_own_quoting(node):
    line = """sh -c 'echo "one two"; ksh -c "echo \\"three  four\\"; exit 4"; echo $?'"""
    assert node.sh(line) == (0, "one two\nthree  four\n4\n", "")


def test_sh_runs_a_script_file_with_arguments_and_a_script_from_stdin(node):
    node.fs.write_text("/tmp/s.sh", 'echo "$1-$2"; exit 5\n')
    assert node.sh("sh /tmp/s.sh a b; echo $?; /bin/sh /tmp/s.sh c d")[1] == "a-b\n5\nc-d\n"
    assert node.sh("sh", stdin=b"echo from stdin\n")[1] == "from stdin\n"


def test_sh_prefers_a_handler_the_node_registered_for_the_script_path(node):
    handlers = Registry()

    @handlers.command("/etc/netstart")
    def netstart(proc: Proc, argv: list[str]) -> int:
        proc.out(" ".join(argv) + "\n")
        return 0

    special = FakeNode(node.fs.root.parent / "fw2", registry=handlers)
    assert special.sh("sh /etc/netstart carp0; /etc/netstart carp1")[1] == \
        "/etc/netstart carp0\n/etc/netstart carp1\n"


def test_commands_are_found_by_bare_name_and_in_the_bin_directories(node):
    for path in ("echo", "/bin/echo", "/usr/bin/echo", "/sbin/echo", "/usr/local/bin/echo"):
        assert node.sh(f"{path} ok")[1] == "ok\n"


def test_an_executable_file_runs_as_a_script_and_a_plain_one_is_refused(node):
    node.fs.write_text("/tmp/x", "echo ran $1\n", mode=0o755)
    node.fs.write_text("/tmp/y", "echo ran\n")
    assert node.sh("cd /tmp && ./x arg")[1] == "ran arg\n"
    assert node.sh("/tmp/y", user="admin") == \
        (126, "", "ksh: /tmp/y: cannot execute - Permission denied\n")


def test_nohup_runs_its_command(node):
    assert node.sh("nohup echo hi; nohup nosuch") == \
        (127, "hi\n", "nohup: nosuch: No such file or directory\n")


# -- the node's hooks and lock --------------------------------------------------------------------
def test_every_registered_command_passes_the_hook_with_its_arguments(node):
    node.sh("echo a | tr a b; x=$(cat /dev/null)")
    assert node.commands == [["echo", "a"], ["tr", "a", "b"], ["cat", "/dev/null"]]


def test_a_hook_dropping_the_connection_propagates_and_stops_the_line(node):
    def drop(proc: Proc, argv: list[str]) -> None:
        if argv[0] == "touch":
            raise DropConnection("cut")

    node.hook = drop
    with pytest.raises(DropConnection):
        run(node, "root", "echo a; touch /tmp/t; echo b > /tmp/b")
    assert not node.fs.exists("/tmp/t") and not node.fs.exists("/tmp/b")


def lock_is_held_elsewhere(node: FakeNode) -> bool:
    """Whether another thread than a fresh probe holds node.lock."""
    acquired = []

    def probe() -> None:
        acquired.append(node.lock.acquire(blocking=False))
        if acquired[0]:
            node.lock.release()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return not acquired[0]


def test_a_locked_command_runs_under_the_node_lock_and_sleep_does_not(tmp_path):
    checks = Registry()

    @checks.command("holds-lock")
    def holds_lock(proc: Proc, argv: list[str]) -> int:
        proc.out(f"{lock_is_held_elsewhere(proc.node)}\n")
        return 0

    node = FakeNode(tmp_path / "fw", registry=checks)
    assert node.sh("holds-lock")[1] == "True\n"
    sleeper = threading.Thread(target=run, args=(node, "root", "sleep 0.3"))
    sleeper.start()
    time.sleep(0.1)
    assert not lock_is_held_elsewhere(node)
    sleeper.join()


# -- background jobs ----------------------------------------------------------------------------
def test_a_background_job_outlives_the_request_that_started_it(node):
    status, out, _ = node.sh("(sleep 0.3; echo done > /tmp/bg) & echo $!")
    assert status == 0 and out.strip().isdigit()
    assert not node.fs.exists("/tmp/bg")
    assert wait_for(lambda: node.fs.exists("/tmp/bg"))


def test_kill_stops_a_background_job_and_wait_reports_its_status(node):
    status, out, err = node.sh("sleep 30 & pid=$!; kill -0 $pid && kill $pid; wait $pid; echo $?")
    assert out == "143\n" and err == ""
    assert node.sh("kill 1")[2] == "kill: 1: No such process\n"


def test_a_job_started_by_one_request_can_be_killed_by_another(node):
    pid = node.sh("while :; do sleep 0.05; done & echo $!")[1].strip()
    assert node.sh(f"kill {pid}", user="admin")[2] == f"kill: {pid}: Operation not permitted\n"
    assert node.sh(f"kill {pid}")[0] == 0
    assert wait_for(lambda: node.sh(f"kill -0 {pid}")[0] == 1)


def test_a_crash_stops_background_jobs_before_their_next_command(node):
    node.sh("while :; do echo tick >> /tmp/log; sleep 0.05; done &")
    assert wait_for(lambda: node.fs.exists("/tmp/log") and node.fs.read_text("/tmp/log").count("tick") >= 2)
    node.crash()
    time.sleep(0.15)
    ticks = node.fs.read_text("/tmp/log")
    time.sleep(0.3)
    assert node.fs.read_text("/tmp/log") == ticks


def test_a_crash_during_a_foreground_command_cuts_the_connection(node):
    threading.Timer(0.1, node.crash).start()
    with pytest.raises(DropConnection):
        run(node, "root", "sleep 5; touch /tmp/after")
    assert not node.fs.exists("/tmp/after")
