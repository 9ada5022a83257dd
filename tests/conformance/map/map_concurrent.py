"""9-11: three items, two at a time; results come back in item order."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import MapConfig


def process(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    return f"r{index}"


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    batch = context.map(
        ["i0", "i1", "i2"], process, name="concurrent", config=MapConfig(max_concurrency=2)
    )
    return batch.get_results()
