"""1-13: a step failing twice then succeeding, under the SDK's default retry strategy."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step


@durable_step
def unreliable(step_context: StepContext) -> str:
    if step_context.attempt < 3:
        raise RuntimeError(f"attempt {step_context.attempt} fails")
    return "succeeded at attempt 3"


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    return context.step(unreliable())
