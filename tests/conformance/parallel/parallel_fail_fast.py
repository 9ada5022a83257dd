"""8-6: tolerated-failure-count 0; branch 1 fails, so branch 2 never starts."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, ParallelConfig


def succeed(ctx: DurableContext) -> str:
    return "ok"


def fail(ctx: DurableContext) -> str:
    raise RuntimeError("branch 1 failed")


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = ParallelConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(tolerated_failure_count=0),
    )
    batch = context.parallel([succeed, fail, succeed], name="failfast", config=config)
    return {
        "completionReason": batch.completion_reason.value,
        "status": batch.status.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
