"""The differential test's JavaScript part: durable functions on the JS SDK
(`@aws/durable-execution-sdk-js`), on `orders serve` and on the local runner of
AWS's JS testing library (`LocalDurableTestRunner` of
`@aws/durable-execution-sdk-js-testing`, driven by `js/emulate.mjs`).

The functions are those of `tests/clients/node/template.yaml`, the template
the client tests serve. The runner imports the files `orders serve` runs (the
template's CodeUri and Handler), and registers the functions they invoke (an
environment variable `!GetAtt X.Arn`) under an ARN of X, from the same
template. Each case's input and callback answers are written here, once, for
both sides; `run.py --js` runs them and compares the histories as it does the
Python functions'.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
from typing import Any

import yaml

from cases import HERE, REGION, Case, TemplateLoader
from evidence import Known

TEMPLATE = HERE.parent / "clients" / "node" / "template.yaml"
STACK = "differential-js"
DRIVER = HERE / "js" / "emulate.mjs"
ACCOUNT = "123456789012"  # the account of the ARNs the runner's functions are registered under
SUITE = "js"              # the `suite` of its cases, in the report

# Lambda's Node.js runtime looks for a handler's module with these extensions, in this order.
_MODULE_EXTENSIONS = (".js", ".mjs", ".cjs")


def _template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)


def _function(logical_id: str) -> dict[str, Any]:
    """A function of the template as the runner loads it: its file, export, environment."""
    template = _template()
    resource = template["Resources"][logical_id]
    properties = {**((template.get("Globals") or {}).get("Function") or {}), **resource["Properties"]}
    module, export = properties["Handler"].split(".", 1)
    directory = TEMPLATE.parent / properties["CodeUri"]
    path = next((directory / f"{module}{extension}" for extension in _MODULE_EXTENSIONS
                 if (directory / f"{module}{extension}").exists()), None)
    if path is None:
        raise FileNotFoundError(f"{logical_id}: no {module}.js, .mjs or .cjs in {directory}")
    return {"module": str(path), "export": export, "handler": properties["Handler"],
            "durable": "DurableConfig" in properties,
            "environment": dict((properties.get("Environment") or {}).get("Variables") or {})}


def arn_of(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def _resolved(logical_id: str, variable: str, value: Any) -> tuple[str, str | None]:
    """An environment value for the runner, and the function it names by ARN if it does."""
    if isinstance(value, dict) and set(value) == {"GetAtt"} and str(value["GetAtt"]).endswith(".Arn"):
        target = str(value["GetAtt"]).removesuffix(".Arn")
        return arn_of(target), target
    if isinstance(value, dict):
        raise ValueError(f"{logical_id}: {variable} is {value}; the runner resolves only !GetAtt X.Arn")
    return str(value), None


def cases() -> list[Case]:
    """The functions run, with their inputs and the callback answers they get."""
    def case(name: str, logical_id: str, payload: dict[str, Any], actions: list[dict[str, Any]]) -> Case:
        return Case(suite=SUITE, requirement=name, function=logical_id, handler=_function(logical_id)["handler"],
                    input=payload, asynchronous=True, actions=actions, until="end")

    return [
        # A step, a wait, a parallel of three steps, a callback (answered with
        # a success) and a chained invoke of a plain function.
        case("NodeDurable", "NodeDurableFunction", {"orderId": "o-7"},
             [{"CallbackName": "approval", "Operation": "success", "Payload": "yes", "Delay": 0}]),
        # A parallel: a step of six seconds in one branch, three invokes in
        # turn in the other. The SDK learns that an invoke has ended at its
        # poll, a second after the invoke starts (then 2 s, 3 s later): the
        # three end during the step on both sides, even when the charge
        # function starts cold. At two seconds the step would end just as the
        # second invoke's poll comes, and which comes first would decide how
        # many invocations the history has.
        case("NodeBusy", "NodeBusyFunction", {"orderId": "o-9", "stepSeconds": 6}, []),
    ]


def emulator_input(chosen: list[Case], limit_seconds: float) -> dict[str, Any]:
    """What `js/emulate.mjs` reads: each case's function, input, environment and
    callback answers, and the functions they invoke, by the ARN they use."""
    entries, targets = [], {}
    for case in chosen:
        function = _function(case.function)
        environment = {}
        for variable, value in function["environment"].items():
            environment[variable], target = _resolved(case.function, variable, value)
            if target is not None:
                invoked = _function(target)
                targets[arn_of(target)] = {key: invoked[key] for key in ("module", "export", "durable")}
        entries.append({**case.to_json(), "module": function["module"], "export": function["export"],
                        "environment": environment})
    return {"cases": entries, "functions": targets, "limit_seconds": limit_seconds}


def start_emulator(chosen: list[Case], out: pathlib.Path,
                   limit_seconds: float) -> list[tuple[subprocess.Popen, pathlib.Path]]:
    """`js/emulate.mjs` on `chosen`, in a process of its own (`node` is the first on PATH)."""
    cases_path, results_path = out / "emulator.cases.json", out / "emulator.results.json"
    cases_path.write_text(json.dumps(emulator_input(chosen, limit_seconds), indent=2))
    results_path.unlink(missing_ok=True)
    with open(out / "emulator.log", "w") as log:
        process = subprocess.Popen(["node", str(DRIVER), str(cases_path), str(results_path)],
                                   stdout=log, stderr=subprocess.STDOUT, cwd=out)
    return [(process, results_path)]


# Where the runner writes a Result without Truncated. The service writes
# `Truncated: false` beside a payload it did not truncate, and every Result of
# these events is that one shape (EventResult) in the API model.
_RESULT_TRUNCATED = ("step/1-18.yaml EventId 7 `StepSucceededDetails: Result: Payload: ... Truncated: false`; "
                     "the API model gives Execution, Context, Step, Callback and ChainedInvoke Succeeded events "
                     "that one EventResult shape")
# Where the runner writes an Input without Truncated. No expected history lists
# an Input; EventInput has the very members of EventResult (Payload, Truncated).
_INPUT_TRUNCATED = ("no expected history lists an Input's keys; the API model's EventInput has the members of "
                    "EventResult (Payload, Truncated), whose Truncated the service writes (step/1-18.yaml EventId 7)")

KNOWN: list[Known] = [
    *[Known("details", event_type, f"{event_type}Details.Result", "Truncated", "orders",
            "the runner writes a Result without Truncated", _RESULT_TRUNCATED)
      for event_type in ("ExecutionSucceeded", "ContextSucceeded", "StepSucceeded", "CallbackSucceeded",
                         "ChainedInvokeSucceeded")],
    *[Known("details", event_type, f"{event_type}Details.Input", "Truncated", "orders",
            "the runner writes an Input without Truncated", _INPUT_TRUNCATED)
      for event_type in ("ExecutionStarted", "ChainedInvokeStarted")],
    Known("details", "ExecutionStarted", "ExecutionStartedDetails", "ExecutionTimeout", "orders",
          "the runner writes ExecutionStarted without the execution's timeout",
          "required in the API model (ExecutionStartedDetails: Input, ExecutionTimeout)"),
    *[Known("keys", event_type, "", "Name", "orders",
            "the runner writes the execution's events without the execution's name",
            "no expected history lists an execution event's Name and the API model leaves it optional; AWS's "
            "own JS examples, which run on the service too, leave it out of the events they compare because "
            "it differs from run to run (aws/aws-durable-execution-sdk-js, "
            "packages/aws-durable-execution-sdk-js-examples/src/utils/test-helper.ts, createEventSignature)")
      for event_type in ("ExecutionStarted", "ExecutionSucceeded")],
    Known("details", "InvocationCompleted", "InvocationCompletedDetails", "Error", "emulator",
          "the runner writes `Error: {}` on every InvocationCompleted, also of an invocation that succeeded",
          "the API model: Error is optional, documented as `Details about the invocation failure`; the expected "
          "histories list it only for invocations whose runtime exited (step/1-17.yaml, 1-18.yaml EventId 3 "
          "`Error: Payload: ErrorType: Runtime.ExitError`)"),
    Known("details", "StepSucceeded", "StepSucceededDetails.RetryDetails", "CurrentAttempt", "orders",
          "the runner writes `RetryDetails: {}` when a step succeeds at its first attempt",
          "step/1-11.yaml EventId 6 `StepSucceededDetails: ... RetryDetails: CurrentAttempt: 2` (also 1-13, 1-14, "
          "1-15, 1-18, 3-7, 10-3); a first attempt is numbered too: 1-11.yaml EventId 3 `StepFailedDetails: ... "
          "RetryDetails: CurrentAttempt: 1`"),
    Known("details", "CallbackStarted", "CallbackStartedDetails", "Input", "emulator",
          "the runner writes CallbackStarted with an `Input: {}`",
          "the API model's CallbackStartedDetails has no Input (CallbackId, HeartbeatTimeout, Timeout)"),
    Known("details", "ChainedInvokeStarted", "ChainedInvokeStartedDetails", "ExecutedVersion", "orders",
          "the runner writes ChainedInvokeStarted without ExecutedVersion",
          "invoke/5-1.yaml EventId 2 `ChainedInvokeStartedDetails: FunctionName: '*' Input: ... "
          "ExecutedVersion: '*' DurableExecutionArn: '*'` (every invoke requirement)"),
    Known("details", "ChainedInvokeStarted", "ChainedInvokeStartedDetails", "DurableExecutionArn", "emulator",
          "the runner writes `DurableExecutionArn: \"\"` on every ChainedInvokeStarted; these targets are plain "
          "functions, which start no durable execution",
          "the API model's DurableExecutionArn is 1 to 1024 characters matching "
          "`arn:...:function:<name>:<version>/durable-execution/<name>/<id>`: an empty value is not one the "
          "service can write, and a plain function's invocation has no such ARN (the expected histories that "
          "list it, invoke/5-1.yaml and every invoke requirement, invoke durable targets: "
          "tests/conformance/invoke/template.yaml)"),
    Known("order", "InvocationCompleted", "", "ChainedInvokeSucceeded", "both",
          "the runner records a chained invoke's end when the target ends, even before the caller's "
          "invocation that started it has ended",
          "invoke/5-1.yaml: ChainedInvokeStarted (EventId 2), InvocationCompleted (3), ChainedInvokeSucceeded (4)"),
]
