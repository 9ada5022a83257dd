"""4-11: a callback with a 3-second timeout, then a 6-second wait, then await it; the timeout fails the execution."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = CallbackConfig(timeout=Duration.from_seconds(3))
    callback = context.create_callback(name=event, config=config)
    context.wait(Duration.from_seconds(6))
    return callback.result()
