"""A durable function that writes to DynamoDB (`examples/dynamodb`), served by
`orders serve` against a local DynamoDB: moto's server, started here, reached
through the host's AWS_ENDPOINT_URL_DYNAMODB, which orders serve passes to
its functions."""

import json
import uuid

import pytest

from conftest import CREDENTIALS, ROOT, Server, wait_for

EXAMPLE = ROOT / "examples" / "dynamodb"


@pytest.fixture(scope="module")
def dynamodb():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server._server.server_port}"
    server.stop()


@pytest.fixture(scope="module")
def served(dynamodb):
    import boto3

    session = boto3.session.Session(aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                    region_name="us-east-1")
    # The table the template declares (stack shop, stage dev), as `sam deploy` would create it.
    session.client("dynamodb", endpoint_url=dynamodb).create_table(
        TableName="shop-dev-orders", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}])
    server = Server(EXAMPLE / "template.yaml", "shop",
                    extra=["--no-explorer", "--parameter-overrides", "Stage=dev"],
                    env={"AWS_ENDPOINT_URL_DYNAMODB": dynamodb})
    server.table = session.resource("dynamodb", endpoint_url=dynamodb).Table("shop-dev-orders")
    server.lambda_client = session.client("lambda", endpoint_url=server.url)
    yield server
    server.stop()


def ended(client, arn):
    execution = client.get_durable_execution(DurableExecutionArn=arn)
    return execution if execution["Status"] not in ("RUNNING", "PAUSING", "PAUSED") else None


def test_a_durable_function_writes_its_item_once_even_when_its_process_crashes_after_the_write(served, tmp_path):
    order = f"o-{uuid.uuid4().hex[:8]}"
    started = served.lambda_client.invoke(
        FunctionName=served.name("RecordOrder"), Qualifier="live", InvocationType="Event",
        Payload=json.dumps({"orderId": order, "total": "42.50", "crashMarker": str(tmp_path / "crashed")}))
    arn = started["DurableExecutionArn"]
    execution = wait_for(lambda: ended(served.lambda_client, arn), "the execution's end", timeout=90)
    assert execution["Status"] == "SUCCEEDED", (execution, served.output())
    assert json.loads(execution["Result"]) == {"recorded": {"orderId": order, "table": "shop-dev-orders"}}
    assert (tmp_path / "crashed").exists(), "the first invocation crashed after the write"
    item = served.table.get_item(Key={"orderId": order})["Item"]
    assert item["total"] == "42.50"
    # The replay after the crash took the step's checkpointed result: one write.
    assert item["writes"] == 1
    history = served.lambda_client.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    ends = [event for event in history if event["EventType"] == "InvocationCompleted"]
    assert len(ends) == 2, "the crashed invocation, then the replay"
    assert [event["EventType"] for event in history].count("StepSucceeded") == 1
