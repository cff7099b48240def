// Node `websocket` (WebSocket-Node) echo server for wsprobe's interop run: echoes text as text
// and binary as binary. Frame and message limits are raised to 64 MiB so the 16 MiB cases of
// Autobahn 9.x fit (the library's defaults are 1 MiB).
// Usage: node websocket-node-echo.js PORT_FILE  (binds 127.0.0.1:0 and writes the port there)
const fs = require('fs');
const http = require('http');
const WebSocketServer = require('websocket').server;

const httpServer = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({
  httpServer,
  autoAcceptConnections: false,
  maxReceivedFrameSize: 64 * 1024 * 1024,
  maxReceivedMessageSize: 64 * 1024 * 1024,
});
wss.on('request', (request) => {
  let conn;
  try {
    conn = request.accept(null, request.origin);
  } catch (e) {
    return;
  }
  conn.on('message', (m) => {
    if (m.type === 'utf8') conn.sendUTF(m.utf8Data);
    else conn.sendBytes(m.binaryData);
  });
  conn.on('error', () => {});
});
httpServer.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(httpServer.address().port)));
