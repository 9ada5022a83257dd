"""5-9: invoke the echo target, then wait 1 s; the last replay takes the invoke's result from its checkpoint."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: Any, context: DurableContext) -> Any:
    result: Any = context.invoke(os.environ["TARGET_FUNCTION_NAME"], event)
    context.wait(Duration.from_seconds(1))
    return result
