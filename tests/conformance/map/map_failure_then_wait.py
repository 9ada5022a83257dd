"""9-18: a map with one tolerated failure, then a 1 s wait; replay keeps the failed item."""

from collections.abc import Sequence
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, Duration, MapConfig


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
    batch = context.map(["ok", "fail"], process, name="fail-then-wait", config=config)
    context.wait(Duration.from_seconds(1))
    return {
        "completionReason": batch.completion_reason.value,
        "status": batch.status.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
