"""1-19: a step that always raises, with no retry: the step and the execution fail."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets


@durable_step
def failing(_: StepContext) -> str:
    raise ValueError("step failed permanently")


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    return context.step(failing(), config=StepConfig(retry_strategy=RetryPresets.none()))
