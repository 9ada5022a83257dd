"""8-10: tolerated-failure-count 1; two failures exceed it and branch 2 never starts."""

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
        completion_config=CompletionConfig(tolerated_failure_count=1),
    )
    batch = context.parallel(
        [fail, fail, succeed], name="tolerated-exceeded", config=config
    )
    return {
        "completionReason": batch.completion_reason.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
