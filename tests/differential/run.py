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

With `--js`, it runs JavaScript durable functions instead (`javascript.py`):
those of tests/clients/node/template.yaml, on `orders serve` and on the local
runner of AWS's JS testing library (`js/emulate.mjs`), compared the same way,
with the runner's own KNOWN list. Its reports go to `target/differential/js/`,
its table between the `differential-js` markers.

    python tests/differential/run.py [--suite callback ...] [--markdown CONFORMANCE.md]
    python tests/differential/run.py --js [--markdown CONFORMANCE.md]

Needs `orders` (ORDERS_BIN, default target/debug/orders; never built here)
and `.tools/clients/bin` first on PATH (the functions run under its python3);
with `--js`, also `.tools/node/bin` (Node 22, for the functions and the runner)
and the node_modules of tests/clients/node/durable and tests/differential/js.
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
import time
import urllib.parse
import urllib.request
from typing import Any

import evidence
import javascript
from cases import CONFORMANCE, REGION, Case, cases, python_functions
from compare import compare
from drive import Outcome, follow
from evidence import Known


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


KNOWN: list[Known] = [
    Known("keys", "InvocationCompleted", "", "InvocationCompletedDetails", "orders",
          "the emulator writes InvocationCompleted without InvocationCompletedDetails",
          "every expected InvocationCompleted lists it: step/1-1.yaml `InvocationCompletedDetails: {}`, "
          "step/1-17.yaml `InvocationCompletedDetails: Error: Payload: ErrorType: Runtime.ExitError`"),
    Known("event", "InvocationCompleted", "", "", "orders",
          "the emulator records no InvocationCompleted for an invocation whose runtime exited",
          "step/1-17.yaml and 1-18.yaml: EventId 3 is `InvocationCompleted` with "
          "`InvocationCompletedDetails: Error: Payload: ErrorType: Runtime.ExitError`, between StepStarted and "
          "StepFailed; child/3-12.yaml: InvocationCompleted (EventId 4) between StepStarted and StepSucceeded, "
          "`InvocationCompleted with Runtime.ExitError`",
          frozenset({"1-17", "1-18", "3-12"})),
    Known("details", "StepSucceeded", "StepSucceededDetails", "RetryDetails", "orders",
          "the emulator writes StepSucceeded without RetryDetails",
          "step/1-11.yaml EventId 6 `StepSucceededDetails: ... RetryDetails: CurrentAttempt: 2` (also 1-13, 1-14, "
          "1-15, 1-18, 3-7, 10-3; 6-5 `RetryDetails: NextAttemptDelaySeconds: 2`); the API model requires it"),
    Known("details", "StepSucceeded", "StepSucceededDetails.Result", "Payload", "orders",
          "the emulator drops the state of a wait_for_condition check that continues (a RETRY with a payload)",
          "wait_for_condition/6-5.yaml EventId 3 `StepSucceededDetails: Result: Payload: '1' "
          "RetryDetails: NextAttemptDelaySeconds: 2`"),
    Known("details", "StepFailed", "StepFailedDetails.RetryDetails", "NextAttemptDelaySeconds", "emulator",
          "the emulator writes NextAttemptDelaySeconds: 0 on a step's last failure, which has no next attempt",
          "child/3-8.yaml: `StepFailed with RetryDetails (no NextAttemptDelaySeconds means retries exhausted)`; "
          "step/1-12.yaml EventIds 3, 6, 9 `CurrentAttempt: n, NextAttemptDelaySeconds: 1`, EventId 12 "
          "`CurrentAttempt: 4` alone"),
    Known("order", "InvocationCompleted", "", "ChainedInvokeFailed", "both",
          "the emulator records a chained invoke's end when the target ends, even before the caller's "
          "invocation that started it has ended",
          "invoke/5-5.yaml and 5-6.yaml: ChainedInvokeStarted (EventId 2), InvocationCompleted (3), "
          "ChainedInvokeFailed (4)"),
    Known("order", "InvocationCompleted", "", "ChainedInvokeSucceeded", "both",
          "the emulator records a chained invoke's end when the target ends, even before the caller's "
          "invocation that started it has ended",
          "invoke/5-1.yaml: ChainedInvokeStarted (EventId 2), InvocationCompleted (3), ChainedInvokeSucceeded (4)"),
    Known("details", "CallbackStarted", "CallbackStartedDetails", "Timeout", "orders",
          "the emulator writes CallbackStarted without the callback's Timeout",
          "callback/4-3.yaml EventId 2 `CallbackStartedDetails: CallbackId: '*' Timeout: 5` "
          "(also 4-8, 4-11, 4-14, 7-5, 7-14)"),
    Known("details", "CallbackStarted", "CallbackStartedDetails", "HeartbeatTimeout", "orders",
          "the emulator writes CallbackStarted without the callback's HeartbeatTimeout",
          "callback/4-5.yaml EventId 2 `CallbackStartedDetails: CallbackId: '*' HeartbeatTimeout: 10` "
          "(also 4-4, 7-12, 7-13)"),
    Known("details", "ChainedInvokeStarted", "ChainedInvokeStartedDetails", "ExecutedVersion", "orders",
          "the emulator writes ChainedInvokeStarted without ExecutedVersion",
          "invoke/5-1.yaml EventId 2 `ChainedInvokeStartedDetails: FunctionName: '*' Input: ... "
          "ExecutedVersion: '*' DurableExecutionArn: '*'` (every invoke requirement)"),
    Known("details", "ChainedInvokeStarted", "ChainedInvokeStartedDetails", "TenantId", "orders",
          "the emulator writes ChainedInvokeStarted without the invoke's TenantId",
          "invoke/5-8.yaml EventId 2 `ChainedInvokeStartedDetails: FunctionName: '*' TenantId: ${TENANT_ID}`"),
]


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
            if "Payload" in response:
                response["Payload"].read()
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
    try:
        serve = Serve(suite, out)
        try:
            orders = OrdersSide(serve)
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                on_orders = list(pool.map(orders.run, chosen))
        finally:
            serve.stop()
    finally:
        on_emulator = emulator_results(emulators)
    missing = {"events": [], "problems": ["the emulator process wrote no result (see its log)"]}
    return [judge(case, ours, on_emulator.get((case.requirement, case.function), missing), out, KNOWN)
            for case, ours in zip(chosen, on_orders)]


def run_js(out: pathlib.Path, workers: int) -> list[dict[str, Any]]:
    """Runs the JavaScript functions (`javascript.py`) on both sides at once, and
    compares each pair of histories."""
    (out / "histories").mkdir(parents=True, exist_ok=True)
    chosen = javascript.cases()
    emulators = javascript.start_emulator(chosen, out, LIMIT_SECONDS)
    try:
        serve = Serve(javascript.SUITE, out, template=javascript.TEMPLATE, stack=javascript.STACK)
        try:
            orders = OrdersSide(serve)
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                on_orders = list(pool.map(orders.run, chosen))
        finally:
            serve.stop()
    finally:
        on_emulator = emulator_results(emulators)
    missing = {"events": [], "problems": ["the emulator process wrote no result (see emulator.log)"]}
    return [judge(case, ours, on_emulator.get((case.requirement, case.function), missing), out, javascript.KNOWN)
            for case, ours in zip(chosen, on_orders)]


def emulator_results(emulators: list[tuple[subprocess.Popen, pathlib.Path]]) -> dict[tuple[str, str], dict[str, Any]]:
    """What the emulator processes wrote, by (requirement, function), once they have ended."""
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for process, results_path in emulators:
        try:
            # Each case is bounded by LIMIT_SECONDS; they run side by side.
            process.wait(timeout=LIMIT_SECONDS * 2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if results_path.exists():
            for result in json.loads(results_path.read_text()):
                results[(result["case"]["requirement"], result["case"]["function"])] = result
    return results


def numbering_problem(events: list[dict[str, Any]]) -> str | None:
    """What is wrong with a history's EventIds, when they are not 1, 2, 3... (each history's
    own consistency: EventIds are never compared between the sides)."""
    ids = [event.get("EventId") for event in events]
    if ids == list(range(1, len(ids) + 1)):
        return None
    runs: list[list[Any]] = []
    for event_id in ids:
        if runs and isinstance(event_id, int) and event_id == runs[-1][-1] + 1:
            runs[-1][-1] = event_id
        else:
            runs.append([event_id, event_id])
    return "EventIds run " + ", ".join(f"{first}-{last}" if first != last else f"{first}" for first, last in runs)


def judge(case: Case, ours: dict[str, Any], theirs: dict[str, Any], out: pathlib.Path,
          known_differences: list[Known]) -> dict[str, Any]:
    """One case's row of the report: both sides' outcomes and their differences,
    each explained by the first of `known_differences` that explains it."""
    for side, result in (("orders", ours), ("emulator", theirs)):
        path = out / "histories" / f"{case.requirement}.{case.function}.{side}.json"
        path.write_text(json.dumps({"Events": result["events"]}, indent=2))
    ours_outcome, theirs_outcome = Outcome(ours["events"], ours["problems"]), Outcome(theirs["events"], theirs["problems"])
    comparison = compare(ours["events"], theirs["events"])
    collapsed: dict[tuple, dict[str, Any]] = {}
    for difference in comparison.differences:
        entry = collapsed.get((difference.signature, difference.detail))
        if entry is None:
            known = next((candidate for candidate in known_differences
                          if candidate.explains(difference, case.requirement)), None)
            entry = collapsed[(difference.signature, difference.detail)] = {
                **dataclasses.asdict(difference), "text": difference.describe(),
                "summary": difference.describe(full=False), "count": 0,
                "known": known.reason if known else None,
                "evidence": evidence.of(difference.kind, difference.event_type, difference.path, difference.key)}
        entry["count"] += 1
    differences = list(collapsed.values())
    problems = [f"{side}: {problem}" for side, result in (("orders", ours), ("emulator", theirs))
                for problem in result["problems"] + [numbering_problem(result["events"])] if problem]
    unexplained = [difference for difference in differences if not difference["known"]]
    verdict = "error" if problems else "differs" if unexplained else "known" if differences else "same"
    return {
        "suite": case.suite, "requirement": case.requirement, "function": case.function, "handler": case.handler,
        "orders": {"events": len(ours["events"]), "status": ours_outcome.status, "arn": ours.get("arn")},
        "emulator": {"events": len(theirs["events"]), "status": theirs_outcome.status, "arn": theirs.get("arn")},
        "verdict": verdict, "interleaved": comparison.interleaved, "problems": problems,
        "notes": [f"emulator: {note}" for note in theirs.get("notes", [])], "differences": differences,
    }


def requirement_order(row: dict[str, Any]) -> tuple:
    return tuple(int(part) for part in row["requirement"].split("-")), row["function"]


def console_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'requirement':<12} {'handler':<42} {'orders':>6} {'emulator':>8}  verdict"]
    for row in rows:
        order = " (interleaved across branches)" if row["interleaved"] else ""
        lines.append(f"{row['requirement']:<12} {row['handler']:<42} {row['orders']['events']:>6} "
                     f"{row['emulator']['events']:>8}  {row['verdict']}{order}")
        for problem in row["problems"]:
            lines.append(f"{'':>14}! {problem.splitlines()[-1] if problem else problem}")
        for note in row["notes"]:
            lines.append(f"{'':>14}  {note}")
        for difference in row["differences"]:
            times = f" (x{difference['count']})" if difference["count"] > 1 else ""
            lines.append(f"{'':>14}{'~' if difference['known'] else '-'} {difference['text']}{times}")
    return "\n".join(lines)


def grouped_differences(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The differences across every run, each once, with the requirements that show it."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        for difference in row["differences"]:
            group = groups.setdefault(difference["summary"], {"text": difference["summary"],
                                                              "known": difference["known"], "requirements": []})
            if row["requirement"] not in group["requirements"]:
                group["requirements"].append(row["requirement"])
    return sorted(groups.values(), key=lambda group: (bool(group["known"]), group["text"]))


def summary(rows: list[dict[str, Any]], chosen: list[str]) -> str:
    """The result per suite, and every difference, as Markdown."""
    verdicts = ("same", "known", "differs", "error")
    lines = ["| suite | runs | " + " | ".join(verdicts) + " | interleaved |",
             "|---|---:|" + "---:|" * (len(verdicts) + 1)]
    totals = [0] * (len(verdicts) + 2)
    for suite in chosen:
        suite_rows = [row for row in rows if row["suite"] == suite]
        counts = [len(suite_rows)] + [sum(row["verdict"] == verdict for row in suite_rows) for verdict in verdicts] + \
                 [sum(row["interleaved"] for row in suite_rows)]
        totals = [total + count for total, count in zip(totals, counts)]
        lines.append(f"| {suite} | " + " | ".join(str(count) for count in counts) + " |")
    lines.append("| **all** | " + " | ".join(f"**{total}**" for total in totals) + " |")
    return "\n".join(lines + differences_and_errors(rows, "requirements")) + "\n"


def js_summary(rows: list[dict[str, Any]]) -> str:
    """The result per JavaScript function, and every difference, as Markdown."""
    lines = ["| function | handler | events on orders | on the emulator | verdict |", "|---|---|---:|---:|---|"]
    for row in rows:
        order = " (interleaved across branches)" if row["interleaved"] else ""
        lines.append(f"| {row['requirement']} | {row['handler']} | {row['orders']['events']} | "
                     f"{row['emulator']['events']} | {row['verdict']}{order} |")
    return "\n".join(lines + differences_and_errors(rows, "functions")) + "\n"


def differences_and_errors(rows: list[dict[str, Any]], runs: str) -> list[str]:
    """Markdown lines: each difference once, with the `runs` (requirements or
    functions) that show it; and the runs that did not end."""
    lines = []
    groups = grouped_differences(rows)
    if groups:
        lines += ["", f"| difference | {runs} | explained by |", "|---|---|---|"]
        for group in groups:
            shown = group["requirements"]
            listed = ", ".join(shown) if len(shown) <= 12 else f"{len(shown)} {runs}"
            lines.append(f"| {group['text']} | {listed} | {group['known'] or '**unexplained**'} |")
    errors = [row for row in rows if row["problems"]]
    if errors:
        lines += ["", "| requirement | function | did not run to its end |", "|---|---|---|"]
        for row in errors:
            lines.append(f"| {row['requirement']} | {row['function']} | "
                         f"{'; '.join(problem.splitlines()[-1] for problem in row['problems'])} |")
    return lines


def write_markdown(path: pathlib.Path, table: str, marker: str) -> None:
    """Replaces what lies between the `marker` markers of `path` (`<!-- marker -->`
    and `<!-- /marker -->`) with `table`."""
    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
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
    parser.add_argument("--js", action="store_true",
                        help="run the JavaScript functions (javascript.py) instead of the suites' Python functions")
    parser.add_argument("--out", default=str(ROOT / "target" / "differential"), help="where reports go")
    parser.add_argument("--parallel", type=int, default=int(os.environ.get("DIFFERENTIAL_PARALLEL", "10")),
                        help="suites run at once")
    parser.add_argument("--workers", type=int, default=6, help="executions under way at once per suite and side")
    parser.add_argument("--markdown", help="write the result table into this file between its markers")
    args = parser.parse_args()
    if args.js and (args.suite or args.requirement):
        parser.error("--js runs the JavaScript functions only: no --suite or --requirement")
    out_root = pathlib.Path(args.out).resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.js:
        out, chosen, known_differences = out_root / "js", [javascript.SUITE], javascript.KNOWN
        rows = run_js(out, args.workers)
        table, marker, ran = js_summary(rows), "differential-js", f"{len(rows)} JavaScript functions"
    else:
        out, chosen, known_differences = out_root, args.suite or suites(), KNOWN
        rows = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
            for suite_rows in pool.map(lambda suite: run_suite(suite, out_root, args.workers, set(args.requirement)),
                                       chosen):
                rows += sorted(suite_rows, key=requirement_order)
        table, marker, ran = summary(rows, chosen), "differential", f"{len(rows)} runs in {len(chosen)} suites"
    seconds = time.monotonic() - started
    print(console_table(rows))
    print()
    print(table)
    report = {"seconds": round(seconds, 1), "suites": chosen, "runs": rows,
              "known": [{**dataclasses.asdict(known), "requirements": sorted(known.requirements)}
                        for known in known_differences]}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    failing = [row for row in rows if row["verdict"] in ("differs", "error")]
    print(f"differential: {ran}, {seconds:.0f} s; "
          f"{len(failing)} with an unexplained difference or an error; report in {out / 'report.json'}")
    if args.markdown:
        write_markdown(pathlib.Path(args.markdown), table, marker)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
