"""2-5: a wait given in hours (1 hour), checkpointed as 3600 seconds."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    context.wait(Duration.from_hours(1))
    return "wait completed"
