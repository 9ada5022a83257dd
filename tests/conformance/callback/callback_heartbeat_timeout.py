"""4-4: a callback with a 5-second heartbeat timeout and no heartbeat; the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    config = CallbackConfig(heartbeat_timeout=Duration.from_seconds(5))
    callback = context.create_callback(name=event, config=config)
    return callback.result()
