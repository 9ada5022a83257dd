"""The seed's Testing section, and every durable operation, with the `aws` CLI."""

import json
import os
import pathlib
import subprocess
import tempfile
from decimal import Decimal

import pytest

from conftest import AWS_CLI, CREDENTIALS, EXAMPLES, wait_for


def cli_major() -> int:
    version = subprocess.run([AWS_CLI, "--version"], capture_output=True, text=True, check=True)
    return int((version.stdout or version.stderr).split("/")[1].split(".")[0])


def aws(server, *arguments, check=True):
    """Runs `aws lambda ARGUMENTS` against the server; returns its JSON output."""
    completed = subprocess.run(
        [AWS_CLI, "--endpoint-url", server.url, "--output", "json", "lambda", *arguments],
        capture_output=True, text=True, env={**os.environ, **CREDENTIALS},
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"aws lambda {' '.join(arguments)} failed: {completed.stderr}")
    if not check:
        return completed
    return json.loads(completed.stdout) if completed.stdout.strip() else {}


def binary_format() -> list:
    return ["--cli-binary-format", "raw-in-base64-out"] if cli_major() >= 2 else []


def invoke(server, function, payload_file, *extra):
    """`aws lambda invoke`, as the seed's Testing section runs it."""
    with tempfile.TemporaryDirectory() as directory:
        response_file = pathlib.Path(directory) / "response.json"
        metadata = aws(server, "invoke", "--function-name", function, "--payload", f"file://{payload_file}",
                       *binary_format(), *extra, str(response_file))
        return metadata, json.loads(response_file.read_text(), parse_float=Decimal)


def callback_id(server, arn):
    def started():
        history = aws(server, "get-durable-execution-history", "--durable-execution-arn", arn)
        ids = [event["CallbackStartedDetails"]["CallbackId"] for event in history["Events"]
               if event["EventType"] == "CallbackStarted"]
        return ids[0] if ids else None
    return wait_for(started, "the Approval function to create its callback")


def start_approval(server, name):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as payload:
        json.dump({"name": name}, payload)
    with tempfile.TemporaryDirectory() as directory:
        metadata = aws(server, "invoke", "--function-name", server.name("Approval"), "--qualifier", "live",
                       "--invocation-type", "Event", "--payload", f"file://{payload.name}", *binary_format(),
                       str(pathlib.Path(directory) / "out.json"))
    assert metadata["StatusCode"] == 202
    return metadata["DurableExecutionArn"]


def status(server, arn):
    return aws(server, "get-durable-execution", "--durable-execution-arn", arn)["Status"]


@pytest.mark.parametrize(
    "payload, total, tax",
    [("seed-order.json", "130.68", "7.97"), ("test-ny.json", "112.24", "4.00"), ("test-bulk.json", "389.63", "21.24")],
)
def test_the_seed_orders_are_confirmed(server, payload, total, tax):
    metadata, response = invoke(server, f"{server.name('ParallelProcessor')}:prod", EXAMPLES / payload)
    assert metadata["StatusCode"] == 200
    assert "FunctionError" not in metadata
    assert response["success"] is True
    assert response["message"] == "Order processed successfully with parallel execution"
    assert response["result"]["status"] == "CONFIRMED"
    assert response["result"]["totals"]["total"] == Decimal(total)
    assert response["result"]["tax"]["amount"] == Decimal(tax)
    assert response["processingTimeMs"] >= 1000

    arn = metadata["DurableExecutionArn"]
    execution = aws(server, "get-durable-execution", "--durable-execution-arn", arn)
    assert execution["Status"] == "SUCCEEDED"
    assert json.loads(execution["Result"], parse_float=Decimal) == response

    history = aws(server, "get-durable-execution-history", "--durable-execution-arn", arn)
    names = [event.get("Name") for event in history["Events"] if event["EventType"] == "StepSucceeded"]
    assert names[:2] == ["validate-input", "calculate-subtotal"]
    assert names[-3:] == ["validate-results", "calculate-final-totals", "finalize-order"]
    types = [event["EventType"] for event in history["Events"]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "WaitSucceeded" in types

    listed = aws(server, "list-durable-executions-by-function", "--function-name", server.name("ParallelProcessor"))
    assert arn in [execution["DurableExecutionArn"] for execution in listed["DurableExecutions"]]


def logs(server, *arguments):
    """Runs `aws logs ARGUMENTS` against the server; returns its JSON output."""
    completed = subprocess.run(
        [AWS_CLI, "--endpoint-url", server.url, "--output", "json", "logs", *arguments],
        capture_output=True, text=True, env={**os.environ, **CREDENTIALS},
    )
    if completed.returncode != 0:
        raise AssertionError(f"aws logs {' '.join(arguments)} failed: {completed.stderr}")
    return json.loads(completed.stdout)


def test_the_orchestrators_json_lines_are_in_its_log_group(server):
    metadata, _ = invoke(server, f"{server.name('ParallelProcessor')}:prod", EXAMPLES / "seed-order.json")
    arn = metadata["DurableExecutionArn"]
    group = f"/aws/lambda/{server.name('ParallelProcessor')}"
    found = logs(server, "filter-log-events", "--log-group-name", group)
    records = [json.loads(event["message"]) for event in found["events"]]
    mine = [record for record in records if record.get("span", {}).get("executionArn") == arn]
    messages = [record["message"] for record in mine]
    assert messages[0] == "Starting parallel worker execution" and messages[-1] == "Order confirmed", messages
    assert all(record["orderId"] == "ORD-12345" and record["level"] == "INFO" for record in mine)
    # CloudWatch's JSON filter patterns select among them.
    confirmed = logs(server, "filter-log-events", "--log-group-name", group,
                     "--filter-pattern", '{ $.operation = "finalize-order" }')
    assert any(json.loads(event["message"])["span"]["executionArn"] == arn for event in confirmed["events"])
    assert all(json.loads(event["message"])["message"] == "Order confirmed" for event in confirmed["events"])
    groups = logs(server, "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/")
    assert group in [entry["logGroupName"] for entry in groups["logGroups"]]


def test_the_invalid_seed_order_is_a_validation_error(server):
    _, response = invoke(server, f"{server.name('ParallelProcessor')}:prod", EXAMPLES / "test-invalid.json")
    assert response["success"] is False
    assert response["error"] == {
        "name": "ValidationError", "message": "items array is required and must not be empty", "field": "items"}
    assert response["message"] == "Order processing failed"


def test_a_durable_function_needs_a_qualifier(server):
    completed = aws(server, "invoke", "--function-name", server.name("ParallelProcessor"), "--payload",
                    f"file://{EXAMPLES / 'seed-order.json'}", *binary_format(), "/dev/null", check=False)
    assert completed.returncode != 0
    assert "InvalidParameterValueException" in completed.stderr
    assert "unqualified ARN" in completed.stderr


def test_the_published_version_and_alias_are_listed(server):
    function = server.name("ParallelProcessor")
    aliases = aws(server, "list-aliases", "--function-name", function)["Aliases"]
    assert [(alias["Name"], alias["FunctionVersion"]) for alias in aliases] == [("prod", "1")]
    assert aliases[0]["AliasArn"].endswith(f":function:{function}:prod")
    alias = aws(server, "get-alias", "--function-name", function, "--name", "prod")
    assert alias == aliases[0]
    versions = aws(server, "list-versions-by-function", "--function-name", function)["Versions"]
    assert [version["Version"] for version in versions] == ["$LATEST", "1"]
    assert versions[1]["FunctionArn"].endswith(f":function:{function}:1")
    assert versions[1]["DurableConfig"]["ExecutionTimeout"] == 300
    # A function the template does not publish has only $LATEST, and no alias.
    worker = server.name("TaxCalculation")
    assert aws(server, "list-aliases", "--function-name", worker)["Aliases"] == []
    assert [v["Version"] for v in aws(server, "list-versions-by-function", "--function-name", worker)["Versions"]] == [
        "$LATEST"]
    missing = aws(server, "get-alias", "--function-name", function, "--name", "staging", check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    assert "Alias not found: " in missing.stderr and f":function:{function}:staging" in missing.stderr


def test_callback_heartbeat_and_success(server):
    arn = start_approval(server, "cli")
    callback = callback_id(server, arn)
    aws(server, "send-durable-execution-callback-heartbeat", "--callback-id", callback)
    aws(server, "send-durable-execution-callback-success", "--callback-id", callback, "--result", '"approved"',
        *binary_format())
    wait_for(lambda: status(server, arn) == "SUCCEEDED", "the approval to succeed")
    result = json.loads(aws(server, "get-durable-execution", "--durable-execution-arn", arn)["Result"])
    assert result["greeting"] == "hello cli"
    assert json.loads(result["approval"]) == "approved"


def test_callback_failure(server):
    arn = start_approval(server, "failing")
    callback = callback_id(server, arn)
    aws(server, "send-durable-execution-callback-failure", "--callback-id", callback,
        "--error", "ErrorType=Rejected,ErrorMessage=not today")
    wait_for(lambda: status(server, arn) == "FAILED", "the approval to fail")
    execution = aws(server, "get-durable-execution", "--durable-execution-arn", arn)
    assert "not today" in json.dumps(execution["Error"])


def test_stop_durable_execution(server):
    arn = start_approval(server, "stopped")
    callback = callback_id(server, arn)
    stopped = aws(server, "stop-durable-execution", "--durable-execution-arn", arn,
                  "--error", "ErrorMessage=operator stop")
    assert "StopTimestamp" in stopped
    assert status(server, arn) == "STOPPED"
    late = aws(server, "send-durable-execution-callback-success", "--callback-id", callback, "--result", '"late"',
               *binary_format(), check=False)
    assert "CallbackTimeoutException" in late.stderr


def test_checkpoint_and_state_refuse_a_stale_token(server):
    arn = start_approval(server, "tokens")
    callback_id(server, arn)
    for command in (["checkpoint-durable-execution", "--checkpoint-token", "c3RhbGU="],
                    ["get-durable-execution-state", "--checkpoint-token", "c3RhbGU="]):
        completed = aws(server, *command, "--durable-execution-arn", arn, check=False)
        assert completed.returncode != 0
        assert "InvalidParameterValueException" in completed.stderr
        assert "Invalid Checkpoint Token" in completed.stderr
    aws(server, "stop-durable-execution", "--durable-execution-arn", arn)
