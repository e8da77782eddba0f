"""moto's S3 server for local tests, with each request handled whole before the next.

moto 5.2.5 checks If-None-Match / If-Match and then writes, with nothing held between,
on a threaded werkzeug server: two concurrent conditional PUTs can both pass the check.
S3's conditional writes are atomic, and the job store's exactly-once claim relies on that,
so this serves moto's own WSGI app behind one lock (S3 only; requests are small and local).

Usage: python moto_s3.py --host 127.0.0.1 --port N [--switch-interval SECONDS]
--switch-interval sets Python's thread switch interval: tests make it tiny to widen any
check-then-act window, so a lost lock shows up as two winners.
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def atomic(app):
    lock = threading.Lock()

    def serve_one(environ, start_response):
        with lock:
            # The body too: a lazy response would run moto's code after the lock is released.
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                # As a WSGI server does: the response's close() runs its on-close callbacks.
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    return serve_one


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--switch-interval", type=float, default=None)
    args = parser.parse_args(argv)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    # As moto's own server does (moto/server.py): its Lambda backend reads MOTO_PORT.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(args.host, args.port, atomic(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
