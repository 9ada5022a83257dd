"""5-6: invoke a target that fails, catching the InvokeError; return a fallback value."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, InvokeError, durable_execution


@durable_execution
def handler(event: Any, context: DurableContext) -> str:
    try:
        return context.invoke(os.environ["TARGET_FUNCTION_NAME"], event)
    except InvokeError:
        return "fallback"
