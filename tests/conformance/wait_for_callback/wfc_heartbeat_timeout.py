"""7-12: a wait_for_callback with a 5-second heartbeat timeout and no heartbeat; the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one, so no heartbeat ever comes."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = WaitForCallbackConfig(heartbeat_timeout=Duration.from_seconds(5))
    return context.wait_for_callback(submit, name=event, config=config)
