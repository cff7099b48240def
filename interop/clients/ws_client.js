// Node `ws` client harness for Autobahn's fuzzing-server URL protocol. Written to that protocol
// only, so it runs unchanged against Autobahn's fuzzingserver and against `wsprobe run --client`:
//
//   NODE_PATH=interop/node/node_modules node ws_client.js [AGENT] [--deflate]
//
// The base URL is $WSPROBE_URL (default ws://127.0.0.1:9001; an argument starting with ws:// or
// wss:// overrides it), the agent name the other argument (default node-ws). It asks
// /getCaseCount, runs /runCase?case=N&agent=AGENT for every case echoing each message with its
// type (the library answers pings and the close handshake), then asks /updateReports?agent=AGENT.
// permessage-deflate is offered only with --deflate. A case that fails is reported on stderr and
// the next one runs; each case is bounded in time.
const WebSocket = require('ws');

const CASE_TIMEOUT_MS = 60000;
const CONTROL_TIMEOUT_MS = 30000;

let base = process.env.WSPROBE_URL || 'ws://127.0.0.1:9001';
let agent = 'node-ws';
let deflate = false;
for (const arg of process.argv.slice(2)) {
  if (arg === '--deflate') deflate = true;
  else if (/^wss?:\/\//.test(arg)) base = arg;
  else agent = arg;
}
base = base.replace(/\/+$/, '');

// Opens url, echoes (when `echo`) or collects text messages until the connection closes or
// `ms` pass; resolves with the collected texts and the first error, never rejects.
function session(url, echo, ms) {
  return new Promise((resolve) => {
    const texts = [];
    let failure = null;
    const ws = new WebSocket(url, {
      maxPayload: 64 * 1024 * 1024,
      perMessageDeflate: echo && deflate,
    });
    const timer = setTimeout(() => {
      failure = failure || new Error(`timed out after ${ms / 1000} s`);
      ws.terminate();
    }, ms);
    ws.on('message', (data, isBinary) => {
      if (echo) {
        if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
      } else if (!isBinary) {
        texts.push(data.toString());
      }
    });
    ws.on('error', (e) => { failure = failure || e; });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve({ texts, failure });
    });
  });
}

(async () => {
  const count = await session(`${base}/getCaseCount`, false, CONTROL_TIMEOUT_MS);
  const n = parseInt(count.texts[0], 10);
  if (!Number.isInteger(n)) {
    console.error(`getCaseCount: ${count.failure ? count.failure.message : 'no count received'}`);
    process.exit(1);
  }
  for (let i = 1; i <= n; i++) {
    const r = await session(`${base}/runCase?case=${i}&agent=${encodeURIComponent(agent)}`, true,
      CASE_TIMEOUT_MS);
    if (r.failure) console.error(`case ${i}/${n}: ${r.failure.message}`);
  }
  const done = await session(`${base}/updateReports?agent=${encodeURIComponent(agent)}`, false,
    CONTROL_TIMEOUT_MS);
  if (done.failure) {
    console.error(`updateReports: ${done.failure.message}`);
    process.exit(1);
  }
})();
