"""4-7: create a callback, run a step, then await the callback, which the external system fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    callback = context.create_callback(name=event)
    context.step(lambda _: "step done")
    return callback.result()
