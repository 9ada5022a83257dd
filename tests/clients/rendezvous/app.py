"""A plain function that meets the other invocations under way.

Each invocation writes its process id in a folder the event names, then
waits (up to 10 s) until `expected` invocations have, and answers with how
many it met. On Lambda concurrent invocations run at once, each in an
execution environment of its own, so they all meet.
"""

import os
import pathlib
import time


def handler(event: dict, context) -> dict:
    folder = pathlib.Path(event["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / context.aws_request_id).write_text(str(os.getpid()))
    deadline = time.monotonic() + 10
    while len(list(folder.iterdir())) < event["expected"] and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"met": len(list(folder.iterdir())), "pid": os.getpid()}
