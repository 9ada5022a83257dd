"""Starts `orders serve` for the client tests and talks to it."""

import json
import os
import pathlib
import re
import socket
import subprocess
import tempfile
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ORDERS = os.environ.get("ORDERS_BIN", str(ROOT / "target" / "debug" / "orders"))
AWS_CLI = os.environ.get("AWS_CLI", "aws")
EXAMPLES = ROOT / "examples"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def served_address(output: str, announcement: str) -> str | None:
    """The `http://host:port` that `orders serve` announced after `announcement`."""
    found = re.search(re.escape(announcement) + r" (http://[0-9.]+:[0-9]+)", output)
    return found.group(1) if found else None


class Server:
    """`orders serve` on a port the system picks (no race for a free one), with its own store."""

    def __init__(self, template: pathlib.Path, stack: str, cwd: pathlib.Path | None = None,
                 extra: list[str] | None = None, env: dict[str, str] | None = None):
        self.stack = stack
        self.directory = tempfile.TemporaryDirectory()
        self.log = open(pathlib.Path(self.directory.name) / "serve.log", "w+")
        self.process = subprocess.Popen(
            [ORDERS, "serve", "--addr", "127.0.0.1:0", "--db",
             str(pathlib.Path(self.directory.name) / "orders.db"), "--template", str(template),
             "--stack-name", stack, *(extra or ["--no-explorer"])],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **CREDENTIALS, **(env or {})}, cwd=cwd,
        )
        # Ready once it says where it serves: its functions are registered by then.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"orders serve exited: {self.output()}")
            url = served_address(self.output(), "serving the Lambda API on")
            if url is not None:
                self.url = url
                self.port = int(url.rsplit(":", 1)[1])
                # Where the explorer listens, when it was asked for.
                self.explorer = served_address(self.output(), "explorer on")
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            time.sleep(0.05)
        raise RuntimeError(f"orders serve did not start within 60 s: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def name(self, function: str) -> str:
        return f"{self.stack}-{function}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        self.directory.cleanup()


@pytest.fixture(scope="session")
def server():
    served = Server(HERE / "template.yaml", "test")
    yield served
    served.stop()


@pytest.fixture(scope="session")
def boto_lambda(server):
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    return session.client("lambda", endpoint_url=server.url)


def wait_for(condition, what: str, timeout: float = 30.0):
    """Waits for `condition()` to return something truthy, and returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())
