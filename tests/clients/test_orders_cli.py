"""`orders` itself against a served engine: executions, callbacks, stop, pause, resume."""

import json
import subprocess

from conftest import ORDERS, wait_for


def orders(server, *arguments):
    completed = subprocess.run([ORDERS, *arguments, "--endpoint", server.url], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def started_approval(boto_lambda, server, name):
    arn = boto_lambda.invoke(FunctionName=server.name("Approval"), Qualifier="live", InvocationType="Event",
                             Payload=json.dumps({"name": name}))["DurableExecutionArn"]

    def callback():
        history = json.loads(orders(server, "executions", "history", arn, "--json"))
        return next((event["CallbackStartedDetails"]["CallbackId"] for event in history["Events"]
                     if event["EventType"] == "CallbackStarted"), None)
    return arn, wait_for(callback, "the callback to be created")


def status(server, arn):
    return json.loads(orders(server, "executions", "get", arn, "--json"))["Status"]


def test_executions_are_listed_shown_and_their_history_read(boto_lambda, server):
    arn, _ = started_approval(boto_lambda, server, "listed")
    listed = json.loads(orders(server, "executions", "list", "--json"))
    assert arn in [execution["DurableExecutionArn"] for execution in listed["DurableExecutions"]]
    table = orders(server, "executions", "list")
    assert "RUNNING" in table and arn in table
    assert "status:    RUNNING" in orders(server, "executions", "get", arn)
    assert "CallbackStarted" in orders(server, "executions", "history", arn)
    orders(server, "stop", arn, "--error-message", "listed")
    assert status(server, arn) == "STOPPED"


def test_callbacks_are_completed_with_orders(boto_lambda, server):
    arn, callback = started_approval(boto_lambda, server, "orders-cli")
    orders(server, "callback", "heartbeat", callback)
    orders(server, "callback", "succeed", callback, "--result", '"from orders"')
    wait_for(lambda: status(server, arn) == "SUCCEEDED", "the approval to succeed")

    failing, callback = started_approval(boto_lambda, server, "orders-cli-no")
    orders(server, "callback", "fail", callback, "--error-type", "Rejected", "--error-message", "no")
    wait_for(lambda: status(server, failing) == "FAILED", "the approval to fail")


def test_pause_and_resume_with_orders(boto_lambda, server):
    arn, callback = started_approval(boto_lambda, server, "paused-cli")
    orders(server, "pause", arn, "--reason", "audit", "--no-execution-timeout-paused")
    wait_for(lambda: status(server, arn) == "PAUSED", "the execution to pause")
    shown = orders(server, "executions", "get", arn)
    assert "reason audit, timeout keeps running" in shown, shown
    orders(server, "resume", arn, "--reason", "checked")
    assert status(server, arn) == "RUNNING"
    orders(server, "callback", "succeed", callback, "--result", '"resumed"')
    wait_for(lambda: status(server, arn) == "SUCCEEDED", "the resumed approval to succeed")
