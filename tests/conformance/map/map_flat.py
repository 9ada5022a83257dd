"""9-12: FLAT nesting; each item's step sits directly under the Map context."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import MapConfig, NestingType


def process(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    return ctx.step(lambda _: item, name=item)


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    config = MapConfig(max_concurrency=1, nesting_type=NestingType.FLAT)
    return context.map(["fa", "fb"], process, name="flat", config=config).get_results()
