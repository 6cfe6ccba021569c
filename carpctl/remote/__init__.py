"""Talking to a node: the SSH connection, known_hosts, and every remote command line."""
