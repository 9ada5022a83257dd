"""7-5: one wait_for_callback with a 3-second timeout that nobody completes; the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one, so the callback times out."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(3))
    return context.wait_for_callback(submit, name=event, config=config)
