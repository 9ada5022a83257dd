"""7-3: one wait_for_callback given only an inline submitter and no name; returns the callback's result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: None, context: DurableContext) -> str | None:
    return context.wait_for_callback(lambda callback_id, submitter_context: None)
