"""10-3: a plugin's attempt hooks (user function start and end) for a step failing once, then succeeding."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.plugin import InvocationStartInfo, UserFunctionEndInfo, UserFunctionStartInfo
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

from plugin_records import Factory, RecordingPlugin, is_step

RETRY = create_retry_strategy(RetryStrategyConfig(
    max_attempts=3, initial_delay=Duration.from_seconds(1), jitter_strategy=JitterStrategy.NONE,
))


class AttemptPlugin(RecordingPlugin):
    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.capture(info)

    def on_user_function_start(self, info: UserFunctionStartInfo) -> None:
        if is_step(info):
            self.emit("attempt-start", n=info.attempt, op=info.operation_id)

    def on_user_function_end(self, info: UserFunctionEndInfo) -> None:
        if is_step(info):
            self.emit("attempt-end", n=info.attempt, outcome=info.outcome.value, op=info.operation_id)


@durable_step
def unreliable(step_context: StepContext) -> str:
    if step_context.attempt == 1:
        raise RuntimeError("first attempt fails")
    return "Operation succeeded"


@durable_execution(plugins=[Factory(lambda: AttemptPlugin("CONFPLUGIN"))])
def handler(event: None, context: DurableContext) -> str:
    return context.step(unreliable(), config=StepConfig(retry_strategy=RETRY))
