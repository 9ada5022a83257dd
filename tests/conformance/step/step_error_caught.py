"""1-20: a failing step (no retry) whose error the handler catches, then a second step."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, StepError, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets


@durable_step
def failing(_: StepContext) -> str:
    raise ValueError("step failed")


@durable_step
def finish(_: StepContext, value: str) -> str:
    return value


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    try:
        value = context.step(failing(), config=StepConfig(retry_strategy=RetryPresets.none()))
    except StepError:
        value = "fallback_result"
    return context.step(finish(value))
