"""Every durable operation with boto3, and a Python durable function hosted by the engine."""

import json
import time
from decimal import Decimal

import pytest

from conftest import ROOT, Server, example, wait_for


def approval_execution(boto_lambda, server, name):
    started = boto_lambda.invoke(FunctionName=server.name("Approval"), Qualifier="live", InvocationType="Event",
                                 Payload=json.dumps({"name": name}))
    assert started["StatusCode"] == 202
    return started["DurableExecutionArn"]


def callback_id(boto_lambda, arn):
    def started():
        events = boto_lambda.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        return next((event["CallbackStartedDetails"]["CallbackId"] for event in events
                     if event["EventType"] == "CallbackStarted"), None)
    return wait_for(started, "the callback to be created")


def status(boto_lambda, arn):
    return boto_lambda.get_durable_execution(DurableExecutionArn=arn)["Status"]


def test_a_synchronous_invoke_returns_the_order(boto_lambda, server):
    response = boto_lambda.invoke(FunctionName=f"{server.name('ParallelProcessor')}:prod",
                                  Payload=json.dumps(example("seed-order.json")))
    assert response["StatusCode"] == 200
    body = json.loads(response["Payload"].read(), parse_float=Decimal)
    assert body["result"]["totals"]["total"] == Decimal("130.68")
    arn = response["DurableExecutionArn"]
    execution = boto_lambda.get_durable_execution(DurableExecutionArn=arn)
    assert execution["Status"] == "SUCCEEDED"
    assert execution["DurableConfig"]["ExecutionTimeout"] == 300
    history = boto_lambda.get_durable_execution_history(DurableExecutionArn=arn, MaxItems=5)
    assert len(history["Events"]) == 5 and "NextMarker" in history
    rest = boto_lambda.get_durable_execution_history(DurableExecutionArn=arn, Marker=history["NextMarker"],
                                                     MaxItems=1000)
    assert rest["Events"][-1]["EventType"] == "ExecutionSucceeded"
    paginator = boto_lambda.get_paginator("list_durable_executions_by_function")
    listed = [execution for page in paginator.paginate(FunctionName=server.name("ParallelProcessor"),
                                                        Statuses=["SUCCEEDED"], PaginationConfig={"PageSize": 1})
              for execution in page["DurableExecutions"]]
    assert arn in [execution["DurableExecutionArn"] for execution in listed]


def test_an_execution_name_makes_the_start_idempotent(boto_lambda, server):
    name = f"order-{time.monotonic_ns()}"
    payload = json.dumps(example("test-ny.json"))
    first = boto_lambda.invoke(FunctionName=server.name("ParallelProcessor"), Qualifier="prod",
                               InvocationType="Event", DurableExecutionName=name, Payload=payload)
    again = boto_lambda.invoke(FunctionName=server.name("ParallelProcessor"), Qualifier="prod",
                               InvocationType="Event", DurableExecutionName=name, Payload=payload)
    assert first["DurableExecutionArn"] == again["DurableExecutionArn"]
    with pytest.raises(boto_lambda.exceptions.DurableExecutionAlreadyStartedException):
        boto_lambda.invoke(FunctionName=server.name("ParallelProcessor"), Qualifier="prod", InvocationType="Event",
                           DurableExecutionName=name, Payload=json.dumps(example("seed-order.json")))


def test_callbacks_heartbeat_succeed_and_fail(boto_lambda, server):
    arn = approval_execution(boto_lambda, server, "boto3")
    callback = callback_id(boto_lambda, arn)
    boto_lambda.send_durable_execution_callback_heartbeat(CallbackId=callback)
    boto_lambda.send_durable_execution_callback_success(CallbackId=callback, Result=json.dumps({"by": "boto3"}))
    wait_for(lambda: status(boto_lambda, arn) == "SUCCEEDED", "the approval to succeed")
    with pytest.raises(boto_lambda.exceptions.CallbackTimeoutException):
        boto_lambda.send_durable_execution_callback_success(CallbackId=callback, Result="1")

    failing = approval_execution(boto_lambda, server, "no")
    boto_lambda.send_durable_execution_callback_failure(
        CallbackId=callback_id(boto_lambda, failing), Error={"ErrorType": "Rejected", "ErrorMessage": "no way"})
    wait_for(lambda: status(boto_lambda, failing) == "FAILED", "the approval to fail")


def test_pause_resume_stop_and_delete(boto_lambda, server):
    arn = approval_execution(boto_lambda, server, "paused")
    callback = callback_id(boto_lambda, arn)
    before = boto_lambda.get_durable_execution(DurableExecutionArn=arn)
    pause = dict(DurableExecutionArn=arn, Reason="audit", ClientToken="pause-1")
    boto_lambda.pause_durable_execution(**pause)
    # PAUSING while its invocation still runs, PAUSED once it ends.
    wait_for(lambda: status(boto_lambda, arn) == "PAUSED", "the execution to pause")
    paused = boto_lambda.get_durable_execution(DurableExecutionArn=arn)
    assert paused["PauseDetails"]["Reason"] == "audit"
    assert paused["PauseDetails"]["ExecutionTimeoutPaused"] is True
    assert paused["ExpectedExecutionTimeoutTimestamp"] > before["ExpectedExecutionTimeoutTimestamp"]
    boto_lambda.pause_durable_execution(**pause)  # the same client token: success, nothing more
    with pytest.raises(boto_lambda.exceptions.ResourceConflictException):
        boto_lambda.pause_durable_execution(DurableExecutionArn=arn)
    boto_lambda.send_durable_execution_callback_success(CallbackId=callback, Result='"while paused"')
    history = boto_lambda.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    assert history[-1]["EventType"] == "CallbackSucceeded", "no invocation runs while paused"
    assert [e["ExecutionPausedDetails"]["Reason"]["Payload"] for e in history
            if e["EventType"] == "ExecutionPaused"] == ["audit"]
    boto_lambda.resume_durable_execution(DurableExecutionArn=arn, Reason="checked")
    wait_for(lambda: status(boto_lambda, arn) == "SUCCEEDED", "the resumed approval to succeed")
    history = boto_lambda.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=False)["Events"]
    resumed = [e["ExecutionResumedDetails"] for e in history if e["EventType"] == "ExecutionResumed"]
    assert resumed and resumed[0]["Reason"] == {"Truncated": True}

    running = approval_execution(boto_lambda, server, "deleted")
    callback_id(boto_lambda, running)
    with pytest.raises(boto_lambda.exceptions.ResourceConflictException):
        boto_lambda.delete_durable_execution(DurableExecutionArn=running)
    stopped = boto_lambda.stop_durable_execution(DurableExecutionArn=running, Error={"ErrorMessage": "done"})
    assert stopped["StopTimestamp"]
    assert status(boto_lambda, running) == "STOPPED"
    boto_lambda.delete_durable_execution(DurableExecutionArn=running)
    with pytest.raises(boto_lambda.exceptions.ResourceNotFoundException):
        boto_lambda.get_durable_execution(DurableExecutionArn=running)


def test_errors_come_back_as_the_clients_exceptions(boto_lambda, server):
    with pytest.raises(boto_lambda.exceptions.ResourceNotFoundException):
        boto_lambda.invoke(FunctionName="no-such-function", Payload=b"{}")
    with pytest.raises(boto_lambda.exceptions.InvalidParameterValueException) as unqualified:
        boto_lambda.invoke(FunctionName=server.name("ParallelProcessor"), Payload=b"{}")
    assert "unqualified ARN" in str(unqualified.value)
    with pytest.raises(boto_lambda.exceptions.InvalidRequestContentException):
        boto_lambda.invoke(FunctionName=server.name("InventoryCheck"), Payload=b"{not json")
    with pytest.raises(boto_lambda.exceptions.ResourceNotFoundException):
        boto_lambda.get_durable_execution_history(DurableExecutionArn="arn:aws:lambda:us-east-1:0:function:x:1/durable-execution/a/b")


def test_a_plain_worker_answers_a_malformed_request_with_400(boto_lambda, server):
    response = boto_lambda.invoke(FunctionName=server.name("TaxCalculation"), Payload=b'{"orderId": "o"}')
    body = json.loads(response["Payload"].read())
    assert body == {"success": False, "statusCode": 400, "message": "subtotal is required and must be a number"}


def test_the_python_function_ran_its_step_wait_and_callback_in_its_own_process(boto_lambda, server):
    arn = approval_execution(boto_lambda, server, "python")
    callback = callback_id(boto_lambda, arn)
    boto_lambda.send_durable_execution_callback_success(CallbackId=callback, Result='"yes"')
    wait_for(lambda: status(boto_lambda, arn) == "SUCCEEDED", "the Python function to finish")
    events = boto_lambda.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    kinds = [(event["EventType"], event.get("Name")) for event in events]
    for expected in [("StepSucceeded", "greet"), ("WaitSucceeded", "pause"), ("CallbackSucceeded", "approval")]:
        assert expected in kinds
    assert sum(1 for kind, _ in kinds if kind == "InvocationCompleted") >= 3
    assert "process: python3 -m awslambdaric app.handler" in server.output()
    result = json.loads(boto_lambda.get_durable_execution(DurableExecutionArn=arn)["Result"])
    assert result["greeting"] == "hello python"
    # What the process wrote is in its log group, found by CloudWatch's filter patterns.
    logs = client(server, "logs")
    lines = logs.filter_log_events(logGroupName=f"/aws/lambda/{server.name('Approval')}",
                                   filterPattern='"waiting for an approval for python"')["events"]
    assert lines and all("waiting for an approval for python" in line["message"] for line in lines)


def test_concurrent_invocations_run_at_once_each_in_an_environment_of_its_own(boto_lambda, server, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def meet(_):
        answer = boto_lambda.invoke(FunctionName=server.name("Rendezvous"),
                                    Payload=json.dumps({"folder": str(tmp_path), "expected": 3}))
        return json.loads(answer["Payload"].read())

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(meet, range(3)))
    assert [answer["met"] for answer in answers] == [3, 3, 3], answers
    assert len({answer["pid"] for answer in answers}) == 3, answers


def client(server, service):
    import boto3

    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name="us-east-1")
    return session.client(service, endpoint_url=server.url)


def test_the_served_stack_lists_its_functions_by_logical_id(server):
    cloudformation = client(server, "cloudformation")
    resources = cloudformation.list_stack_resources(StackName=server.stack)["StackResourceSummaries"]
    functions = {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in resources}
    assert functions["ApprovalFunction"] == server.name("Approval")
    assert functions["ParallelProcessorFunction"] == server.name("ParallelProcessor")
    detail = cloudformation.describe_stack_resource(StackName=server.stack, LogicalResourceId="ApprovalFunction")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == server.name("Approval")
    with pytest.raises(cloudformation.exceptions.ClientError, match="does not exist"):
        cloudformation.list_stack_resources(StackName="no-such-stack")


def test_the_order_system_as_five_bootstraps_answers_the_same():
    built = ROOT / ".aws-sam" / "build" / "template.yaml"
    assert built.is_file(), "run `sam build` first (scripts/test does, before these tests)"
    import boto3

    served = Server(built, "built")
    try:
        output = served.output()
        assert output.count("process: ") == 5, output
        client = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                       region_name="us-east-1").client("lambda", endpoint_url=served.url)
        for payload, total in [("seed-order.json", "130.68"), ("test-ny.json", "112.24"),
                               ("test-bulk.json", "389.63")]:
            response = client.invoke(FunctionName=served.name("ParallelProcessor"), Qualifier="prod",
                                     Payload=json.dumps(example(payload)))
            assert "FunctionError" not in response, served.output()
            body = json.loads(response["Payload"].read(), parse_float=Decimal)
            assert body["success"] is True, body
            assert body["result"]["totals"]["total"] == Decimal(total)
        invalid = client.invoke(FunctionName=served.name("ParallelProcessor"), Qualifier="prod",
                                Payload=json.dumps(example("test-invalid.json")))
        assert json.loads(invalid["Payload"].read())["error"]["field"] == "items"
    finally:
        served.stop()
