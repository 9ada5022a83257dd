"""Functions of other runtimes on `orders serve`, started from their template alone:
Node.js on the JS durable SDK (with orders' own Node runtime and with npm's
aws-lambda-ric), plain Node.js, and Python; and Lambda's answers when a
function cannot initialize or fails."""

import json
import time

import pytest

from conftest import HERE, Server, wait_for

TEMPLATE = HERE / "node" / "template.yaml"


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory):
    env_vars = tmp_path_factory.mktemp("env") / "env.json"
    env_vars.write_text(json.dumps({
        "Parameters": {"FROM_ENV_VARS": "every function"},
        "EnvironmentFunction": {"FROM_ENV_VARS": "its own", "NOT_DECLARED": "x"},
    }))
    # A relative template path: the functions still get an absolute LAMBDA_TASK_ROOT.
    served = Server(
        TEMPLATE.relative_to(HERE), "rt", cwd=HERE,
        extra=["--no-explorer", "--parameter-overrides", "Greeting='hello there'", "ParameterKey=Stage,ParameterValue=prod",
               "--env-vars", str(env_vars)],
        # Other services' endpoints reach the functions; Lambda's stays the engine.
        env={"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_LAMBDA": "http://elsewhere:1"},
    )
    yield served
    served.stop()


@pytest.fixture(scope="module")
def client(runtimes):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    return session.client("lambda", endpoint_url=runtimes.url,
                          config=Config(read_timeout=120, retries={"max_attempts": 1}))


def history(client, arn):
    return client.get_durable_execution_history(DurableExecutionArn=arn, MaxItems=1000)["Events"]


def callback_started(client, arn):
    for event in history(client, arn):
        if event["EventType"] == "CallbackStarted":
            return event["CallbackStartedDetails"]["CallbackId"]
    return None


def ended(client, arn):
    execution = client.get_durable_execution(DurableExecutionArn=arn)
    return execution if execution["Status"] not in ("RUNNING", "PAUSING", "PAUSED") else None


@pytest.mark.parametrize("function", ["NodeDurable", "NodeDurableRic"])
def test_a_node_durable_function_runs_its_step_wait_parallel_callback_and_chained_invoke(
        runtimes, client, function):
    started = client.invoke(FunctionName=runtimes.name(function), Qualifier="live", InvocationType="Event",
                            Payload=json.dumps({"orderId": "o-7"}))
    assert started["StatusCode"] == 202
    arn = started["DurableExecutionArn"]
    callback_id = wait_for(lambda: callback_started(client, arn), "the approval callback", timeout=60)
    client.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps("yes"))
    execution = wait_for(lambda: ended(client, arn), "the execution's end", timeout=60)
    assert execution["Status"] == "SUCCEEDED", (execution, runtimes.output())
    result = json.loads(execution["Result"])
    assert result["order"] == "o-7"
    assert result["letters"] == ["A", "B", "C"]
    assert result["approved"] in ("yes", '"yes"')
    assert result["charged"] == {"charged": 42, "orderId": "o-7", "by": "rt-Charge", "memory": "512"}
    types = [event["EventType"] for event in history(client, arn)]
    for expected in ["StepSucceeded", "WaitSucceeded", "ContextSucceeded", "CallbackSucceeded",
                     "ChainedInvokeSucceeded", "ExecutionSucceeded"]:
        assert expected in types, types


def test_chained_results_reach_a_node_function_whose_invocation_a_long_step_holds_open(runtimes, client):
    # The JS SDK keeps checkpointing while the long step runs; each answer
    # carries the invoke that ended, so the branch of invokes goes on and the
    # whole execution ends in one invocation, as on the service.
    started = client.invoke(FunctionName=runtimes.name("NodeBusy"), Qualifier="live", InvocationType="Event",
                            Payload=json.dumps({"orderId": "o-9", "stepSeconds": 8}))
    arn = started["DurableExecutionArn"]
    execution = wait_for(lambda: ended(client, arn), "the execution's end", timeout=90)
    assert execution["Status"] == "SUCCEEDED", (execution, runtimes.output())
    assert json.loads(execution["Result"]) == ["done", [1, 2, 3]]
    events = history(client, arn)
    types = [event["EventType"] for event in events]
    assert types.count("ChainedInvokeSucceeded") == 3, types
    assert types.count("InvocationCompleted") == 1, types
    # Every invoke ended while the step still ran.
    step_end = next(event["EventTimestamp"] for event in events if event["EventType"] == "StepSucceeded"
                    and event.get("Name") == "long-step")
    for event in events:
        if event["EventType"] == "ChainedInvokeSucceeded":
            assert event["EventTimestamp"] < step_end, events


def test_a_node_function_gets_lambdas_environment_from_the_template(runtimes, client):
    response = client.invoke(FunctionName=runtimes.name("Environment"), Payload=b"{}")
    assert "FunctionError" not in response, response
    environment = json.loads(response["Payload"].read())
    task_root = str((HERE / "node" / "plain").resolve())
    assert environment["cwd"] == task_root
    assert environment["LAMBDA_TASK_ROOT"] == task_root, "absolute, though the template path was relative"
    assert environment["_HANDLER"] == "index.environment"
    assert environment["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs22.x"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "rt-Environment"
    assert environment["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert environment["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/rt-Environment"
    assert "[$LATEST]" in environment["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert environment["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert environment["AWS_LAMBDA_LOG_LEVEL"] == "INFO"
    assert environment["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert environment["TZ"] == ":UTC"
    assert environment["LAMBDA_RUNTIME_DIR"]
    # Another resource of the template, resolved as CloudFormation resolves it.
    assert environment["ATTEMPTS_TABLE"].startswith("rt-AttemptsTable-")
    assert environment["ATTEMPTS_TABLE_ARN"] == (
        f"arn:aws:dynamodb:us-east-1:000000000000:table/{environment['ATTEMPTS_TABLE']}")
    # The template's parameters, with the values --parameter-overrides gave.
    assert environment["GREETING"] == "hello there"
    assert environment["STAGE_TABLE"] == "prod-table"
    # --env-vars: the function's own value wins; an undeclared one is not added.
    assert environment["FROM_ENV_VARS"] == "its own"
    assert environment["NOT_DECLARED"] is None
    assert "NOT_DECLARED is not a variable of its Environment" in runtimes.output()
    assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8000"
    assert environment["AWS_ENDPOINT_URL_LAMBDA"] == runtimes.url


@pytest.mark.parametrize("function,error_type,message", [
    ("NodeInitError", "Runtime.HandlerNotFound", "index.handler is undefined or not exported"),
    ("PythonInitError", "Runtime.ImportModuleError", "Unable to import module 'missing'"),
])
def test_a_function_that_cannot_initialize_is_answered_with_its_init_error_at_once(
        runtimes, client, function, error_type, message):
    for _ in range(2):
        began = time.monotonic()
        response = client.invoke(FunctionName=runtimes.name(function), Payload=b"{}")
        took = time.monotonic() - began
        assert response["FunctionError"] == "Unhandled"
        body = json.loads(response["Payload"].read())
        assert body["errorType"] == error_type, body
        assert message in body["errorMessage"], body
        assert took < 10, f"answered after {took:.1f} s; the function's timeout is 60 s"


@pytest.mark.parametrize("function,error_type,message", [
    ("NodeFails", "TypeError", "the order has no items"),
    ("PythonFails", "OrderRejected", "order o-9 rejected"),
])
def test_a_function_that_fails_keeps_its_own_error(runtimes, client, function, error_type, message):
    response = client.invoke(FunctionName=runtimes.name(function), Payload=json.dumps({"orderId": "o-9"}))
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert (body["errorType"], body["errorMessage"]) == (error_type, message), body


@pytest.mark.parametrize("function,error", [("PythonFails", "order o-10 rejected"),
                                            ("NodeFails", "order o-10 has no items")])
def test_a_record_of_several_lines_is_one_log_event_as_lambda_frames_it(runtimes, client, function, error):
    import boto3

    # Text format: the error record is the message and its stack trace, on several lines.
    client.invoke(FunctionName=runtimes.name(function), Payload=json.dumps({"orderId": "o-10"}))
    logs = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name="us-east-1").client("logs", endpoint_url=runtimes.url)

    def events():
        found = logs.filter_log_events(logGroupName=f"/aws/lambda/{runtimes.name(function)}")["events"]
        return found if any(error in event["message"] for event in found) else None

    found = wait_for(events, f"{function}'s error record")
    record = next(event["message"] for event in found if error in event["message"])
    # The error and its stack trace: one event, its lines kept.
    assert "\n" in record.strip(), record
    assert not any(event["message"].lstrip().startswith(("File ", "at ")) for event in found), found


def test_the_engines_warnings_about_processes_are_on_stderr_without_logs(runtimes):
    assert "failed to initialize" in runtimes.output()
    # Written to a file, not a terminal: no colour codes.
    assert "\x1b[" not in runtimes.output()
