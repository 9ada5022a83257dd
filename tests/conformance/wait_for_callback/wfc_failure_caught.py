"""7-6: one wait_for_callback the external system fails; the handler catches it and returns "recovered"."""

from aws_durable_execution_sdk_python import CallbackError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one: the test sends the callback itself."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    try:
        return context.wait_for_callback(submit, name=event)
    except CallbackError:
        return "recovered"
