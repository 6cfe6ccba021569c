"""Which keys an SSH connection offers, in paramiko's order, and how to say so when none worked.

Like ssh, carpctl offers the named key files first, then every key ssh-agent
holds (a passphrase-protected key file is usable only through the agent: carpctl
never asks for a passphrase), then ssh's default keys when no file is named.
paramiko's own error only tells the last key's fate; a user needs the whole list.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: The key files paramiko looks for when none is named (its look_for_keys), in its order.
DEFAULT_KEYS = ("~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ed25519")


def connect_kwargs(identity_files: Sequence[Path], timeout: float) -> dict:
    """paramiko connect() options: named files, always the agent, default keys if none named."""
    return {"timeout": timeout, "banner_timeout": timeout, "auth_timeout": timeout,
            "key_filename": [str(p) for p in identity_files], "allow_agent": True,
            "look_for_keys": not identity_files}


def keys_tried(identity_files: Sequence[Path]) -> str:
    """One line naming every key offered: files (and why one could not be used), agent keys
    by fingerprint, default keys."""
    files = [_file(Path(p)) for p in identity_files]
    if not identity_files:
        files += [_file(p) for p in (Path(k).expanduser() for k in DEFAULT_KEYS) if p.is_file()]
    agent = agent_keys()
    tried = files + ([f"ssh-agent keys {', '.join(agent)}"] if agent else ["no ssh-agent key"])
    return "; ".join(tried)


def _file(path: Path) -> str:
    """A key file as paramiko's connect() met it (it tries these three classes in turn)."""
    import paramiko

    problem = "not a private key paramiko can read"
    for kind in (paramiko.RSAKey, paramiko.ECDSAKey, paramiko.Ed25519Key):
        try:
            kind.from_private_key_file(str(path))
        except paramiko.PasswordRequiredException:
            return f"key file {path} (passphrase-protected: usable only once loaded with ssh-add)"
        except paramiko.SSHException:
            continue
        except OSError as exc:
            problem = exc.strerror or str(exc)
            break
        return f"key file {path}"
    return f"key file {path} (unusable: {problem})"


def agent_keys() -> list[str]:
    import paramiko

    from carpctl.remote.known_hosts import fingerprint

    try:
        agent = paramiko.Agent()
    except paramiko.SSHException:
        return []
    try:
        return [f"{fingerprint(key)}{f' ({key.comment})' if key.comment else ''}"
                for key in agent.get_keys()]
    finally:
        agent.close()
