"""1-1: one step, succeeding at its first attempt."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    return context.step(lambda _: f"Hello, {event}!")
