"""9-16: four ~70 KB item results; the Map result exceeds 256 KB and is checkpointed as a summary."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import MapConfig

ITEM_CHARACTERS = 70 * 1024


def large(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    return item * ITEM_CHARACTERS


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, int]:
    batch = context.map(
        ["a", "b", "c", "d"], large, name="large", config=MapConfig(max_concurrency=1)
    )
    return {"successCount": batch.success_count, "totalCount": batch.total_count}
