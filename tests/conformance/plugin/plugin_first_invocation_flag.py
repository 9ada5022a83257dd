"""10-6: across a 2 s wait, the plugin sees the first invocation (first=true), then the replay (first=false)."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

from invocation_plugin import invocation_plugin


@durable_execution(plugins=[invocation_plugin()])
def handler(event: None, context: DurableContext) -> str:
    context.wait(Duration.from_seconds(2))
    return "wait completed"
