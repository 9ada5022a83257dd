"""9-1: map "map" over the input names, one at a time; each item runs one step."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import MapConfig


def greet(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    return ctx.step(lambda _: f"Hello, {item}!", name=f"greet-{index}")


@durable_execution
def handler(event: list[str], context: DurableContext) -> list[str]:
    batch = context.map(event, greet, name="map", config=MapConfig(max_concurrency=1))
    return batch.get_results()
