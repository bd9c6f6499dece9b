"""``plentysync serve`` as an operator runs it: a real process on a free port, answering /healthz and
signed webhooks, stopping cleanly (exit 0) on SIGTERM; a broker that cannot be reached costs only
the wake-up message."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import pytest

from tests.integration.web.support import SECRET, body_of, signed_headers

SERVING = re.compile(r"Serving on (http://\S+) ")


@contextmanager
def serve_process(**env: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "plentysync", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PLENTYSYNC_SERVE__WEBHOOK__SECRET": SECRET, **env},
    )
    try:
        assert process.stdout is not None
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if match := SERVING.search(line):
                yield process, match.group(1)
                return
        raise AssertionError("serve did not start:\n" + "".join(seen))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=20)
    return process.returncode, rest


def test_serve_answers_and_stops_gracefully_on_sigterm() -> None:
    with serve_process() as (process, url):
        health = httpx2.get(f"{url}/healthz", timeout=10)
        assert health.status_code == 200
        assert health.json()["checks"]["broker"] == {"status": "not_configured"}
        body = body_of({"skus": ["CLI-1"]})
        response = httpx2.post(f"{url}/webhooks/stock", content=body, headers=signed_headers(body), timeout=10)
        assert response.status_code == 503  # no stock export profile in this fresh installation
        code, output = stop(process)
    assert code == 0, output
    assert SECRET not in output


def test_serve_runs_without_a_reachable_broker() -> None:
    with serve_process(PLENTYSYNC_BROKER_URL="amqp://guest:guest-pw@127.0.0.1:1/") as (process, url):
        health = httpx2.get(f"{url}/healthz", timeout=30)
        assert health.status_code == 200
        assert health.json()["checks"]["broker"]["status"] in ("disconnected", "unavailable")
        code, output = stop(process)
    assert code == 0, output
    assert "guest-pw" not in output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [(["--port", "99999"], 2, "--port 99999"), (["--host", "192.0.2.1"], 1, "cannot listen on 192.0.2.1")],
    ids=["port-range", "foreign-address"],
)
def test_bad_listen_address_is_a_clean_error(args: list[str], code: int, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "plentysync", "serve", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
