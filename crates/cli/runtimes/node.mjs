// The Node.js runtime `orders serve` starts for a `nodejs*` function when npm's
// aws-lambda-ric cannot be found beside it: the Lambda Runtime API loop of the
// managed nodejs20.x/22.x runtimes, with no dependencies.
//
// Started as `node node.mjs` in the function's directory (LAMBDA_TASK_ROOT),
// with the handler in _HANDLER. It loads the handler the way Lambda does
// (CommonJS or ES module, nested paths, default exports), answers each
// invocation with the handler's result or error, and reports a handler that
// cannot be loaded to /runtime/init/error with Lambda's error types
// (Runtime.ImportModuleError, Runtime.HandlerNotFound, ...).
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const API = process.env.AWS_LAMBDA_RUNTIME_API ?? "";
const HANDLER = process.env._HANDLER || process.argv[2];
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();
const [HOST, PORT] = API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = "/2018-06-01/runtime";

/** One request to the Runtime API. */
function request(method, route, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const sent = http.request(
      {
        host: HOST,
        port: Number(PORT),
        path: BASE + route,
        method,
        agent,
        headers: {
          ...(data ? { "Content-Type": "application/json", "Content-Length": data.length } : {}),
          ...headers,
        },
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    sent.on("error", reject);
    sent.end(data);
  });
}

/** An error as the Runtime API takes it: {errorType, errorMessage, trace}. */
function errorBody(error) {
  try {
    if (
      error instanceof Error ||
      (error && typeof error.name === "string" && typeof error.message === "string" && typeof error.stack === "string")
    ) {
      return { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split("\n") };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return { errorType: "handled", errorMessage: "the error could not be read", trace: [] };
  }
}

class RuntimeError extends Error {
  constructor(name, message, stack) {
    super(message);
    this.name = name;
    if (stack) this.stack = stack;
  }
}

// Logs: one record per console call, in Lambda's text or JSON format,
// filtered by the application log level. With _LAMBDA_TELEMETRY_LOG_FD,
// each record is one frame on that descriptor, as the managed runtime
// writes it (type, length, timestamp in microseconds, message; big-endian),
// so a record of several lines stays one log event; else one line on
// stdout, its newlines turned into carriage returns.
let currentRequestId;
const TELEMETRY_FD = Number.parseInt(process.env._LAMBDA_TELEMETRY_LOG_FD ?? "", 10);
delete process.env._LAMBDA_TELEMETRY_LOG_FD;
// The frame types of the JSON and text formats, by level.
const FRAME_LEVELS = { TRACE: 0x04, DEBUG: 0x08, INFO: 0x0c, WARN: 0x10, ERROR: 0x14, FATAL: 0x18 };

function writeRecord(level, line) {
  if (Number.isNaN(TELEMETRY_FD)) {
    process.stdout.write(line.replace(/\n/g, "\r") + "\n");
    return;
  }
  const message = Buffer.from(line, "utf8");
  const header = Buffer.alloc(16);
  header.writeUInt32BE((0xa55a0002 | (JSON_FORMAT ? 0 : 1) | (FRAME_LEVELS[level] ?? 0)) >>> 0, 0);
  header.writeUInt32BE(message.length, 4);
  header.writeBigUInt64BE(BigInt(Date.now()) * 1000n, 8);
  fs.writeSync(TELEMETRY_FD, Buffer.concat([header, message]));
}
const JSON_FORMAT = (process.env.AWS_LAMBDA_LOG_FORMAT || "").toUpperCase() === "JSON";
const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const LOWEST = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || "").toUpperCase()] ?? 1;

function log(level, args) {
  if (LEVELS[level] < LOWEST) return;
  const timestamp = new Date().toISOString();
  let line;
  if (JSON_FORMAT) {
    const record = {
      timestamp,
      level,
      requestId: currentRequestId,
      message: args.length === 1 && typeof args[0] !== "string" ? args[0] : format(...args),
    };
    const error = args.find((arg) => arg instanceof Error);
    if (error) {
      Object.assign(record, { errorType: error.name, errorMessage: error.message, stackTrace: String(error.stack).split("\n") });
    }
    try {
      line = JSON.stringify(record);
    } catch {
      record.message = format(...args);
      line = JSON.stringify(record);
    }
  } else {
    line = [timestamp, currentRequestId, level, format(...args)].join("\t");
  }
  writeRecord(level, line);
}

for (const [method, level] of [
  ["trace", "TRACE"],
  ["debug", "DEBUG"],
  ["info", "INFO"],
  ["log", "INFO"],
  ["warn", "WARN"],
  ["error", "ERROR"],
]) {
  console[method] = (...args) => log(level, args);
}

async function initFailed(error) {
  const body = errorBody(error);
  log("ERROR", ["Init Error", "\t" + JSON.stringify(body)]);
  try {
    await request("POST", "/init/error", JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": body.errorType });
  } catch {
    // The engine is gone: nothing to report to.
  }
  process.exit(1);
}

/** The `type` of the nearest package.json above `directory`. */
function packageType(directory) {
  for (;;) {
    if (directory.endsWith(`${path.sep}node_modules`)) return undefined;
    const manifest = path.join(directory, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8")).type;
      } catch {
        return undefined;
      }
    }
    const parent = path.dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** Loads the handler named `dir/module.export.path`, as Lambda does. */
async function loadHandler() {
  if (!HANDLER) throw new RuntimeError("Runtime.MalformedHandlerName", "Bad handler");
  if (HANDLER.includes("..")) {
    throw new RuntimeError(
      "Runtime.MalformedHandlerName",
      `'${HANDLER}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(HANDLER);
  const moduleRoot = HANDLER.slice(0, HANDLER.length - base.length);
  const parts = base.match(/^([^.]*)\.(.*)$/);
  if (!parts) throw new RuntimeError("Runtime.MalformedHandlerName", "Bad handler");
  const [, moduleName, exportPath] = parts;
  const file = path.resolve(TASK_ROOT, moduleRoot, moduleName);
  const require = createRequire(path.join(TASK_ROOT, "index.js"));
  const isFile = (candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile();
  let loaded;
  try {
    if (isFile(file)) loaded = require(file);
    else if (isFile(`${file}.js`)) {
      loaded =
        packageType(path.dirname(file)) === "module" ? await import(pathToFileURL(`${file}.js`).href) : require(`${file}.js`);
    } else if (isFile(`${file}.mjs`)) loaded = await import(pathToFileURL(`${file}.mjs`).href);
    else if (isFile(`${file}.cjs`)) loaded = require(`${file}.cjs`);
    else loaded = require(require.resolve(moduleName, { paths: [TASK_ROOT, path.join(TASK_ROOT, moduleRoot)] }));
  } catch (error) {
    if (error instanceof SyntaxError) throw new RuntimeError("Runtime.UserCodeSyntaxError", String(error), error.stack);
    if (error && error.code === "MODULE_NOT_FOUND") throw new RuntimeError("Runtime.ImportModuleError", String(error));
    throw error;
  }
  const find = (root) =>
    exportPath
      .split(".")
      .reduce((value, key) => (value && (typeof value === "object" || typeof value === "function") ? value[key] : undefined), root);
  let handler = find(loaded);
  if (handler === undefined && loaded && typeof loaded === "object" && "default" in loaded) handler = find(loaded.default);
  if (handler === undefined) throw new RuntimeError("Runtime.HandlerNotFound", `${HANDLER} is undefined or not exported`);
  if (typeof handler !== "function") throw new RuntimeError("Runtime.HandlerNotFound", `${HANDLER} is not a function`);
  return handler;
}

// A callback-style handler's answer waits for the event loop to drain.
let whenDrained = null;
process.on("beforeExit", () => {
  const answer = whenDrained;
  whenDrained = null;
  if (answer) answer();
});

let running = null;
process.on("uncaughtException", (error) => fault(error, "Uncaught Exception"));
process.on("unhandledRejection", (reason) =>
  fault(new RuntimeError("Runtime.UnhandledPromiseRejection", String(reason)), "Unhandled Promise Rejection"),
);

async function fault(error, what) {
  log("ERROR", [what, "\t" + JSON.stringify(errorBody(error))]);
  if (running) {
    try {
      await request("POST", `/invocation/${encodeURIComponent(running)}/error`, JSON.stringify(errorBody(error)));
    } catch {
      // The engine is gone.
    }
    process.exit(129);
  }
  await initFailed(error);
}

function context(headers, id, answer) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const parsed = (value) => (value ? JSON.parse(value) : undefined);
  let waits = true;
  return {
    get callbackWaitsForEmptyEventLoop() {
      return waits;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waits = value;
    },
    succeed: (result) => answer(null, result),
    fail: (error) => answer(error ?? "handled"),
    done: (error, result) => answer(error, result),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parsed(headers["lambda-runtime-client-context"]),
    identity: parsed(headers["lambda-runtime-cognito-identity"]),
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    awsRequestId: id,
    tenantId: headers["lambda-runtime-aws-tenant-id"],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

/** Takes one invocation, runs the handler on it, and answers. */
async function invokeOnce(handler) {
  const next = await request("GET", "/invocation/next");
  const headers = next.headers;
  const id = headers["lambda-runtime-aws-request-id"];
  currentRequestId = id;
  running = id;
  if (headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
  else delete process.env._X_AMZN_TRACE_ID;
  return new Promise((resolve) => {
    let answered = false;
    const answer = async (error, result) => {
      if (answered) return;
      answered = true;
      whenDrained = null;
      if (error !== undefined && error !== null) {
        const body = errorBody(error);
        log("ERROR", ["Invoke Error", "\t" + JSON.stringify(body)]);
        await request("POST", `/invocation/${encodeURIComponent(id)}/error`, JSON.stringify(body));
      } else {
        let payload;
        try {
          payload = JSON.stringify(result === undefined ? null : result);
        } catch {
          answered = false;
          return answer(new RuntimeError("Runtime.JSONStringifyError", "Unable to stringify response body"));
        }
        await request("POST", `/invocation/${encodeURIComponent(id)}/response`, payload);
      }
      running = null;
      resolve();
    };
    let invocationContext;
    const callback = (error, result) => {
      if (error !== undefined && error !== null) return answer(error);
      if (!invocationContext.callbackWaitsForEmptyEventLoop) return answer(null, result);
      whenDrained = () => answer(null, result);
    };
    try {
      invocationContext = context(headers, id, answer);
      const event = JSON.parse(next.body);
      whenDrained = () => answer(null, null);
      const returned = handler(event, invocationContext, callback);
      if (returned && typeof returned.then === "function") {
        returned.then(
          (value) => answer(null, value),
          (error) => answer(error ?? new Error("handled")),
        );
      }
    } catch (error) {
      answer(error);
    }
  });
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  await initFailed(error);
}
for (;;) await invokeOnce(handler);
