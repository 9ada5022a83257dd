"""1-10: a failed step (no retry) re-raises its checkpointed error on replay, caught both times."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, StepError, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets


@durable_step
def fail(step_context: StepContext) -> str:
    step_context.logger.info("step executed")
    raise RuntimeError("step failed permanently")


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    try:
        context.step(fail(), config=StepConfig(retry_strategy=RetryPresets.none()))
        outcome = "no error"
    except StepError as error:
        outcome = f"caught: {error}"
    context.wait(Duration.from_seconds(1))
    return outcome
