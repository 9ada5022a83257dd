"""4-1: a callback named after the input; returns its result once an external system sends it."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    callback = context.create_callback(name=event)
    return callback.result()
