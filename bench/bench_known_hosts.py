"""known_hosts costs: parsing a big file (4000 and 40000 lines) and looking one host up.

A team's shared known_hosts grows with every firewall and jump host; carpctl parses each
file once per content (remote.known_hosts.parsed) and then looks up each node it dials.
The file is made here: plain names, `[host]:port` names and hashed names (HashKnownHosts
yes), a few malformed lines (skipped with a warning, silenced here) and markers. Target:
parsing is linear (40000 lines cost about 10x 4000; paramiko's HostKeys is quadratic). A
lookup grows with the hashed lines only (each has its own salt, so each is hashed again),
as in OpenSSH.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

SIZES = (4000, 40000)


def _keys(count: int) -> list[str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    made = [ed25519.Ed25519PrivateKey.generate() if i % 4 else
            ec.generate_private_key(ec.SECP256R1()) for i in range(count)]
    return [k.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                        serialization.PublicFormat.OpenSSH).decode()
            for k in made]


def known_hosts_text(lines: int) -> str:
    import paramiko

    keys = _keys(16)
    out = []
    for i in range(lines):
        host = f"fw{i}.example.net"
        if i % 1000 == 7:
            out.append(f"{host} ssh-ed25519")                   # malformed: skipped
        elif i % 1000 == 8:
            out.append(f"@revoked {host} {keys[0]}")            # a marker: skipped
        elif i % 4 == 0:
            out.append(f"{paramiko.HostKeys.hash_host(host)} {keys[i % 16]}")
        elif i % 4 == 1:
            out.append(f"[{host}]:2222 {keys[i % 16]}")
        else:
            out.append(f"{host},192.0.2.{i % 250} {keys[i % 16]}")
    return "\n".join(out) + "\n"


def _time(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _measure(path: Path, lines: int) -> None:
    from carpctl.remote import known_hosts

    path.write_text(known_hosts_text(lines))
    known_hosts._parsed.clear()
    parse = _time(lambda: known_hosts.parsed(path))
    keys = known_hosts.parsed(path)
    plain, hashed = f"fw{lines - 2}.example.net", f"fw{lines - 4}.example.net"
    assert keys.lookup(plain) and keys.lookup(hashed)
    print(f"known_hosts parse {lines} lines: {parse:.3f} s")
    print(f"known_hosts lookup in {lines} lines: plain {_time(lambda: keys.lookup(plain)) * 1000:.2f}"
          f" ms, hashed {_time(lambda: keys.lookup(hashed)) * 1000:.2f} ms")


def main() -> None:
    logging.getLogger("carpctl").setLevel(logging.ERROR)   # the malformed lines' warnings
    with tempfile.TemporaryDirectory(prefix="carpctl-bench-") as tmp:
        for lines in SIZES:
            _measure(Path(tmp) / f"known_hosts.{lines}", lines)


if __name__ == "__main__":
    main()
