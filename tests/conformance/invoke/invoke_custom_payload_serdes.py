"""5-15: invoke the echo target with a custom payload serdes that upper-cases the payload's text values."""

import json
import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import InvokeConfig
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


class UpperCasePayloadSerDes(SerDes[dict[str, Any]]):
    """Writes an object as JSON with its string values in upper case."""

    def serialize(self, value: dict[str, Any], _: SerDesContext) -> str:
        return json.dumps(
            {key: item.upper() if isinstance(item, str) else item for key, item in value.items()}
        )

    def deserialize(self, data: str, _: SerDesContext) -> dict[str, Any]:
        return json.loads(data)


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> Any:
    return context.invoke(
        os.environ["TARGET_FUNCTION_NAME"],
        event,
        config=InvokeConfig(serdes_payload=UpperCasePayloadSerDes()),
    )
