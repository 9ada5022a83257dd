"""5-14: two invokes in sequence (TARGET_FUNCTION_NAME_1, then _2), each suspending the execution."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: Any, context: DurableContext) -> list[Any]:
    first: Any = context.invoke(os.environ["TARGET_FUNCTION_NAME_1"], event)
    second: Any = context.invoke(os.environ["TARGET_FUNCTION_NAME_2"], event)
    return [first, second]
