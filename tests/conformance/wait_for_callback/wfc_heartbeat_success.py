"""7-13: a wait_for_callback with a 10-second heartbeat timeout, kept alive by a heartbeat, then completed."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one: the test sends the heartbeat and the callback itself."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = WaitForCallbackConfig(heartbeat_timeout=Duration.from_seconds(10))
    return context.wait_for_callback(submit, name=event, config=config)
