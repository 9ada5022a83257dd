"""8-12: FLAT nesting; the branch steps sit directly under the Parallel context."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import NestingType, ParallelConfig


def branch_a(ctx: DurableContext) -> str:
    return ctx.step(lambda _: "fa", name="fa")


def branch_b(ctx: DurableContext) -> str:
    return ctx.step(lambda _: "fb", name="fb")


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    config = ParallelConfig(max_concurrency=1, nesting_type=NestingType.FLAT)
    return context.parallel([branch_a, branch_b], name="flat", config=config).get_results()
