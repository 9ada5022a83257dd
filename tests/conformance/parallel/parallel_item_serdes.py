"""8-15: a per-branch serde stores each result as {"wrapped": v} and reads v back."""

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import ParallelConfig
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


class WrappingSerDes(SerDes[Any]):
    def serialize(self, value: Any, serdes_context: SerDesContext) -> str:
        return json.dumps({"wrapped": value})

    def deserialize(self, data: str, serdes_context: SerDesContext) -> Any:
        return json.loads(data)["wrapped"]


def branch_x(ctx: DurableContext) -> str:
    return "x"


def branch_y(ctx: DurableContext) -> str:
    return "y"


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    config = ParallelConfig(max_concurrency=1, item_serdes=WrappingSerDes())
    return context.parallel([branch_x, branch_y], name="serde", config=config).get_results()
