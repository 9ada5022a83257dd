"""3-1: a child context holding one step; the step returns the input, the child its result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    # A plain lambda: the child context gets no name.
    return context.run_in_child_context(lambda child: child.step(lambda _: event))
