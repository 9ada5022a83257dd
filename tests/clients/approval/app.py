"""A durable function written with the AWS durable execution SDK for Python.

It greets (a step), pauses (a durable wait), then waits for an approval (a
callback an outside system completes) and returns what it got.
"""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration


@durable_execution
def handler(event: dict, context: DurableContext) -> dict:
    name = event.get("name", "world")
    greeting = context.step(lambda _: f"hello {name}", name="greet")
    context.logger.info(f"waiting for an approval for {name}")
    context.wait(Duration.from_seconds(1), name="pause")
    callback = context.create_callback(
        name="approval",
        config=CallbackConfig(timeout=Duration.from_seconds(300), heartbeat_timeout=Duration.from_seconds(60)),
    )
    approval = callback.result()
    return {"greeting": greeting, "approval": approval}
