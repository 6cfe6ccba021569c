"""File utilities: cat cp mv install mkdir rm rmdir touch mktemp tee.

cp and install never leave a half-written destination: they write a temporary
file beside it and rename it into place (OpenBSD's install does this with -S;
here both always do), so a full disk leaves the old file intact. mv is a
rename(2). A plain `>` redirection, like sh, truncates first.
"""

from __future__ import annotations

import errno
import os
import posixpath
import secrets
import string

from ..fs import USERS, NodeFS
from ..proc import Proc, Registry
from .common import (
    GROUP_IDS,
    Usage,
    absolute,
    failed,
    getopt,
    parse_mode,
    read_input,
    usage,
)

REGISTRY = Registry()

_TEMP_CHARS = string.ascii_letters + string.digits


def unique_name(fs: NodeFS, template: str) -> str:
    """`template` with its trailing X's replaced so that the path does not exist."""
    stem = template.rstrip("X")
    while True:
        name = stem + "".join(secrets.choice(_TEMP_CHARS) for _ in template[len(stem):])
        if not fs.exists(name):
            return name


def put(proc: Proc, path: str, data: bytes, *, mode: int,
        owner: str | None = None, group: str | None = None) -> None:
    """Replace `path` with `data` in one step, or raise and leave it untouched."""
    fs = proc.node.fs
    temp = unique_name(fs, posixpath.join(posixpath.dirname(path), "INS@XXXXXXXXXX"))
    try:
        fs.write_bytes(temp, data, proc.user, mode=mode)
        if owner or group:
            fs.chown(temp, owner, group, proc.user)
        fs.rename(temp, path, proc.user)
    except OSError:
        if fs.exists(temp):
            fs.unlink(temp, proc.user)
        raise


def _destination(proc: Proc, source: str, target: str, into_dir: bool) -> tuple[str, str]:
    """(absolute path, path as shown in messages) for copying `source` to `target`."""
    shown = posixpath.join(target, posixpath.basename(source.rstrip("/"))) if into_dir else target
    return absolute(proc, shown), shown


def _sources_and_target(proc: Proc, prog: str, args: list[str]) -> tuple[list[str], str, bool]:
    if len(args) < 2:
        raise Usage("")
    *sources, target = args
    into_dir = proc.node.fs.isdir(absolute(proc, target))
    if len(sources) > 1 and not into_dir:
        raise Usage(f"{target}: Not a directory" if prog != "install" else "")
    return sources, target, into_dir


@REGISTRY.command("cat")
@usage("cat [-benstuv] [file ...]")
def cat(proc: Proc, argv: list[str]) -> int:
    _, files = getopt(argv, "u")
    status = 0
    for name in files or ["-"]:
        data = read_input(proc, "cat", name)
        if data is None:
            status = 1
        else:
            proc.stdout += data
    return status


@REGISTRY.command("cp")
@usage("cp [-fipv] [-R [-H | -L | -P]] source target\n"
       "       cp [-fipv] [-R [-H | -L | -P]] source ... directory")
def cp(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "fipRrv")
    sources, target, into_dir = _sources_and_target(proc, "cp", args)
    recursive = "R" in opts or "r" in opts
    status = 0
    for source in sources:
        dest, shown = _destination(proc, source, target, into_dir)
        status |= _copy(proc, source, dest, shown, preserve="p" in opts, recursive=recursive)
    return status


def _copy(proc: Proc, source: str, dest: str, shown: str, *, preserve: bool,
          recursive: bool) -> int:
    fs = proc.node.fs
    path = absolute(proc, source)
    try:
        st = fs.stat(path)
        if st.kind == "dir":
            if not recursive:
                return proc.fail(f"cp: {source} is a directory (not copied).")
            if not fs.isdir(dest):
                fs.mkdir(dest, proc.user, mode=st.mode if preserve else st.mode & 0o755)
            return max([_copy(proc, posixpath.join(source, name), posixpath.join(dest, name),
                              posixpath.join(shown, name), preserve=preserve, recursive=True)
                        for name in fs.listdir(path, proc.user)], default=0)
        data = fs.read_bytes(path, proc.user)
    except OSError as exc:
        return failed(proc, "cp", source, exc)
    old = fs.stat(dest) if fs.isfile(dest) else None
    if preserve:
        mode, owner, group = st.mode, st.owner, st.group
    elif old:
        mode, owner, group = old.mode, old.owner, old.group
    else:
        mode, owner, group = st.mode & ~0o022, None, None
    try:
        put(proc, dest, data, mode=mode, owner=owner if proc.root else None,
            group=group if proc.root else None)
    except OSError as exc:
        return failed(proc, "cp", shown, exc)
    if preserve:
        os.utime(fs.host(dest), (st.mtime, st.mtime))
    return 0


@REGISTRY.command("mv")
@usage("mv [-fiv] source target\n       mv [-fiv] source ... directory")
def mv(proc: Proc, argv: list[str]) -> int:
    _, args = getopt(argv, "fiv")
    sources, target, into_dir = _sources_and_target(proc, "mv", args)
    fs = proc.node.fs
    status = 0
    for source in sources:
        path = absolute(proc, source)
        if not fs.exists(path):
            status = failed(proc, "mv", source, OSError(errno.ENOENT, ""))
            continue
        dest, shown = _destination(proc, source, target, into_dir)
        try:
            fs.rename(path, dest, proc.user)
        except OSError as exc:
            status = proc.fail(f"mv: rename {source} to {shown}: {os.strerror(exc.errno)}")
    return status


@REGISTRY.command("install")
@usage("install [-bCcDpSs] [-B suffix] [-g group] [-m mode] [-o owner] source ... target\n"
       "       install -d [-g group] [-m mode] [-o owner] directory ...")
def install(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "bB:CcDdg:m:o:pSs")
    mode = parse_mode(opts.get("m", "755"), 0o755)
    if mode is None:
        return proc.fail(f"install: invalid file mode: {opts['m']}")
    owner, group = opts.get("o"), opts.get("g")
    if owner and owner not in USERS:
        return proc.fail(f"install: unknown user {owner}")
    if group and group not in GROUP_IDS:
        return proc.fail(f"install: unknown group {group}")
    if "d" in opts:
        if not args:
            raise Usage("")
        return max(_install_dir(proc, name, mode, owner, group) for name in args)
    sources, target, into_dir = _sources_and_target(proc, "install", args)
    status = 0
    for source in sources:
        data = read_input(proc, "install", source)
        if data is None:
            status = 1
            continue
        dest, shown = _destination(proc, source, target, into_dir)
        try:
            if "D" in opts:
                _make_parents(proc, posixpath.dirname(dest))
            put(proc, dest, data, mode=mode, owner=owner, group=group)
        except OSError as exc:
            what = "chown/chgrp: " if exc.errno == errno.EPERM else ""
            status = proc.fail(f"install: {shown}: {what}{os.strerror(exc.errno)}")
    return status


def _install_dir(proc: Proc, name: str, mode: int, owner: str | None, group: str | None) -> int:
    fs = proc.node.fs
    path = absolute(proc, name)
    try:
        _make_parents(proc, path)
        fs.chmod(path, mode, proc.user)
        if owner or group:
            fs.chown(path, owner, group, proc.user)
    except OSError as exc:
        return failed(proc, "install", name, exc)
    return 0


def _make_parents(proc: Proc, path: str, mode: int = 0o755) -> None:
    """mkdir -p: create every missing directory down to `path`."""
    fs = proc.node.fs
    if fs.isdir(path):
        return
    _make_parents(proc, posixpath.dirname(path), mode)
    fs.mkdir(path, proc.user, mode=mode)


@REGISTRY.command("mkdir")
@usage("mkdir [-p] [-m mode] directory ...")
def mkdir(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "pm:")
    if not args:
        raise Usage("")
    mode = parse_mode(opts.get("m", "755"), 0o777, is_dir=True)
    if mode is None:
        return proc.fail(f"mkdir: invalid file mode: {opts['m']}")
    fs, status = proc.node.fs, 0
    for name in args:
        path = absolute(proc, name)
        try:
            if "p" in opts:
                _make_parents(proc, posixpath.dirname(path))
                if fs.isdir(path):
                    continue
            fs.mkdir(path, proc.user, mode=mode)
        except OSError as exc:
            status = failed(proc, "mkdir", name, exc)
    return status


@REGISTRY.command("rm")
@usage("rm [-dfiPRrv] file ...")
def rm(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "dfRr")
    if not args and "f" not in opts:
        raise Usage("")
    status = 0
    for name in args:
        status |= _remove(proc, name, absolute(proc, name), opts)
    return status


def _remove(proc: Proc, name: str, path: str, opts: dict[str, str]) -> int:
    fs = proc.node.fs
    try:
        if not fs.exists(path):
            if "f" in opts:
                return 0
            raise OSError(errno.ENOENT, name)
        if not fs.isdir(path):
            fs.unlink(path, proc.user)
            return 0
        if "r" in opts or "R" in opts:
            status = 0
            for child in fs.listdir(path, proc.user):
                status |= _remove(proc, posixpath.join(name, child), posixpath.join(path, child), opts)
            if status:
                return status
        elif "d" not in opts:
            return proc.fail(f"rm: {name}: is a directory")
        fs.rmdir(path, proc.user)
    except OSError as exc:
        return failed(proc, "rm", name, exc)
    return 0


@REGISTRY.command("rmdir")
@usage("rmdir [-p] directory ...")
def rmdir(proc: Proc, argv: list[str]) -> int:
    _, args = getopt(argv, "")
    if not args:
        raise Usage("")
    status = 0
    for name in args:
        try:
            proc.node.fs.rmdir(absolute(proc, name), proc.user)
        except OSError as exc:
            status = failed(proc, "rmdir", name, exc)
    return status


@REGISTRY.command("touch")
@usage("touch [-acm] [-d ccyy-mm-ddTHH:MM:SS[.frac][Z]] [-r file]\n"
       "             [-t [[cc]yy]mmddHHMM[.SS]] file ...")
def touch(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "acm")
    if not args:
        raise Usage("")
    fs, status = proc.node.fs, 0
    for name in args:
        path = absolute(proc, name)
        if not fs.exists(path) and "c" in opts:
            continue
        try:
            fs.write_bytes(path, b"", proc.user, append=True)
            os.utime(fs.host(path))
        except OSError as exc:
            status = failed(proc, "touch", name, exc)
    return status


@REGISTRY.command("mktemp")
@usage("mktemp [-dqtu] [-p directory] [template]")
def mktemp(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "dqtup:")
    if len(args) > 1:
        raise Usage("")
    template = args[0] if args else "tmp.XXXXXXXXXX"
    if "p" in opts or "t" in opts or not args:
        template = posixpath.join(opts.get("p") or proc.env.get("TMPDIR") or "/tmp", template)
    if not template.endswith("XXXXXX"):
        return 1 if "q" in opts else proc.fail(
            f"mktemp: insufficient number of Xs in template `{template}'")
    fs = proc.node.fs
    name = unique_name(fs, absolute(proc, template))
    count = len(template) - len(template.rstrip("X"))
    shown = template[:-count] + name[-count:]
    try:
        if "d" in opts:
            fs.mkdir(name, proc.user, mode=0o700)
        elif "u" not in opts:
            fs.write_bytes(name, b"", proc.user, mode=0o600)
    except OSError as exc:
        kind = "dir" if "d" in opts else "file"
        return 1 if "q" in opts else proc.fail(
            f"mktemp: cannot make temp {kind} {template}: {os.strerror(exc.errno)}")
    proc.out(shown + "\n")
    return 0


@REGISTRY.command("tee")
@usage("tee [-ai] [file ...]")
def tee(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "ai")
    fs, status = proc.node.fs, 0
    proc.stdout += proc.stdin
    for name in args:
        try:
            fs.write_bytes(absolute(proc, name), proc.stdin, proc.user, append="a" in opts)
        except OSError as exc:
            status = failed(proc, "tee", name, exc)
    return status
