"""9-8: tolerated-failure-count 1 with item 1 failing; all three items run."""

from collections.abc import Sequence
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, MapConfig


def process(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    if item == "fail":
        raise RuntimeError(f"item {index} failed")
    return item


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = MapConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(tolerated_failure_count=1),
    )
    batch = context.map(["ok", "fail", "ok"], process, name="tolerated", config=config)
    return {
        "completionReason": batch.completion_reason.value,
        "status": batch.status.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
