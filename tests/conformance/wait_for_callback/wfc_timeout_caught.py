"""7-14: a wait_for_callback with a 3-second timeout; the handler catches the timeout and returns "timed-out-handled"."""

from aws_durable_execution_sdk_python import CallbackTimeoutError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one, so the callback times out."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(3))
    try:
        return context.wait_for_callback(submit, name=event, config=config)
    except CallbackTimeoutError:
        return "timed-out-handled"
