"""6-9: a {status, attempts} object as state, DONE once attempts reaches 2; returns the final object."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision


def check_job(state: dict, context: WaitForConditionCheckContext) -> dict:
    attempts = state["attempts"] + 1
    return {"status": "DONE" if attempts >= 2 else "PENDING", "attempts": attempts}


def while_pending(state: dict, attempt: int) -> WaitForConditionDecision:
    if state["status"] == "PENDING":
        return WaitForConditionDecision.continue_waiting(Duration.from_seconds(1))
    return WaitForConditionDecision.stop_polling()


@durable_execution
def handler(event: None, context: DurableContext) -> dict:
    config = WaitForConditionConfig(wait_strategy=while_pending,
                                    initial_state={"status": "PENDING", "attempts": 0})
    return context.wait_for_condition(check_job, config=config)
