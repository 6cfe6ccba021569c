"""carpctl: safe, agentless orchestration of OpenBSD CARP firewall pairs over SSH."""

__version__ = "0.1.0"
