"""1-6: a step with its own serdes, which upper-cases every string it serializes."""

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


def upper(value: Any) -> Any:
    """`value` with every string in it upper-cased."""
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, list):
        return [upper(item) for item in value]
    if isinstance(value, dict):
        return {key: upper(item) for key, item in value.items()}
    return value


class UppercaseSerDes(SerDes[Any]):
    """JSON, with strings upper-cased on the way out."""

    def serialize(self, value: Any, serdes_context: SerDesContext) -> str:
        return json.dumps(upper(value))

    def deserialize(self, data: str, serdes_context: SerDesContext) -> Any:
        return json.loads(data)


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    return context.step(lambda _: event, config=StepConfig(serdes=UppercaseSerDes()))
