"""Runs the conformance suites' Python functions on `orders serve` and on AWS's
Python emulator, and compares the two execution histories event by event.

The conformance suite (`tests/conformance/run.py`) checks the engine's
histories against the package's expected histories, which assert only some
keys of some events. This test looks at everything else: for each Python
function of each suite's template and each requirement it implements, the
requirement's variables are drawn once, and the function runs

* on `orders serve`, started on the suite's template as the conformance
  driver starts it, invoked as the package invokes it (Qualifier `$LATEST`,
  `InvocationType=Event` when the YAML says `AsyncInvoke`), its history read
  raw from GetDurableExecutionHistory (not through boto3, which drops keys it
  does not model);
* on the emulator of `aws-durable-execution-sdk-python-testing`
  (`DurableFunctionTestRunner`, see `emulator.py`), in processes of its own.

On both, the YAML's `CallbackActions` are sent as the package sends them
(`drive.py`). Both histories are then compared by shape (`compare.py`): event
types, sub types, names, parents, and the key sets of each event and of its
Details objects. Payloads, ids and timestamps are not compared.

The emulator is not the service. A difference where the package's expected
histories (recorded from the Lambda service) show the engine right is listed
in KNOWN below, with its reason and evidence; every other difference fails
the run.

    python tests/differential/run.py [--suite callback ...] [--markdown CONFORMANCE.md]

Needs `orders` (ORDERS_BIN, default target/debug/orders; never built here)
and `.tools/clients/bin` first on PATH (the functions run under its python3).
Writes `target/differential/report.json`, and per suite both sides'
histories (`<suite>/histories/<id>.<function>.{orders,emulator}.json`) and
the logs (`serve.log`, `emulator-<n>.log`). The exit code is non-zero when a
difference is not explained by KNOWN or a side did not run to its end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Any

from cases import CONFORMANCE, REGION, Case, cases, python_functions
import evidence
from compare import Difference, compare
from drive import Outcome, follow


def _conformance_driver():
    """tests/conformance/run.py, whose `Serve` starts `orders serve` on a suite's template."""
    spec = importlib.util.spec_from_file_location("conformance_run", CONFORMANCE / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_driver = _conformance_driver()
CREDENTIALS, ROOT, Serve, suites = _driver.CREDENTIALS, _driver.ROOT, _driver.Serve, _driver.suites
HERE = pathlib.Path(__file__).resolve().parent

# How long one execution may take on either side.
LIMIT_SECONDS = 150.0


@dataclasses.dataclass(frozen=True)
class Known:
    """A difference where the emulator, not the engine, departs from the Lambda service."""

    kind: str
    event_type: str
    path: str
    key: str
    side: str
    reason: str
    evidence: str

    def explains(self, difference: Difference) -> bool:
        return (self.kind, self.event_type, self.path, self.key, self.side) == difference.signature


KNOWN: list[Known] = []


def history(url: str, arn: str) -> list[dict[str, Any]]:
    """The execution's events, as `orders serve` serves them (raw JSON, every page)."""
    events: list[dict[str, Any]] = []
    marker = None
    while True:
        query = {"IncludeExecutionData": "true", "MaxItems": "1000", **({"Marker": marker} if marker else {})}
        address = (f"{url}/2025-12-01/durable-executions/{urllib.parse.quote(arn, safe='')}/history?"
                   f"{urllib.parse.urlencode(query)}")
        with urllib.request.urlopen(address, timeout=30) as response:
            page = json.load(response)
        events += page.get("Events", [])
        marker = page.get("NextMarker")
        if not marker:
            return events


class OrdersSide:
    """The suite's cases on `orders serve`."""

    def __init__(self, serve: Serve):
        import boto3
        from botocore.config import Config

        self.url = serve.url
        session = boto3.session.Session(aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                        region_name=REGION)
        # No retries: a retried Invoke would start a second execution.
        config = Config(read_timeout=LIMIT_SECONDS, retries={"max_attempts": 0})
        self.lambda_client = session.client("lambda", endpoint_url=serve.url, config=config)
        resources = session.client("cloudformation", endpoint_url=serve.url).get_paginator("list_stack_resources")
        self.physical = {resource["LogicalResourceId"]: resource["PhysicalResourceId"]
                         for page in resources.paginate(StackName=serve.stack)
                         for resource in page["StackResourceSummaries"]}

    def run(self, case: Case) -> dict[str, Any]:
        from aws_durable_execution_conformance_tests.callback import CallbackSender

        try:
            response = self.lambda_client.invoke(
                FunctionName=self.physical[case.function], Qualifier="$LATEST",
                InvocationType="Event" if case.asynchronous else "RequestResponse",
                Payload=json.dumps(case.input).encode())
            response.get("Payload") and response["Payload"].read()
            arn = response.get("DurableExecutionArn") or response["ResponseMetadata"]["HTTPHeaders"].get(
                "x-amz-durable-execution-arn")
            if not arn:
                return {"arn": None, "events": [], "problems": [f"no DurableExecutionArn in {response}"]}
            outcome = follow(lambda: history(self.url, arn), CallbackSender(self.lambda_client),
                             case.actions, case.until, LIMIT_SECONDS)
            return {"arn": arn, "events": outcome.events, "problems": outcome.problems}
        except Exception as error:  # noqa: BLE001 - reported with the case
            return {"arn": None, "events": [], "problems": [f"{type(error).__name__}: {error}"]}


def start_emulators(suite: str, chosen: list[Case], out: pathlib.Path) -> list[tuple[subprocess.Popen, pathlib.Path]]:
    """One emulator process per distinct environment among `chosen`'s functions."""
    functions = python_functions(suite)
    groups: dict[str, list[Case]] = {}
    for case in chosen:
        groups.setdefault(json.dumps(functions[case.function].environment, sort_keys=True), []).append(case)
    started = []
    for number, group in enumerate(groups.values()):
        cases_path, results_path = out / f"emulator-{number}.cases.json", out / f"emulator-{number}.results.json"
        cases_path.write_text(json.dumps({"cases": [case.to_json() for case in group],
                                          "limit_seconds": LIMIT_SECONDS}))
        results_path.unlink(missing_ok=True)
        log = open(out / f"emulator-{number}.log", "w")
        process = subprocess.Popen([sys.executable, str(HERE / "emulator.py"), str(cases_path), str(results_path)],
                                   stdout=log, stderr=subprocess.STDOUT, cwd=out)
        log.close()
        started.append((process, results_path))
    return started


def run_suite(suite: str, out_root: pathlib.Path, workers: int, only: set[str]) -> list[dict[str, Any]]:
    """Runs `suite`'s cases on both sides at once, and compares each pair of histories."""
    out = out_root / suite
    (out / "histories").mkdir(parents=True, exist_ok=True)
    chosen = [case for case in cases(suite) if not only or case.requirement in only]
    if not chosen:
        return []
    emulators = start_emulators(suite, chosen, out)
    serve = Serve(suite, out)
    try:
        orders = OrdersSide(serve)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            on_orders = list(pool.map(orders.run, chosen))
    finally:
        serve.stop()
    on_emulator: dict[tuple[str, str], dict[str, Any]] = {}
    for process, results_path in emulators:
        process.wait(timeout=LIMIT_SECONDS * 2)
        if results_path.exists():
            for result in json.loads(results_path.read_text()):
                on_emulator[(result["case"]["requirement"], result["case"]["function"])] = result
    return [judge(case, ours, on_emulator.get((case.requirement, case.function),
                                              {"events": [], "problems": ["the emulator process wrote no result"]}),
                  out)
            for case, ours in zip(chosen, on_orders)]


def judge(case: Case, ours: dict[str, Any], theirs: dict[str, Any], out: pathlib.Path) -> dict[str, Any]:
    """One case's row of the report: both sides' outcomes and their differences."""
    for side, result in (("orders", ours), ("emulator", theirs)):
        path = out / "histories" / f"{case.requirement}.{case.function}.{side}.json"
        path.write_text(json.dumps({"Events": result["events"]}, indent=2))
    ours_outcome, theirs_outcome = Outcome(ours["events"], ours["problems"]), Outcome(theirs["events"], theirs["problems"])
    comparison = compare(ours["events"], theirs["events"])
    collapsed: dict[tuple, dict[str, Any]] = {}
    for difference in comparison.differences:
        entry = collapsed.get((difference.signature, difference.detail))
        if entry is None:
            known = next((entry for entry in KNOWN if entry.explains(difference)), None)
            entry = collapsed[(difference.signature, difference.detail)] = {
                **dataclasses.asdict(difference), "text": difference.describe(), "count": 0,
                "known": known.reason if known else None,
                "evidence": evidence.of(difference.kind, difference.event_type, difference.path, difference.key)}
        entry["count"] += 1
    differences = list(collapsed.values())
    problems = [f"orders: {problem}" for problem in ours["problems"]] + \
               [f"emulator: {problem}" for problem in theirs["problems"]]
    unexplained = [difference for difference in differences if not difference["known"]]
    verdict = ("error" if problems else "differs" if unexplained else "known" if differences
               else "interleaved" if comparison.interleaved else "same")
    return {
        "suite": case.suite, "requirement": case.requirement, "function": case.function, "handler": case.handler,
        "orders": {"events": len(ours["events"]), "status": ours_outcome.status, "arn": ours.get("arn")},
        "emulator": {"events": len(theirs["events"]), "status": theirs_outcome.status, "arn": theirs.get("arn")},
        "verdict": verdict, "problems": problems, "differences": differences,
    }


def requirement_order(row: dict[str, Any]) -> tuple:
    return tuple(int(part) for part in row["requirement"].split("-")), row["function"]


def console_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'requirement':<12} {'handler':<42} {'orders':>6} {'emulator':>8}  verdict"]
    for row in rows:
        lines.append(f"{row['requirement']:<12} {row['handler']:<42} {row['orders']['events']:>6} "
                     f"{row['emulator']['events']:>8}  {row['verdict']}")
        for problem in row["problems"]:
            lines.append(f"{'':>14}! {problem.splitlines()[-1] if problem else problem}")
        for difference in row["differences"]:
            times = f" (x{difference['count']})" if difference["count"] > 1 else ""
            lines.append(f"{'':>14}{'~' if difference['known'] else '-'} {difference['text']}{times}")
    return "\n".join(lines)


def grouped_differences(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The differences across every run, each once, with the requirements that show it."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        for difference in row["differences"]:
            key = difference["text"] if difference["kind"] != "order" else f"order: {row['requirement']}"
            group = groups.setdefault(key, {"text": difference["text"], "known": difference["known"],
                                            "requirements": []})
            if row["requirement"] not in group["requirements"]:
                group["requirements"].append(row["requirement"])
    return sorted(groups.values(), key=lambda group: (bool(group["known"]), group["text"]))


def summary(rows: list[dict[str, Any]], chosen: list[str]) -> str:
    """The result per suite, and every difference, as Markdown."""
    verdicts = ("same", "interleaved", "known", "differs", "error")
    lines = ["| suite | runs | " + " | ".join(verdicts) + " |", "|---|---:|" + "---:|" * len(verdicts)]
    totals = [0] * (len(verdicts) + 1)
    for suite in chosen:
        suite_rows = [row for row in rows if row["suite"] == suite]
        counts = [len(suite_rows)] + [sum(row["verdict"] == verdict for row in suite_rows) for verdict in verdicts]
        totals = [total + count for total, count in zip(totals, counts)]
        lines.append(f"| {suite} | " + " | ".join(str(count) for count in counts) + " |")
    lines.append("| **all** | " + " | ".join(f"**{total}**" for total in totals) + " |")
    groups = grouped_differences(rows)
    if groups:
        lines += ["", "| difference | requirements | explained by |", "|---|---|---|"]
        for group in groups:
            lines.append(f"| {group['text']} | {', '.join(group['requirements'])} | {group['known'] or '**unexplained**'} |")
    errors = [row for row in rows if row["problems"]]
    if errors:
        lines += ["", "| requirement | function | did not run to its end |", "|---|---|---|"]
        for row in errors:
            lines.append(f"| {row['requirement']} | {row['function']} | "
                         f"{'; '.join(problem.splitlines()[-1] for problem in row['problems'])} |")
    return "\n".join(lines) + "\n"


def write_markdown(path: pathlib.Path, table: str) -> None:
    """Replaces what lies between the differential markers of `path` with `table`."""
    begin, end = "<!-- differential -->", "<!-- /differential -->"
    text = path.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"{path} has no {begin} ... {end} markers")
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{begin}\n{table}{end}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", action="append", choices=suites(), help="a suite to run (repeatable; default all)")
    parser.add_argument("--requirement", action="append", default=[], help="only this requirement id (repeatable)")
    parser.add_argument("--out", default=str(ROOT / "target" / "differential"), help="where reports go")
    parser.add_argument("--parallel", type=int, default=int(os.environ.get("DIFFERENTIAL_PARALLEL", "10")),
                        help="suites run at once")
    parser.add_argument("--workers", type=int, default=6, help="executions under way at once per suite and side")
    parser.add_argument("--markdown", help="write the result table into this file between its markers")
    args = parser.parse_args()
    out_root = pathlib.Path(args.out).resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    chosen = args.suite or suites()
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        for suite_rows in pool.map(lambda suite: run_suite(suite, out_root, args.workers, set(args.requirement)),
                                   chosen):
            rows += sorted(suite_rows, key=requirement_order)
    seconds = time.monotonic() - started
    print(console_table(rows))
    table = summary(rows, chosen)
    print()
    print(table)
    report = {"seconds": round(seconds, 1), "suites": chosen, "runs": rows,
              "known": [dataclasses.asdict(known) for known in KNOWN]}
    (out_root / "report.json").write_text(json.dumps(report, indent=2))
    failing = [row for row in rows if row["verdict"] in ("differs", "error")]
    print(f"differential: {len(rows)} runs in {len(chosen)} suites, {seconds:.0f} s; "
          f"{len(failing)} with an unexplained difference or an error; report in {out_root / 'report.json'}")
    if args.markdown:
        write_markdown(pathlib.Path(args.markdown), table)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
