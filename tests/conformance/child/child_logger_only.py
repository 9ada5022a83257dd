"""3-17: a child context that only logs the input (replay logging enabled) and returns it, then a wait.

The logger's replay source is rebound to "never replaying", so a (wrong)
re-execution of the completed child on replay would log the input again.
"""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import Duration


@durable_with_child_context
def log_child(child: DurableContext, value: str) -> str:
    child.logger.with_is_replaying(lambda: False).info(value)
    return value


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    result: str = context.run_in_child_context(log_child(event))
    context.wait(Duration.from_seconds(1))
    return result
