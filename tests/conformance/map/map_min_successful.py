"""9-7: min-successful 2 of four items; the map stops after two successes."""

from collections.abc import Sequence
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, MapConfig


def process(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    return item


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = MapConfig(
        max_concurrency=1, completion_config=CompletionConfig(min_successful=2)
    )
    batch = context.map(
        ["i0", "i1", "i2", "i3"], process, name="min-successful", config=config
    )
    return {
        "completionReason": batch.completion_reason.value,
        "successCount": batch.success_count,
        "totalCount": batch.total_count,
    }
