"""Runs AWS's durable-execution conformance suite against `orders serve`.

Each suite has its own SAM template here (`<suite>/template.yaml`): its
functions implement the suite's requirements and name them in
`TestingMetadata.TestDescription`. For each suite this starts `orders serve`
on the template (stack `conformance-tests-<suite>`), points the AWS SDK's
Lambda, CloudFormation and CloudWatch Logs clients at it, and runs the
package's own pipeline (`aws_durable_execution_conformance_tests.app.run`):
the same discovery, invocations, history matcher, result and log checks,
coverage and reports as against AWS. Only `sam build` and `sam deploy` are
skipped: `orders serve` runs the template as it is, and answers
`ListStackResources` for it, so logical ids resolve as on AWS.

    python tests/conformance/run.py [--suite step ...] [--markdown CONFORMANCE.md]

Reports (console, JUnit, JSON) and every execution's history go to
`target/conformance/<suite>/`. The exit code is non-zero when a requirement
fails or is neither covered nor declared not implemented.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ORDERS = os.environ.get("ORDERS_BIN", str(ROOT / "target" / "debug" / "orders"))
REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def suites() -> list[str]:
    return sorted(path.parent.name for path in HERE.glob("*/template.yaml"))


def served_url(output: str) -> str | None:
    """The `http://host:port` that `orders serve` announced it serves on."""
    found = re.search(r"serving the Lambda API on (http://[0-9.]+:[0-9]+)", output)
    return found.group(1) if found else None


class Serve:
    """`orders serve` on one suite's template, with a store of its own; `template`
    and `stack` serve another template under another stack name instead."""

    def __init__(self, suite: str, out: pathlib.Path, template: pathlib.Path | None = None,
                 stack: str | None = None):
        self.stack = stack or f"conformance-tests-{suite}"
        self.directory = tempfile.TemporaryDirectory()
        self.log_path = out / "serve.log"
        self.log = open(self.log_path, "w+")
        self.process = subprocess.Popen(
            # Port 0: the system picks a free port, so that suites started
            # together never race for one.
            [ORDERS, "serve", "--addr", "127.0.0.1:0", "--no-explorer",
             "--db", str(pathlib.Path(self.directory.name) / "orders.db"),
             "--template", str(template or HERE / suite / "template.yaml"), "--stack-name", self.stack,
             "--logs"],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **CREDENTIALS},
        )
        deadline = time.monotonic() + 120
        while (url := served_url(self.output())) is None:
            if self.process.poll() is not None:
                raise RuntimeError(f"orders serve exited:\n{self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"orders serve did not start within 120 s:\n{self.output()}")
            time.sleep(0.05)
        self.url = url

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        self.directory.cleanup()


def run_suite(suite: str, out: pathlib.Path) -> None:
    """Runs one suite's validation in this process (the package exits when done)."""
    from aws_durable_execution_conformance_tests import app, sam

    # The template is served as it is: nothing to build or deploy, nothing to delete.
    sam.Deployer.build = lambda self: None
    sam.Deployer.deploy = lambda self, *args, **kwargs: None
    os.chdir(out)  # the package writes ./output and ./build relative to here
    app.run([
        "--template", str(HERE / suite / "template.yaml"),
        "--name", suite,
        "--suite", suite,
        "--region", REGION,
        "--language", "python+rust",
        "--no-cleanup",
        "--max-workers", os.environ.get("CONFORMANCE_WORKERS", "6"),
        "--history-dir", str(out / "histories"),
        "--report", "console", "junit", "json",
        "--report-file", str(out / "report"),
    ])


def launch(suite: str, out_root: pathlib.Path) -> tuple[str, int, str]:
    """Serves `suite`'s template and validates it in a child process."""
    out = out_root / suite
    out.mkdir(parents=True, exist_ok=True)
    serve = Serve(suite, out)
    try:
        environment = {
            **os.environ, **CREDENTIALS,
            "AWS_ENDPOINT_URL_LAMBDA": serve.url,
            "AWS_ENDPOINT_URL_CLOUDFORMATION": serve.url,
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": serve.url,
        }
        started = time.monotonic()
        validation = subprocess.run(
            [sys.executable, __file__, "--one", suite, "--out", str(out)],
            env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        seconds = time.monotonic() - started
        (out / "console.txt").write_text(validation.stdout)
        return suite, validation.returncode, f"{validation.stdout}\n({suite}: {seconds:.0f} s)\n"
    finally:
        serve.stop()


def coverage(suite: str) -> dict[str, set[str]]:
    """The requirement ids each SDK's functions cover in `suite`'s template."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((HERE / suite / "template.yaml").read_text(), Loader=Loader)
    default = (template.get("Globals", {}).get("Function", {}) or {}).get("Runtime", "")
    covered: dict[str, set[str]] = {"Rust": set(), "Python": set()}
    for resource in template.get("Resources", {}).values():
        ids = (resource.get("TestingMetadata") or {}).get("TestDescription", [])
        runtime = (resource.get("Properties") or {}).get("Runtime", default) or ""
        sdk = "Rust" if runtime.startswith("provided") else "Python" if runtime.startswith("python") else runtime
        covered.setdefault(sdk, set()).update(ids)
    return covered


def summary(out_root: pathlib.Path, chosen: list[str]) -> str:
    """The result per suite, as a Markdown table (with the requirements
    each SDK's functions cover)."""
    rows = ["| suite | requirements | in Rust | in Python | runs | passed | failed | not implemented | uncovered |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    notes = []
    totals = [0] * 8
    for suite in chosen:
        report_path = out_root / suite / "report.json"
        if not report_path.exists():
            rows.append(f"| {suite} | no report | | | | | | | |")
            continue
        report = json.loads(report_path.read_text())
        entries = report["results"]
        sdks = coverage(suite)
        count = {status: sum(entry["status"] == status for entry in entries)
                 for status in ("PASSED", "OPTIONAL_FAILED", "FAILED", "NOT_IMPLEMENTED", "UNCOVERED")}
        failed = count["FAILED"] + count["OPTIONAL_FAILED"]
        requirements = len({entry["id"] for entry in entries})
        counted = [requirements, len(sdks["Rust"]), len(sdks["Python"]), len(entries), count["PASSED"],
                   failed, count["NOT_IMPLEMENTED"], count["UNCOVERED"]]
        totals = [total + value for total, value in zip(totals, counted)]
        rows.append(f"| {suite} | {requirements} | {len(sdks['Rust'])} | {len(sdks['Python'])} | "
                    f"{len(entries)} | {count['PASSED']} | {failed} | "
                    f"{count['NOT_IMPLEMENTED']} | {count['UNCOVERED']} |")
        for entry in entries:
            if entry["status"] != "PASSED":
                reason = entry.get("reason") or "; ".join(entry.get("errors") or [])[:300]
                notes.append(f"| {entry['id']} | {entry.get('function') or ''} | {entry['status']} | {reason} |")
    rows.append("| **all** | " + " | ".join(f"**{total}**" for total in totals) + " |")
    text = "\n".join(rows)
    if notes:
        text += "\n\n| requirement | function | status | reason |\n|---|---|---|---|\n" + "\n".join(notes)
    return text + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", action="append", choices=suites(), help="a suite to run (repeatable; default all)")
    parser.add_argument("--out", default=str(ROOT / "target" / "conformance"), help="where reports go")
    parser.add_argument("--parallel", type=int, default=int(os.environ.get("CONFORMANCE_PARALLEL", "3")),
                        help="suites run at once")
    parser.add_argument("--markdown", help="write the result table into this file between its markers")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    out_root = pathlib.Path(args.out).resolve()
    if args.one:
        run_suite(args.one, out_root)
        return 0
    chosen = args.suite or suites()
    started = time.monotonic()
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        for suite, code, output in pool.map(lambda suite: launch(suite, out_root), chosen):
            print(output, flush=True)
            if code != 0:
                failures.append(suite)
    table = summary(out_root, chosen)
    print(table)
    print(f"conformance: {len(chosen)} suites in {time.monotonic() - started:.0f} s; "
          f"reports in {out_root}")
    if args.markdown:
        write_markdown(pathlib.Path(args.markdown), table)
    if failures:
        print(f"conformance: failing suites: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def write_markdown(path: pathlib.Path, table: str) -> None:
    """Replaces what lies between the result markers of `path` with `table`."""
    begin, end = "<!-- results -->", "<!-- /results -->"
    text = path.read_text()
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{begin}\n{table}{end}{tail}")


if __name__ == "__main__":
    sys.exit(main())
