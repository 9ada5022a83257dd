"""5-2: invoke the echo target with `event["payload"]`, the operation named `event["name"]`."""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> Any:
    return context.invoke(
        os.environ["TARGET_FUNCTION_NAME"], event["payload"], name=event["name"]
    )
