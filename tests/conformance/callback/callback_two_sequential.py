"""4-17: create callback A and await it, then create callback B and await it; returns both results."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: list[str], context: DurableContext) -> list:
    first = context.create_callback(name=event[0]).result()
    second = context.create_callback(name=event[1]).result()
    return [first, second]
