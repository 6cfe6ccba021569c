"""`carpctl exporter`: serve the pairs' metrics to Prometheus until Ctrl-C.

Loopback unless --listen says otherwise: the metrics describe firewalls, and
exposing them wider is a choice to make explicitly. The exporter is one
journal row for its life; scrapes and reads are not journaled.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace

from carpctl.cli.options import positive, reading
from carpctl.cli.output import Output
from carpctl.errors import EXIT_FAILED, EXIT_OK, FailedError

HELP = "serve the pairs' metrics to Prometheus (/metrics) until Ctrl-C"


def add_arguments(p: ArgumentParser) -> None:
    reading(p)
    p.add_argument("--listen", default="127.0.0.1:9732", metavar="HOST:PORT",
                   help="address to serve on (default 127.0.0.1:9732, loopback only)")
    p.add_argument("--max-age", type=positive(float), default=5.0, metavar="S",
                   help="serve a read to every scrape for S seconds (default 5)")


def run(args: Namespace, out: Output) -> int:
    import threading

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
