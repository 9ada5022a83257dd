"""10-7: a step that always raises (no retry) fails the execution; the plugin's invocation-end sees FAILED."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets

from invocation_plugin import invocation_plugin


@durable_step
def failing(_: StepContext) -> str:
    raise ValueError("step failed permanently")


@durable_execution(plugins=[invocation_plugin()])
def handler(event: None, context: DurableContext) -> str:
    return context.step(failing(), config=StepConfig(retry_strategy=RetryPresets.none()))
