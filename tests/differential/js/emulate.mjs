// Runs durable functions on the local runner of AWS's JS testing library and
// writes their histories.
//
//     node tests/differential/js/emulate.mjs CASES.json RESULTS.json
//
// The runner is `LocalDurableTestRunner` of @aws/durable-execution-sdk-js-testing:
// the handler runs in this process against the library's checkpoint server (a
// worker thread), on real time (`skipTime: false`), so that waits and steps
// take as long as on `orders serve`. CASES.json is written by
// tests/differential/javascript.py: for each case the file and export of the
// function (the template's CodeUri and Handler, the very code `orders serve`
// runs), its input, environment and callback answers; and the functions it
// invokes, registered under the ARN its environment names them by.
//
// A function's file resolves @aws/durable-execution-sdk-js from its own
// directory, as on `orders serve`; the testing library uses this package's copy,
// pinned to the same version. The two meet only through the invocation's event,
// which the SDK recognizes across copies.
//
// Each case's history is written as GetDurableExecutionHistory answers it: a
// timestamp as epoch seconds, not the runner's Date objects. The results go to
// a file because the functions log to stdout.
import { readFile, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { LocalDurableTestRunner, WaitingOperationStatus } from "@aws/durable-execution-sdk-js-testing";

const [casesPath, resultsPath] = process.argv.slice(2);
const { cases, functions, limit_seconds: limitSeconds } = JSON.parse(await readFile(casesPath, "utf8"));

// An export of a file, as Lambda's Node.js runtime loads it (an ES module or CommonJS).
async function load({ module, export: name }) {
  const loaded = await import(pathToFileURL(module).href);
  const found = loaded[name] ?? loaded.default?.[name];
  if (typeof found !== "function") {
    throw new Error(`${module} exports no function ${name}`);
  }
  return found;
}

// Tells when the runner's invocations of a handler end. The runner shows no
// history until the execution has ended, and records an InvocationCompleted as
// soon as the handler returns: the end is observed on the handler itself.
class Invocations {
  running = 0;
  #waiting = [];

  observe(handler) {
    return async (event, context) => {
      this.running += 1;
      try {
        return await handler(event, context);
      } finally {
        this.running -= 1;
        if (this.running === 0) {
          for (const resolve of this.#waiting.splice(0)) resolve();
        }
      }
    };
  }

  // Resolves once no invocation is under way. The runner posts an ended
  // invocation's record to its checkpoint server in the promise callbacks that
  // follow the handler's return; the next turn of the event loop comes after
  // them, so whatever is sent then is recorded after that InvocationCompleted.
  async ended() {
    if (this.running > 0) {
      await new Promise((resolve) => this.#waiting.push(resolve));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// Answers one callback as tests/differential/drive.py does on orders serve:
// once it has started and the invocation that created it has ended, after the
// action's Delay, with the action's payload (a success's Result is its JSON).
// The action names its callback exactly; a case's actions are answered in turn.
async function answer(runner, invocations, action) {
  const callback = runner.getOperation(action.CallbackName);
  await callback.waitForData(WaitingOperationStatus.STARTED);
  await invocations.ended();
  if (action.Delay) {
    await new Promise((resolve) => setTimeout(resolve, action.Delay * 1000));
  }
  switch (action.Operation.toLowerCase()) {
    case "success":
      return callback.sendCallbackSuccess(action.Payload === undefined ? undefined : JSON.stringify(action.Payload));
    case "failure":
      return callback.sendCallbackFailure(action.Payload);
    case "heartbeat":
      return callback.sendCallbackHeartbeat();
    default:
      throw new Error(`unknown callback operation ${action.Operation}`);
  }
}

// A history event with its Dates as epoch seconds, as the API serializes a timestamp.
function asServed(value) {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(asServed);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, asServed(member)]));
  }
  return value;
}

async function run(entry) {
  const invocations = new Invocations();
  const runner = new LocalDurableTestRunner({ handlerFunction: invocations.observe(await load(entry)) });
  for (const [arn, target] of Object.entries(functions)) {
    if (target.durable) {
      runner.registerDurableFunction(arn, await load(target));
    } else {
      runner.registerFunction(arn, await load(target));
    }
  }
  // The handlers read their environment when they run; the cases run one at a time.
  Object.assign(process.env, entry.environment);
  const problems = [];
  let timer;
  const limit = new Promise((resolve) => {
    timer = setTimeout(() => resolve("limit"), limitSeconds * 1000);
  });
  const running = runner.run({ payload: entry.input });
  // Not awaited: an action whose callback never starts leaves the run to end without it.
  void (async () => {
    for (const action of entry.actions) {
      await answer(runner, invocations, action);
    }
  })().catch((error) => problems.push(`answering its callbacks failed: ${error}`));
  const ended = await Promise.race([running, limit]);
  clearTimeout(timer);
  if (ended === "limit") {
    return { events: [], problems: [`did not end within ${limitSeconds} s`] };
  }
  return { events: asServed(ended.getHistoryEvents()), status: ended.getStatus(), problems };
}

await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
const results = [];
try {
  for (const entry of cases) {
    try {
      results.push({ case: entry, ...(await run(entry)) });
    } catch (error) {
      results.push({ case: entry, events: [], problems: [`${error?.stack ?? error}`] });
    }
  }
} finally {
  await LocalDurableTestRunner.teardownTestEnvironment();
}
await writeFile(resultsPath, JSON.stringify(results, null, 2));
// A case that did not end leaves its runner's timers behind.
process.exit(0);
