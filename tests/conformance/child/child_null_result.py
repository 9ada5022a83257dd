"""3-16: a child context that returns None without any durable operation; the execution returns null."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context


@durable_with_child_context
def null_child(child: DurableContext) -> None:
    return None


@durable_execution
def handler(event: None, context: DurableContext) -> None:
    return context.run_in_child_context(null_child())
