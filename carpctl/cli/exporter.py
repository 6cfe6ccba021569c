"""`carpctl exporter`: serve the pairs' metrics to Prometheus until Ctrl-C.

Loopback unless --listen says otherwise: the metrics describe firewalls, and
exposing them wider is a choice to make explicitly. The exporter is one
journal row for its life; scrapes and reads are not journaled.
"""

from __future__ import annotations

import threading
from argparse import Namespace

from carpctl.cli.output import Output
from carpctl.errors import EXIT_FAILED, EXIT_OK, FailedError


def run(args: Namespace, out: Output) -> int:
    from carpctl.cli.session import open_session
    from carpctl.flows.exporter import CachedReader, parse_listen, serve, served_address
    from carpctl.runtime.history import History

    listen = parse_listen(args.listen)
    command = " ".join(["exporter", "--listen", args.listen, *args.pairs])
    session = open_session(args, out, command, args.pairs, journal=False)
    with session:
        pairs = session.inventory.select(args.pairs)
        reader = CachedReader(session, pairs, max_age=args.max_age, parallel=args.parallel)
        try:
            server = serve(reader, listen)
        except OSError as exc:
            raise FailedError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
        journal = History().start_run(command, args.pairs, session.redact)
        code = EXIT_FAILED
        try:
            out.note(f"serving http://{served_address(server)}/metrics for "
                     f"{', '.join(p.name for p in pairs)} (reads cached {args.max_age:g}s); "
                     f"Ctrl-C to stop")
            threading.Event().wait()
        except KeyboardInterrupt:
            code = EXIT_OK
        finally:
            server.shutdown()
            server.server_close()
            journal.finish(code, f"{'stopped' if code == EXIT_OK else 'ended by an error'} "
                           f"after {reader.scrapes} scrapes, {reader.reads} reads")
        return code
