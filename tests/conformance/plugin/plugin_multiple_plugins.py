"""10-5: two plugins registered together (A, then B) both receive the invocation hooks."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from invocation_plugin import invocation_plugin


@durable_execution(plugins=[invocation_plugin("CONFPLUGIN-A"), invocation_plugin("CONFPLUGIN-B")])
def handler(event: str, context: DurableContext) -> str:
    return context.step(lambda _: f"Hello, {event}!")
