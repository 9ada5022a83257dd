"""5-3: invoke the echo target with a nested JSON object (the input); return the echoed object."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    return context.invoke(os.environ["TARGET_FUNCTION_NAME"], event)
