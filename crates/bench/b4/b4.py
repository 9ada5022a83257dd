"""B4: one Python durable function with the order's shape, on two engines.

The function (`order_shape.py`: a step, a parallel of four steps, a wait, a
final step) runs N times, C at a time, through the same boto3 client code:

* on `orders serve` (`--time-scale 0.001`: the SDK's minimum 1 s wait lasts
  1 ms), the function started by its runtime interface client, as a
  `python3.11` function is;
* on the Python testing library's local service emulator,
  `dex-local-runner start-server --skip-time` (its waits end on the
  scheduler's next turn), with `lambda_host.py` as the Lambda endpoint it
  invokes the handler through.

Both keep two invocations per execution (the wait suspends it). Each
execution is timed from its `Invoke(InvocationType=Event)` until
GetDurableExecution, polled every --poll seconds, says it ended. Neither the
SDK nor the emulator is changed. Prints one JSON object: each side's
executions per second and latency, and orders' ÷ the emulator's.

    .tools/b4/bin/python crates/bench/b4/b4.py --orders target/release/orders
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
REGION = "us-east-1"
FUNCTION = "b4-OrderShape"
QUALIFIER = "live"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def client(endpoint: str, connections: int):
    return boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION
    ).client(
        "lambda",
        endpoint_url=endpoint,
        config=Config(
            max_pool_connections=connections + 2,
            retries={"max_attempts": 0},
            read_timeout=120,
        ),
    )


def wait_until(ready, what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise SystemExit(f"b4: {what} did not start within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def answering(url: str) -> bool:
    try:
        import urllib.request

        urllib.request.urlopen(url, timeout=1).close()
        return True
    except Exception:  # noqa: BLE001 (not up yet)
        return False


def measure(invoke_endpoint: str, control_endpoint: str, args) -> dict:
    """Runs a warm-up of C executions, then N timed, C at a time."""
    invoker = client(invoke_endpoint, args.concurrency)
    control = client(control_endpoint, args.concurrency)

    def one(index: int) -> tuple[float, str]:
        began = time.perf_counter()
        try:
            arn = invoker.invoke(
                FunctionName=FUNCTION,
                Qualifier=QUALIFIER,
                InvocationType="Event",
                DurableExecutionName=f"b4-{index}-{uuid.uuid4().hex[:12]}",
                Payload=json.dumps({"orderId": f"ORD-{index}"}),
            )["DurableExecutionArn"]
            while True:
                status = control.get_durable_execution(DurableExecutionArn=arn)["Status"]
                if status in TERMINAL:
                    return (time.perf_counter() - began) * 1000, status
                time.sleep(args.poll)
        except Exception as error:  # noqa: BLE001 (counted as a failure)
            print(f"b4: execution {index}: {type(error).__name__}: {error}", file=sys.stderr)
            return (time.perf_counter() - began) * 1000, "ERROR"

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(one, range(-args.concurrency, 0)))
        began = time.perf_counter()
        results = list(pool.map(one, range(args.executions)))
        wall = time.perf_counter() - began
    latencies = sorted(latency for latency, _ in results)
    statuses: dict[str, int] = {}
    for _, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "executions_per_s": round(args.executions / wall, 2),
        "median_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1),
        "wall_s": round(wall, 2),
        "statuses": statuses,
    }


def on_orders(args, scratch: Path, env: dict) -> dict:
    port = free_port()
    log = scratch / "orders.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [args.orders, "serve", "--template", str(HERE / "template.yaml"), "--stack-name", "b4",
             "--addr", f"127.0.0.1:{port}", "--db", str(scratch / "orders.db"), "--no-explorer",
             "--time-scale", "0.001"],
            stdout=output, stderr=subprocess.STDOUT, env=env, cwd=scratch,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: "serving" in log.read_text(), "orders serve", log)
        return measure(url, url, args)
    finally:
        server.terminate()
        server.wait(timeout=30)


def on_emulator(args, scratch: Path, env: dict) -> dict:
    port, host_port = free_port(), free_port()
    bin_dir = Path(sys.executable).parent
    log = scratch / "emulator.log"
    with log.open("w") as output:
        emulator = subprocess.Popen(
            [str(bin_dir / "dex-local-runner"), "start-server", "--host", "127.0.0.1", "--port", str(port),
             "--lambda-endpoint", f"http://127.0.0.1:{host_port}", "--local-runner-region", REGION,
             "--log-level", "WARNING", "--skip-time"],
            stdout=output, stderr=subprocess.STDOUT, env=env, cwd=scratch,
        )
        host = subprocess.Popen(
            [sys.executable, str(HERE / "lambda_host.py"), "--port", str(host_port),
             "--emulator", f"http://127.0.0.1:{port}", "--handler", "order_shape.handler",
             "--region", REGION],
            stdout=output, stderr=subprocess.STDOUT, env=env, cwd=scratch,
        )
    try:
        wait_until(lambda: answering(f"http://127.0.0.1:{port}/health"), "dex-local-runner", log)
        wait_until(lambda: "serving" in log.read_text(), "lambda_host.py", log)
        return measure(f"http://127.0.0.1:{host_port}", f"http://127.0.0.1:{port}", args)
    finally:
        for process in (host, emulator):
            process.terminate()
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", required=True, help="the orders binary")
    parser.add_argument("-n", "--executions", type=int, default=300)
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between GetDurableExecution polls")
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 10:
        parser.error("--concurrency: 1 to 10 (orders serve runs up to 10 environments of a function)")
    # The function's python3 (with awslambdaric and the SDK) is this one's.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    with tempfile.TemporaryDirectory(prefix="b4-") as scratch:
        orders = on_orders(args, Path(scratch), env)
        emulator = on_emulator(args, Path(scratch), env)
    print(json.dumps({
        "executions": args.executions,
        "concurrency": args.concurrency,
        "poll_s": args.poll,
        "orders_serve": orders,
        "dex_local_runner": emulator,
        "ratio_executions_per_s": round(orders["executions_per_s"] / emulator["executions_per_s"], 2),
        "ratio_median_latency": round(orders["median_ms"] / emulator["median_ms"], 2),
    }, indent=2))
    failures = sum(n for side in (orders, emulator) for s, n in side["statuses"].items() if s != "SUCCEEDED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
