"""8-5: parallel over no branches completes at once with an empty result."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: None, context: DurableContext) -> list:
    return context.parallel([], name="empty").get_results()
