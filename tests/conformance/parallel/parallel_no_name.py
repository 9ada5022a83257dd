"""8-2: parallel called without a name; the branches return their values directly."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import ParallelConfig


def alpha(ctx: DurableContext) -> str:
    return "alpha"


def beta(ctx: DurableContext) -> str:
    return "beta"


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    batch = context.parallel([alpha, beta], config=ParallelConfig(max_concurrency=1))
    return batch.get_results()
