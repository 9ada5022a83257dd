"""7-11: a wait_for_callback whose payload is read as a JSON object; returns its "status" field."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import WaitForCallbackConfig
from aws_durable_execution_sdk_python.serdes import JsonSerDes
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one: the test sends the callback itself."""


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    config = WaitForCallbackConfig(serdes=JsonSerDes())
    decision = context.wait_for_callback(submit, name=event, config=config)
    return decision["status"]
