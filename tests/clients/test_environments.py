"""Execution environments as Lambda manages them, on `orders serve` with a
template of twenty Node.js functions: none runs before it is invoked, a
warm one is reused, an idle one is stopped, a change to the code is picked
up without a restart, and a function that cannot initialize answers each
invocation with its init error and is never restarted in the background.

These run real processes and wait on real time (an idle timeout of 1 s)."""

import json
import os
import pathlib
import time

import pytest

from conftest import Server, wait_for

FUNCTIONS = 20

HANDLER = """exports.handler = async () => ({ pid: process.pid, greeting: "GREETING" });\n"""


def template() -> str:
    functions = "".join(
        f"""
  Function{index}:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub ${{AWS::StackName}}-F{index}
      CodeUri: app
      Handler: index.handler
""" for index in range(FUNCTIONS))
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs22.x
    Timeout: 30
Resources:{functions}
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub ${{AWS::StackName}}-Broken
      CodeUri: broken
      Handler: index.handler
"""


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The parent's pid is the second field after the command in parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def rss_kb(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("environments")
    (root / "app").mkdir()
    (root / "app" / "index.js").write_text(HANDLER.replace("GREETING", "v1"))
    (root / "broken").mkdir()
    (root / "template.yaml").write_text(template())
    server = Server(root / "template.yaml", "env", cwd=root,
                    extra=["--no-explorer", "--idle-timeout", "1"])
    server.root = root
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(served):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    return session.client("lambda", endpoint_url=served.url,
                          config=Config(read_timeout=60, retries={"max_attempts": 0}))


def invoke(client, served, function):
    response = client.invoke(FunctionName=served.name(function), Payload=b"{}")
    return response, json.loads(response["Payload"].read())


def test_no_environment_runs_at_launch_and_a_warm_one_is_reused_then_stopped_when_idle(served, client):
    time.sleep(1)
    assert children(served.process.pid) == [], "no process before the first invocation"
    print(f"\norders serve with {FUNCTIONS + 1} functions, at launch: RSS {rss_kb(served.process.pid)} kB, "
          "no other process")
    _, first = invoke(client, served, "F3")
    _, again = invoke(client, served, "F3")
    assert first["pid"] == again["pid"], "the warm environment answers again"
    # One process (its runtime may run under a launcher of its own).
    assert len(children(served.process.pid)) == 1
    assert "cold start" in served.output() and "init_duration" in served.output()
    # Idle past --idle-timeout: stopped, and counted out.
    wait_for(lambda: children(served.process.pid) == [], "the idle environment to stop", timeout=15)
    # The stop is logged once the process is reaped, a moment after it leaves the process table.
    wait_for(lambda: "execution environment stopped" in served.output(), "the stop to be logged", timeout=5)
    _, later = invoke(client, served, "F3")
    assert later["pid"] != first["pid"], "the next invocation is a cold start"


def test_a_change_to_a_functions_code_is_picked_up_without_a_restart(served, client):
    _, before = invoke(client, served, "F5")
    assert before["greeting"] == "v1"
    (served.root / "app" / "index.js").write_text(HANDLER.replace("GREETING", "v2"))
    # The watcher sees the change within moments; the warm environment is replaced.
    after = wait_for(lambda: (lambda answer: answer if answer["greeting"] == "v2" else None)(
        invoke(client, served, "F5")[1]), "the new code to answer", timeout=15)
    assert after["pid"] != before["pid"]


def test_a_function_that_cannot_initialize_answers_each_invocation_and_is_not_restarted(served, client):
    for _ in range(3):
        began = time.monotonic()
        response, body = invoke(client, served, "Broken")
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Runtime.ImportModuleError", body
        assert time.monotonic() - began < 10
    time.sleep(2)
    # One try per invocation; nothing restarts in the background.
    tries = [line for line in served.output().splitlines()
             if "failed to initialize" in line and "function=env-Broken" in line]
    assert len(tries) == 3, served.output()
    assert not any(pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().find(b"broken") >= 0
                   for pid in children(served.process.pid) if os.path.exists(f"/proc/{pid}"))
    # Fixed: the next invocation picks it up.
    (served.root / "broken" / "index.js").write_text(HANDLER.replace("GREETING", "fixed"))
    response, body = invoke(client, served, "Broken")
    assert "FunctionError" not in response, body
    assert body["greeting"] == "fixed"
