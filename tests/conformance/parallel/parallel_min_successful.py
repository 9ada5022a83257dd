"""8-8: min-successful 2 of four branches; the batch stops after two successes."""

from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, ParallelConfig


def constant(value: str) -> Callable[[DurableContext], str]:
    def branch(ctx: DurableContext) -> str:
        return value

    return branch


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = ParallelConfig(
        max_concurrency=1, completion_config=CompletionConfig(min_successful=2)
    )
    branches = [constant(f"b{i}") for i in range(4)]
    batch = context.parallel(branches, name="min-successful", config=config)
    return {
        "completionReason": batch.completion_reason.value,
        "successCount": batch.success_count,
        "totalCount": batch.total_count,
    }
