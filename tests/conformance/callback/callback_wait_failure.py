"""4-10: create a callback, wait 5 seconds (the callback fails meanwhile), then await it; the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    callback = context.create_callback(name=event)
    context.wait(Duration.from_seconds(5))
    return callback.result()
