"""7-10: a 1-second wait, a top-level step returning fixed data, then a wait_for_callback; returns its result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """Hands the callback id to no one: the test sends the callback itself."""


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    context.wait(Duration.from_seconds(1))
    context.step(lambda _: {"prepared": True})
    return context.wait_for_callback(submit, name=event)
