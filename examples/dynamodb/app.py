"""A durable function that records an order in DynamoDB.

The write is a step, and a conditional one: the order is put only if it is
not there yet, and its `writes` counter says how many times it was. A step
whose result is checkpointed is not run again on replay, so after a crash
of the function's process the order is still written once. With
`crashMarker` in the event, the first invocation exits just after the step,
as a crash would, once for each marker file that does not exist yet.
"""

import os

import boto3
from aws_durable_execution_sdk_python import DurableContext, durable_execution

TABLE = os.environ["ORDERS_TABLE"]


def record(order_id: str, total: str) -> dict:
    # Reaches DynamoDB where AWS_ENDPOINT_URL_DYNAMODB says (a local one
    # beside orders serve), else the service.
    table = boto3.resource("dynamodb").Table(TABLE)
    table.update_item(
        Key={"orderId": order_id},
        UpdateExpression="SET #total = :total ADD #writes :one",
        ConditionExpression="attribute_not_exists(orderId)",
        ExpressionAttributeNames={"#total": "total", "#writes": "writes"},
        ExpressionAttributeValues={":total": total, ":one": 1},
    )
    return {"orderId": order_id, "table": TABLE}


@durable_execution
def handler(event: dict, context: DurableContext) -> dict:
    recorded = context.step(lambda _: record(event["orderId"], event["total"]), name="record-order")
    marker = event.get("crashMarker")
    if marker and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return {"recorded": recorded}
