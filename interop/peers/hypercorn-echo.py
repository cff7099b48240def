"""Hypercorn (ASGI; h11, hyper-h2 and wsproto) echo server for wsprobe's interop run.

Binds 127.0.0.1:PORT (argv[1]) and serves HTTP/1.1 upgrades and, on a connection that starts
with the HTTP/2 preface (h2c, prior knowledge), RFC 8441 extended CONNECT, which hypercorn
enables by default. Echoes text as text and binary as binary; plain HTTP requests get 404.
"""
import asyncio
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config


async def app(scope, receive, send):
    if scope["type"] == "websocket":
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            if message.get("bytes") is not None:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
            else:
                await send({"type": "websocket.send", "text": message["text"]})
    elif scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


config = Config()
config.bind = [f"127.0.0.1:{sys.argv[1]}"]
config.accesslog = None
# Room for the 16 MiB messages of Autobahn 9.x.
config.websocket_max_message_size = 2**25
# Over HTTP/2 hypercorn never ends the stream of a WebSocket the client closed; the stream ends
# only when hypercorn drops the idle connection, after keep_alive_timeout. At its default, 5 s,
# that drop would race wsprobe's 5 s wait for the server's close in the cases with a 5 s
# timeout, and the verdict would depend on which came first; a minute is beyond every wait.
config.keep_alive_timeout = 60
asyncio.run(serve(app, config))
