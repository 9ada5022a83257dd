"""7-9: two wait_for_callback operations in a row, "first" then "second"; returns the second's result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one: the test sends the callback itself."""


@durable_execution
def handler(event: None, context: DurableContext) -> str | None:
    context.wait_for_callback(submit, name="first")
    return context.wait_for_callback(submit, name="second")
