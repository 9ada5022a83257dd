"""4-5: a callback with a 10-second heartbeat timeout, kept alive by a heartbeat, then completed."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = CallbackConfig(heartbeat_timeout=Duration.from_seconds(10))
    callback = context.create_callback(name=event, config=config)
    return callback.result()
