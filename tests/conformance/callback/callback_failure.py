"""4-6: a callback the external system fails; the error is not caught, so the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    callback = context.create_callback(name=event)
    return callback.result()
