"""5-12: invoke the echo target, then a step that processes the invoke's result."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: Any, context: DurableContext) -> str:
    echoed: Any = context.invoke(os.environ["TARGET_FUNCTION_NAME"], event)
    return context.step(lambda _: f"processed: {echoed}")
