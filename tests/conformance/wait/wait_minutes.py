"""2-4: a wait given in minutes (1 minute), checkpointed as 60 seconds."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    context.wait(Duration.from_minutes(1))
    return "wait completed"
