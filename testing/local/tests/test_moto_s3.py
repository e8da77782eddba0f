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


def concurrently(n, work, timeout=30):
    """work(0..n-1), each on its own thread, all released at once; bounded wait."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)


def race(app, writers=8):
    statuses = []

    def write(i):
        body = app({"PATH_INFO": "/jobs/1", "writer": i}, lambda status, headers: statuses.append(status))
        assert b"".join(body) in (b"exists", b"written")

    concurrently(writers, write)
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


# moto's real S3 app, with its existence check slowed down: the window between moto's
# If-None-Match check and its write (moto/s3/responses.py put_object) made wide on purpose.
def serve(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def put(url, body, headers=None):
    import urllib.error
    import urllib.request

    # Shaped like the AWS SDK's (moto checks no signature): anonymous writes to an existing key get 403.
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"}
    request = urllib.request.Request(url, data=body, method="PUT", headers={**signed, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def conditional_put_race(wrap, monkeypatch, writers=6):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.s3.models import S3Backend

    real_get_object = S3Backend.get_object

    def slow_get_object(self, *args, **kwargs):
        found = real_get_object(self, *args, **kwargs)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(S3Backend, "get_object", slow_get_object)
    server, endpoint = serve(wrap(DomainDispatcherApplication(create_backend_app)))
    try:
        bucket = f"race-{wrap.__name__}"
        assert put(f"{endpoint}/{bucket}", b"") == 200
        statuses = []
        concurrently(writers, lambda i: statuses.append(put(f"{endpoint}/{bucket}/jobs/1", f"writer-{i}".encode(), {"If-None-Match": "*"})))
        return sorted(statuses)
    finally:
        server.shutdown()


def unwrapped(app):
    return app


def test_stock_moto_lets_two_if_none_match_puts_win_when_its_check_is_slow(monkeypatch):
    # The control: moto as moto_server serves it loses S3's atomicity, so the next test means something.
    assert conditional_put_race(unwrapped, monkeypatch).count(200) > 1


def test_behind_atomic_exactly_one_if_none_match_put_wins(monkeypatch):
    assert conditional_put_race(atomic, monkeypatch) == [200] + [412] * 5
