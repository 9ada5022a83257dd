"""8-13: tolerated-failure-percentage 25 of four; the second failure (50%) stops the batch."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, ParallelConfig


def fail(ctx: DurableContext) -> str:
    raise RuntimeError("branch failed")


def succeed(ctx: DurableContext) -> str:
    return "ok"


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = ParallelConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(tolerated_failure_percentage=25),
    )
    batch = context.parallel(
        [fail, fail, succeed, succeed], name="tolerated-pct", config=config
    )
    return {
        "completionReason": batch.completion_reason.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
