"""2-1: one 2 s wait; the execution resumes and succeeds when it has elapsed."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    context.wait(Duration.from_seconds(2))
    return "wait completed"
