"""1-5: a step returning None; the execution's result is null."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step


@durable_step
def do_nothing(_: StepContext) -> None:
    return None


@durable_execution
def handler(event: None, context: DurableContext) -> None:
    return context.step(do_nothing())
