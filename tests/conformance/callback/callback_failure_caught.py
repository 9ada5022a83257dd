"""4-13: await a callback that fails, catch the error, wait 2 seconds, return the error message."""

from aws_durable_execution_sdk_python import CallbackError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    callback = context.create_callback(name=event)
    try:
        message = callback.result()
    except CallbackError as error:
        message = f"callback failed: {error.message}"
    context.wait(Duration.from_seconds(2))
    return message
