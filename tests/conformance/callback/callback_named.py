"""4-2: a callback with the explicit name "approval"; returns its result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: None, context: DurableContext) -> str | None:
    callback = context.create_callback(name="approval")
    return callback.result()
