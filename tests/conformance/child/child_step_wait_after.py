"""3-18: a child context (a step, then a wait), then a top-level step and a wait: three invocations."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import Duration


@durable_with_child_context
def step_then_wait(child: DurableContext, value: str) -> str:
    result: str = child.step(lambda _: value)
    child.wait(Duration.from_seconds(1))
    return result


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    context.run_in_child_context(step_then_wait(event))
    result: str = context.step(lambda _: event)
    context.wait(Duration.from_seconds(1))
    return result
