"""9-15: iteration 1 waits 1 s before its step; on replay iteration 0 is not run again."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, MapConfig


def process(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    if index == 1:
        ctx.wait(Duration.from_seconds(1))
    return ctx.step(lambda _: item, name=item)


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    batch = context.map(
        ["r0", "r1"], process, name="suspend", config=MapConfig(max_concurrency=1)
    )
    return batch.get_results()
