"""7-8: a child context "wrapper" that runs one wait_for_callback named after the input and returns its result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one: the test sends the callback itself."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    def wrapper(child: DurableContext) -> str | None:
        return child.wait_for_callback(submit, name=event)

    return context.run_in_child_context(wrapper, name="wrapper")
