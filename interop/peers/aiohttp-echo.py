"""Python `aiohttp` echo server for wsprobe's interop run.

Binds 127.0.0.1:0, writes the port to the file given as argv[1], echoes text as text and binary
as binary. max_msg_size is raised to 2**25 so the 16 MiB cases of Autobahn 9.x fit. With a second
argument `deflate` it negotiates permessage-deflate; without, compression is off.
"""
import asyncio
import sys

from aiohttp import WSMsgType, web


COMPRESS = sys.argv[2:] == ["deflate"]


async def echo(request):
    ws = web.WebSocketResponse(max_msg_size=2**25, compress=COMPRESS)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def main():
    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    with open(sys.argv[1], "w") as f:
        f.write(str(port))
    await asyncio.get_running_loop().create_future()


asyncio.run(main())
