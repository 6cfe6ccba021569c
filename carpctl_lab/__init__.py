"""An emulated pair of OpenBSD firewalls on 127.0.0.1, over real SSH (the `lab` extra).

Written from OpenBSD's source and ../shared/openbsd-reference.md, never from
carpctl's code, so that it can prove carpctl wrong. `Lab` runs it from Python;
the pytest plugin (carpctl_lab.pytest_plugin) gives tests the `lab` and
`lab_factory` fixtures.
"""
