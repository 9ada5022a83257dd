"""5-11: a step, then an invoke of the echo target with the step's result."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: Any, context: DurableContext) -> Any:
    prepared: dict[str, str] = context.step(lambda _: {"prepared": "by step"})
    return context.invoke(os.environ["TARGET_FUNCTION_NAME"], prepared)
