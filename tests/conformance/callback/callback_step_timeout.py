"""4-8: create a callback with a 5-second timeout, run a step, then await the callback until it times out."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = CallbackConfig(timeout=Duration.from_seconds(5))
    callback = context.create_callback(name=event, config=config)
    context.step(lambda _: "step done")
    return callback.result()
