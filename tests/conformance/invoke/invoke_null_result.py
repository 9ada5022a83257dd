"""5-4: invoke the echo target with a null payload; return its (null) result."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: Any, context: DurableContext) -> None:
    return context.invoke(os.environ["TARGET_FUNCTION_NAME"], None)
