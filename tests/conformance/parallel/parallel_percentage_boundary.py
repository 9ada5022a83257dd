"""8-22: tolerated-failure-percentage 25 with exactly one of four failing; all run."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, ParallelConfig


def fail(ctx: DurableContext) -> str:
    raise RuntimeError("branch 0 failed")


def succeed(ctx: DurableContext) -> str:
    return "ok"


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = ParallelConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(tolerated_failure_percentage=25),
    )
    batch = context.parallel(
        [fail, succeed, succeed, succeed], name="pct-boundary", config=config
    )
    return {
        "completionReason": batch.completion_reason.value,
        "status": batch.status.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
