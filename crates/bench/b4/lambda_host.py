"""A minimal Lambda Invoke endpoint for dex-local-runner (B4, side a).

dex-local-runner is only the durable-execution *service*: it never runs a
handler itself, it sends each handler invocation as a Lambda `Invoke`
(RequestResponse, header `X-Dex-Handler-Invoke: true`) to its
`--lambda-endpoint` (default http://127.0.0.1:3001, which is where
`sam local start-lambda` listens). SAM's endpoint runs functions in
Docker containers; this file stands in for it, as lightly as possible
(no container, no Runtime API hop: the cheapest host, which favours the
emulator):

* `POST /2015-03-31/functions/{name}/invocations` with the marker header:
  runs the handler in this process (a thread per request) on the durable
  invocation input and returns what it returned.
* the same without the marker (a caller's Invoke of the durable
  function): starts an execution on the emulator
  (`POST /start-durable-execution`) and answers as Lambda does for a
  durable function: `Event` -> 202 with `X-Amz-Durable-Execution-Arn`;
  `RequestResponse` -> waits for the execution's end and returns its
  result (polling GetDurableExecution).

The handler's SDK reaches the emulator through AWS_ENDPOINT_URL_LAMBDA,
which this script sets before the handler's module is imported.

Usage:
  python lambda_host.py --port 3001 --emulator http://127.0.0.1:5000 \
      --handler order_shape.handler [--code-dir DIR]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}


class Context:
    """The Lambda context object a handler receives."""

    def __init__(self, function_name: str, region: str):
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        self.memory_limit_in_mb = "128"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.tenant_id = None
        self.client_context = None
        self.identity = None
        self._deadline = time.monotonic() + 900

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def make_handler_class(handler, emulator: str, region: str, timeout_s: int, slots: threading.Semaphore | None):
    def emulator_json(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            emulator + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args):  # quiet
            pass

        def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Amzn-RequestId", str(uuid.uuid4()))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802
            url = urlparse(self.path)
            parts = [unquote(p) for p in url.path.strip("/").split("/")]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if len(parts) != 4 or parts[1] != "functions" or parts[3] != "invocations":
                self.reply(404, b'{"Type":"User","message":"unknown route"}')
                return
            # name, name:qualifier, or arn:aws:lambda:region:account:function:name[:qualifier]
            pieces = parts[2].split(":")
            pieces = pieces[6:] if parts[2].startswith("arn:") else pieces
            name = pieces[0]
            qualifier = parse_qs(url.query).get("Qualifier", [pieces[1] if len(pieces) > 1 else "$LATEST"])[0]
            if self.headers.get("X-Dex-Handler-Invoke", "").lower() == "true":
                self.run_handler(name, body)
            else:
                self.start_execution(name, qualifier, body)

        def run_handler(self, name: str, body: bytes):
            try:
                event = json.loads(body or b"{}")
                if slots is None:
                    output = handler(event, Context(name, region))
                else:
                    with slots:  # --max-concurrent: as many handlers at once as processes
                        output = handler(event, Context(name, region))
                self.reply(200, json.dumps(output).encode(), {"X-Amz-Executed-Version": "$LATEST"})
            except Exception as error:  # noqa: BLE001
                payload = {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "stackTrace": traceback.format_exc().splitlines(),
                }
                self.reply(200, json.dumps(payload).encode(), {"X-Amz-Function-Error": "Unhandled"})

        def start_execution(self, name: str, qualifier: str, body: bytes):
            invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            execution_name = self.headers.get("X-Amz-Durable-Execution-Name") or str(uuid.uuid4())
            status, started = emulator_json(
                "POST",
                "/start-durable-execution",
                {
                    "AccountId": "123456789012",
                    "FunctionName": name,
                    "FunctionQualifier": qualifier,
                    "ExecutionName": execution_name,
                    "ExecutionTimeoutSeconds": timeout_s,
                    "ExecutionRetentionPeriodDays": 1,
                    "Input": (body or b"{}").decode(),
                },
            )
            if status >= 300:
                self.reply(status, json.dumps(started).encode())
                return
            arn = started["ExecutionArn"] if "ExecutionArn" in started else started["DurableExecutionArn"]
            arn_header = {"X-Amz-Durable-Execution-Arn": arn, "X-Amz-Executed-Version": "$LATEST"}
            if invocation_type == "Event":
                self.reply(202, b"", arn_header)
                return
            quoted = urllib.request.quote(arn, safe="")
            while True:
                status, execution = emulator_json("GET", f"/2025-12-01/durable-executions/{quoted}")
                if status == 200 and execution.get("Status") in TERMINAL:
                    break
                time.sleep(0.01)
            if execution["Status"] == "SUCCEEDED":
                self.reply(200, (execution.get("Result") or "null").encode(), arn_header)
            else:
                error = execution.get("Error") or {}
                payload = {"errorMessage": error.get("ErrorMessage", execution["Status"]),
                           "errorType": error.get("ErrorType", execution["Status"])}
                self.reply(200, json.dumps(payload).encode(), {**arn_header, "X-Amz-Function-Error": "Unhandled"})

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--emulator", default="http://127.0.0.1:5000", help="dex-local-runner's URL")
    parser.add_argument("--handler", default="order_shape.handler", help="module.function")
    parser.add_argument("--code-dir", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--execution-timeout", type=int, default=300)
    parser.add_argument("--max-concurrent", type=int, default=0,
                        help="handler invocations run at once (0: unlimited)")
    args = parser.parse_args()

    # The SDK's boto3 client (created lazily, once) must checkpoint to the emulator.
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = args.emulator
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", args.region)
    os.environ.setdefault("AWS_REGION", args.region)
    sys.path.insert(0, args.code_dir)
    module_name, _, function_name = args.handler.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)

    server = ThreadingHTTPServer((args.host, args.port),
                                 make_handler_class(handler, args.emulator.rstrip("/"), args.region,
                                                    args.execution_timeout,
                                                    threading.Semaphore(args.max_concurrent)
                                                    if args.max_concurrent > 0 else None))
    server.daemon_threads = True
    print(f"lambda_host: serving {args.handler} on http://{args.host}:{args.port}, "
          f"emulator {args.emulator}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
