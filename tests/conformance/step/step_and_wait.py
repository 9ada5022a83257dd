"""1-8: a step, then a 2 s wait; the replay after the wait skips the step."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    result = context.step(lambda _: "computed")
    context.wait(Duration.from_seconds(2))
    return result
