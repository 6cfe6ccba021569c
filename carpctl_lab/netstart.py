"""What /etc/netstart makes of /etc/hostname.IF files (openbsd-reference.md section 8).

Pure translation from a file's lines to the ifconfig argument lists they run;
the node runs them through its emulated ifconfig, at boot and for
`sh /etc/netstart IF`.
"""

from __future__ import annotations

import shlex


def ifconfig_argvs(ifname: str, text: str) -> list[list[str]]:
    """The `ifconfig IF ...` commands one hostname.IF file stands for."""
    argvs: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("!"):
            continue  # `!command` lines run shell commands; the lab has no use for them
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        if words[0] == "inet" and len(words) >= 2 and words[1] not in ("alias", "-alias"):
            argv = ["ifconfig", ifname, "inet", words[1]]
            if len(words) >= 3:
                argv += ["netmask", words[2]]
            if len(words) >= 4 and words[3] != "NONE":
                argv += ["broadcast", words[3]]
            argvs.append(argv + words[4:])
        elif words[0] in ("dhcp", "autoconf", "inet6"):
            continue  # not emulated: addresses come from inet lines
        else:
            argvs.append(["ifconfig", ifname, *words])
    return argvs


def sysctl_settings(text: str) -> list[str]:
    """`name=value` lines of /etc/sysctl.conf, comments dropped."""
    settings = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            settings.append(line)
    return settings


def rc_conf_flags(text: str) -> dict[str, str]:
    """`NAME_flags=VALUE` lines of /etc/rc.conf.local, as {name: value}."""
    flags = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        key, value = line.split("=", 1)
        if key.endswith("_flags"):
            flags[key[: -len("_flags")]] = value.strip().strip('"')
    return flags
