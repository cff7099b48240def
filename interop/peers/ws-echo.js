// Node `ws` echo server for wsprobe's interop run: echoes text as text and binary as binary.
// Usage: node ws-echo.js PORT_FILE [deflate]  (binds 127.0.0.1:0 and writes the port to PORT_FILE;
// with `deflate`, permessage-deflate is negotiated with the library's defaults, else it is off)
const fs = require('fs');
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: process.argv[3] === 'deflate' });
wss.on('listening', () => fs.writeFileSync(process.argv[2], String(wss.address().port)));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
