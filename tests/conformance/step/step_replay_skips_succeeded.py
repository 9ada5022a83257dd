"""1-9: a succeeded step is not run again on replay: its checkpointed result is returned."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration


@durable_step
def compute(step_context: StepContext) -> str:
    step_context.logger.info("step executed")
    return "cached_value"


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    result = context.step(compute())
    context.wait(Duration.from_seconds(1))
    return result
