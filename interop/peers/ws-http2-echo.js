// Node `ws` echo over HTTP/2 (RFC 8441) for wsprobe's interop run: Node's own `http2` module
// serves h2c (prior knowledge) with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, and each extended
// CONNECT with `:protocol websocket` becomes a `ws` WebSocket running on the HTTP/2 stream.
// Echoes text as text and binary as binary, like ws-echo.js, with the same 64 MiB limit.
// Usage: node ws-http2-echo.js PORT_FILE  (binds 127.0.0.1:0 and writes the port to PORT_FILE)
//
// `ws` has no public API for a WebSocket on a stream it did not upgrade itself; this uses the
// one its own server uses after an HTTP/1.1 upgrade, `new WebSocket(null, undefined, options)`
// then `setSocket(duplex, head, options)`, which ws documents as taking any Duplex (it only
// calls setTimeout/setNoDelay when present). It is marked private: a new ws version may change
// it, which this peer's interop run would show at once.
const fs = require('fs');
const http2 = require('http2');
const { WebSocket, WebSocketServer } = require('ws');

// A server that listens on nothing, only to hold ws's server defaults (autoPong, limits).
const { options } = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: false });

const server = http2.createServer({ settings: { enableConnectProtocol: true } });
server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
    stream.respond({ ':status': headers[':method'] === 'CONNECT' ? 501 : 404 });
    stream.end();
    return;
  }
  if (headers['sec-websocket-version'] !== '13') {
    stream.respond({ ':status': 400, 'sec-websocket-version': '13' });
    stream.end();
    return;
  }
  // As ws's server does without handleProtocols: the first subprotocol offered is selected.
  const offered = (headers['sec-websocket-protocol'] || '').split(',').map((p) => p.trim())
    .filter((p) => p !== '');
  const response = { ':status': 200 };
  if (offered.length > 0) response['sec-websocket-protocol'] = offered[0];
  stream.respond(response);
  const ws = new WebSocket(null, undefined, options);
  ws.setSocket(stream, Buffer.alloc(0), {
    allowSynchronousEvents: options.allowSynchronousEvents,
    maxBufferedChunks: options.maxBufferedChunks,
    maxFragments: options.maxFragments,
    maxPayload: options.maxPayload,
    skipUTF8Validation: options.skipUTF8Validation,
  });
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.on('sessionError', () => {});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(server.address().port)));
