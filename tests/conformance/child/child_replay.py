"""3-9: a child context (one step returning the input), then a wait; replay takes the child's checkpointed result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    result: str = context.run_in_child_context(lambda child: child.step(lambda _: event))
    context.wait(Duration.from_seconds(1))
    return result
