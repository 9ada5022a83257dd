"""B4's durable function: the order's shape with zero-latency work.

A step, a parallel of four steps, a durable wait of the SDK's minimum
(1 s: `DurableContext.wait` rejects anything shorter), and a final step.
Written against aws-durable-execution-sdk-python 3.0.0, unchanged.

`event` may carry `orderId` and `workMs` (milliseconds each worker step
sleeps; 0 by default, so only the engine's own cost is measured).
"""

import time

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

WORKERS = ("inventory", "payment", "shipping", "tax")


def _worker(name: str, order_id: str, work_ms: int):
    def branch(child: DurableContext) -> dict:
        def work(_step_context) -> dict:
            if work_ms:
                time.sleep(work_ms / 1000)
            return {"worker": name, "orderId": order_id, "ok": True}

        return child.step(work, name=f"{name}-check")

    return branch


@durable_execution
def handler(event: dict, context: DurableContext) -> dict:
    event = event or {}
    order_id = str(event.get("orderId", "order-1"))
    work_ms = int(event.get("workMs", 0))

    validated = context.step(
        lambda _: {"orderId": order_id, "valid": True}, name="validate-input"
    )
    batch = context.parallel(
        [_worker(name, order_id, work_ms) for name in WORKERS],
        name="parallel-workers",
    )
    batch.throw_if_error()
    results = batch.get_results()
    context.wait(Duration.from_seconds(1), name="wait-before-finalize")
    return context.step(
        lambda _: {
            "orderId": validated["orderId"],
            "status": "CONFIRMED",
            "workers": [result["worker"] for result in results],
        },
        name="finalize-order",
    )
