"""1-3: two sequential steps, the second using the first one's result."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step


@durable_step
def step_one(_: StepContext) -> str:
    return "first"


@durable_step
def step_two(_: StepContext, previous: str) -> str:
    return f"{previous}_second"


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    first = context.step(step_one())
    return context.step(step_two(first))
