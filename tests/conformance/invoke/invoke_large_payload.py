"""5-7: invoke the echo target with a ~200 KB payload (near the 256 KB checkpoint limit)."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

PAYLOAD_BYTES = 200 * 1024


@durable_execution
def handler(event: Any, context: DurableContext) -> int:
    payload: dict[str, str] = {"data": "x" * PAYLOAD_BYTES}
    echoed: dict[str, str] = context.invoke(os.environ["TARGET_FUNCTION_NAME"], payload)
    return len(echoed["data"])
