"""3-15: a child context whose body raises before any durable operation; the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context


@durable_with_child_context
def raising_child(child: DurableContext) -> str:
    raise ValueError("child context body failed")


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    return context.run_in_child_context(raising_child())
