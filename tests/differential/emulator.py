"""Runs cases on AWS's Python emulator, in this process, and writes their histories.

    python tests/differential/emulator.py CASES.json RESULTS.json

The emulator is `DurableFunctionTestRunner` of `aws-durable-execution-sdk-python-testing`:
the handler runs in this process against the emulator's own checkpoint
service, scheduler and clock (real time: `skip_time=False`, so that waits and
retries take as long as on the service and on `orders serve`). The history is
serialized exactly as the emulator's web server answers
GetDurableExecutionHistory (`HTTPResponse.create_json(...).body_to_bytes()`).

One process serves one suite and one environment: the handlers read their
environment (`TARGET_FUNCTION_NAME`) when they run, so `run.py` gives each
process the cases whose functions share one, and the process sets it. The
chained-invoke targets a function names by ARN are registered as durable
functions under their logical ids, the ARNs written as the emulator resolves
them.

A handler that ends its process (`os._exit`, as 1-17, 1-18 and 3-12 do to
stand for a crash) would end this one: `os._exit` raises `ProcessExit`
instead, which the SDK does not catch, and the handler's wrapper turns it into
the error of an invocation that did not answer, as Lambda sees a runtime that
exited.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import os
import pathlib
import sys
import traceback
from typing import Any

from cases import CONFORMANCE, REGION, Case, python_functions
from drive import follow

ACCOUNT = "123456789012"  # the emulator's default account


class ProcessExit(BaseException):
    """`os._exit` called by a handler: a BaseException, so the SDK lets it through."""


def exit_process(status: int) -> None:
    raise ProcessExit(status)


def arn_of(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def load_handler(handler: str):
    """`module.attribute`, imported as Lambda's Python runtime imports it (the
    suite's directory is on sys.path), so that error types keep their module's name."""
    module_name, attribute = handler.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), attribute)

    def run(event, context):
        try:
            return function(event, context)
        except ProcessExit as exit_:
            raise RuntimeError(f"Runtime exited with error: exit status {exit_.args[0]}") from None

    return run


class EmulatorCallbacks:
    """The three callback calls of the Lambda client, on the emulator (for `CallbackSender`)."""

    def __init__(self, runner):
        self.runner = runner

    def send_durable_execution_callback_success(self, CallbackId: str, Result: bytes | None = None):  # noqa: N803
        self.runner.send_callback_success(CallbackId, Result)
        return {}

    def send_durable_execution_callback_failure(self, CallbackId: str, Error: dict | None = None):  # noqa: N803
        from aws_durable_execution_sdk_python.lambda_service import ErrorObject

        self.runner.send_callback_failure(CallbackId, ErrorObject.from_dict(Error) if Error else None)
        return {}

    def send_durable_execution_callback_heartbeat(self, CallbackId: str):  # noqa: N803
        self.runner.send_callback_heartbeat(CallbackId)
        return {}


def history_of(runner, arn: str) -> list[dict[str, Any]]:
    """The execution's events, as the emulator's web server would serve them."""
    from aws_durable_execution_sdk_python_testing.web.models import HTTPResponse

    response = runner.get_execution_history(arn, include_execution_data=True)
    return json.loads(HTTPResponse.create_json(200, response.to_dict()).body_to_bytes())["Events"]


def run_case(case: Case, limit_seconds: float) -> dict[str, Any]:
    """Runs one case, once more if the emulator left it stuck.

    Under load the emulator now and then loses the wake-up of a wait that
    ends while an invocation is under way (4-10: WaitSucceeded, and no
    invocation after it). A stuck execution on the emulator says nothing of
    the engine, so it is run again, and the first attempt noted.
    """
    result = run_once(case, limit_seconds)
    if result["stuck"]:
        first = result
        result = run_once(case, limit_seconds)
        result["notes"] = [f"run twice; the first attempt {problem}" for problem in first["problems"]]
    return result


def run_once(case: Case, limit_seconds: float) -> dict[str, Any]:
    """Runs one case to its end on a runner of its own."""
    from aws_durable_execution_conformance_tests.callback import CallbackSender
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

    functions = python_functions(case.suite)
    function = functions[case.function]
    runner = DurableFunctionTestRunner(
        load_handler(case.handler), skip_time=False, region=REGION,
        execution_timeout=function.execution_timeout, invocation_timeout=function.timeout)
    try:
        for target in function.targets():
            runner.register_durable_function(
                target, load_handler(functions[target].handler),
                execution_timeout=functions[target].execution_timeout)
        arn = runner.run_async(input=json.dumps(case.input), function_name=case.function,
                               execution_timeout=function.execution_timeout)
        outcome = follow(lambda: history_of(runner, arn), CallbackSender(EmulatorCallbacks(runner)),
                         case.actions, case.until, limit_seconds)
        return {"arn": arn, "events": outcome.events, "problems": outcome.problems, "stuck": outcome.stuck}
    except Exception:  # noqa: BLE001 - reported with the case
        return {"arn": None, "events": [], "problems": [traceback.format_exc()], "stuck": False}
    finally:
        runner.close()


def main() -> int:
    cases_path, results_path = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    request = json.loads(cases_path.read_text())
    cases = [Case.from_json(case) for case in request["cases"]]
    os._exit = exit_process  # see the module's docstring
    if cases:
        functions = python_functions(cases[0].suite)
        environments = {json.dumps(functions[case.function].environment, sort_keys=True) for case in cases}
        if len(environments) != 1:
            raise SystemExit(f"one environment per process, not {len(environments)}")
        os.environ.update(functions[cases[0].function].environment_with(arn_of))
        sys.path.insert(0, str(CONFORMANCE / cases[0].suite))  # where the runtime finds the handlers
    with concurrent.futures.ThreadPoolExecutor(max_workers=request.get("workers", 8)) as pool:
        results = list(pool.map(lambda case: run_case(case, request["limit_seconds"]), cases))
    results_path.write_text(json.dumps([{"case": case.to_json(), **result}
                                        for case, result in zip(cases, results)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
