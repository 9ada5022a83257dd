"""4-19: create callbacks A and B, then await B first, then A; returns both results."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: list[str], context: DurableContext) -> list:
    callback_a = context.create_callback(name=event[0])
    callback_b = context.create_callback(name=event[1])
    result_b = callback_b.result()
    result_a = callback_a.result()
    return [result_a, result_b]
