"""3-5: a child context whose step fails; the parent catches the error and a recovery step returns the input."""

from aws_durable_execution_sdk_python import ChildContextError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets
from aws_durable_execution_sdk_python.types import StepContext


def fail(_: StepContext) -> str:
    raise ValueError("step in child context failed")


def failing_child(child: DurableContext) -> str:
    return child.step(fail, config=StepConfig(retry_strategy=RetryPresets.none()))


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    try:
        context.run_in_child_context(failing_child)
    except ChildContextError:
        pass
    return context.step(lambda _: event)
