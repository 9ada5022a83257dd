"""5-10: invoke a failing target (error caught), then wait 1 s; the last replay re-raises the checkpointed error."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, InvokeError, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: Any, context: DurableContext) -> str:
    outcome: str
    try:
        context.invoke(os.environ["TARGET_FUNCTION_NAME"], event)
        outcome = "succeeded"
    except InvokeError:
        outcome = "caught"
    context.wait(Duration.from_seconds(1))
    return outcome
