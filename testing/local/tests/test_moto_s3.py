"""moto_s3.atomic: one request at a time, body included (the S3 stand-in's conditional writes)."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from moto_s3 import atomic  # noqa: E402


def check_then_act_app():
    """A WSGI app with moto's shape of bug: check the key, pause, then write it."""
    store = {}

    def app(environ, start_response):
        key = environ["PATH_INFO"]
        if key in store:
            start_response("412 Precondition Failed", [])
            return [b"exists"]
        time.sleep(0.05)  # the window in which a concurrent writer also passes the check
        store[key] = environ["writer"]
        start_response("200 OK", [])
        return [b"written"]

    return app


def race(app, writers=8):
    statuses = []
    barrier = threading.Barrier(writers)

    def write(i):
        barrier.wait()
        body = app({"PATH_INFO": "/jobs/1", "writer": i}, lambda status, headers: statuses.append(status))
        assert b"".join(body) in (b"exists", b"written")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return sorted(statuses)


def test_the_unwrapped_app_lets_concurrent_writers_all_pass_the_check():
    # The control: without the wrapper this app loses atomicity, so the next test means something.
    assert race(check_then_act_app()).count("200 OK") > 1


def test_atomic_lets_exactly_one_concurrent_writer_win():
    assert race(atomic(check_then_act_app())) == ["200 OK"] + ["412 Precondition Failed"] * 7


def test_atomic_runs_a_lazy_body_inside_the_lock():
    inside = []
    lock_probe = threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [])

        def body():
            # Runs when the wrapper iterates: another request must not be in the app meanwhile.
            inside.append(environ["n"])
            assert len(inside) == 1, f"two requests inside the app at once: {inside}"
            time.sleep(0.02)
            inside.remove(environ["n"])
            lock_probe.set()
            yield b"x"

        return body()

    wrapped = atomic(app)
    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(wrapped({"n": n}, lambda *a: None))) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [[b"x"]] * 4 and lock_probe.is_set()
