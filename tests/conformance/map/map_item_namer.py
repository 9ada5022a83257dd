"""9-13: a custom item namer names each iteration "item-<item>"; items are multiplied by 10."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import MapConfig


def times_ten(ctx: DurableContext, item: int, index: int, items: Sequence[int]) -> int:
    return item * 10


def item_name(item: int, index: int) -> str:
    return f"item-{item}"


@durable_execution
def handler(event: list[int], context: DurableContext) -> list[int]:
    config = MapConfig(max_concurrency=1, item_namer=item_name)
    return context.map(event, times_ten, name="named-items", config=config).get_results()
