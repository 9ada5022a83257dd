"""10-1: the invocation-start and invocation-end hooks of a plugin, around one step that logs a line."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step

from invocation_plugin import invocation_plugin


@durable_step
def greet(step_context: StepContext, name: str) -> str:
    step_context.logger.info(f"Greeting step running for: {name}")
    return f"Hello, {name}!"


@durable_execution(plugins=[invocation_plugin()])
def handler(event: str, context: DurableContext) -> str:
    return context.step(greet(event))
