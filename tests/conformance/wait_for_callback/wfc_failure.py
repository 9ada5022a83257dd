"""7-4: one wait_for_callback the external system fails; the error is not caught, so the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one: the test sends the callback itself."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    return context.wait_for_callback(submit, name=event)
