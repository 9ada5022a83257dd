"""5-16: invoke the echo target with a custom result serdes that upper-cases the result as received.

The echoed result `"hello"` (JSON text) is read as the text upper-cased,
`"HELLO"` with its quotes, which the handler returns.
"""

import os
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import InvokeConfig
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


class UpperCaseResultSerDes(SerDes[str]):
    """Reads a result as its serialized text in upper case."""

    def serialize(self, value: str, _: SerDesContext) -> str:
        return value

    def deserialize(self, data: str, _: SerDesContext) -> str:
        return data.upper()


@durable_execution
def handler(event: Any, context: DurableContext) -> str:
    return context.invoke(
        os.environ["TARGET_FUNCTION_NAME"],
        event,
        config=InvokeConfig(serdes_result=UpperCaseResultSerDes()),
    )
