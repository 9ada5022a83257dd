// The same durable function, run under npm's aws-lambda-ric (installed here).
export { handler } from "../durable/index.mjs";
