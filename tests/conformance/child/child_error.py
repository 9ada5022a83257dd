"""3-4: a child context whose step fails with no retry; the ChildContextError fails the execution."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets
from aws_durable_execution_sdk_python.types import StepContext


def fail(_: StepContext) -> str:
    raise ValueError("step in child context failed")


@durable_with_child_context
def failing_child(child: DurableContext) -> str:
    return child.step(fail, config=StepConfig(retry_strategy=RetryPresets.none()))


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    return context.run_in_child_context(failing_child())
