// Runs the Spotlight sidecar of the `@spotlightjs/spotlight` npm package for the tests, and
// prints on stdout one JSON line per envelope item it receives, with what the sidecar's own
// formatters (the ones `spotlight tail` uses) make of it.
//
//   node sidecar.mjs <package directory> <port, 0 for any free one>
//
// The first line is `{"listening": <port>}`. Each item line is
// `{"type": …, "formatter": true|false, "shown": true|false, "payload": …}`: `formatter` says
// whether the sidecar has a formatter for the item type (events, transactions, logs), `shown`
// whether it formatted the item (false: its type guard refused it, as it refuses a message
// event without a top-level `message`). An envelope the sidecar cannot parse prints
// `{"unparsed": <bytes>}`.
//
// The package's own entry point (`dist/run.js`) reports the sidecar's errors and traces to
// Sentry; this script starts the server from `dist/server/main.js` instead, so the sidecar
// sends nothing anywhere: it only listens, and the tests post to it over 127.0.0.1.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [packageDir, portArg] = process.argv.slice(2);
if (!packageDir || portArg === undefined) {
  console.error("usage: node sidecar.mjs <package directory> <port>");
  process.exit(2);
}
const load = (path) => import(pathToFileURL(join(packageDir, "dist", "server", path)).href);

const { setupSpotlight } = await load("main.js");
const { getBuffer } = await load("utils/getBuffer.js");
const { applyFormatter } = await load("formatters/index.js");
const { formatters } = await load("formatters/json/index.js");

const server = await setupSpotlight({ port: Number(portArg), isStandalone: true });
if (!server) {
  console.error(`port ${portArg} is taken by another sidecar`);
  process.exit(1);
}

getBuffer().subscribe((container) => {
  const parsed = container.getParsedEnvelope();
  if (!parsed) {
    console.log(JSON.stringify({ unparsed: container.getData().length }));
    return;
  }
  const [header, items] = parsed.envelope;
  for (const [itemHeader, payload] of items) {
    const type = itemHeader.type;
    const formatter = Object.prototype.hasOwnProperty.call(formatters, type);
    const shown = formatter ? applyFormatter(formatters, type, payload, header).length > 0 : false;
    const text = Buffer.isBuffer(payload) ? payload.toString("utf8") : payload;
    console.log(JSON.stringify({ type, formatter, shown, payload: text }));
  }
});

const address = server.address();
console.log(JSON.stringify({ listening: typeof address === "object" ? address.port : Number(portArg) }));
