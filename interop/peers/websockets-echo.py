"""Python `websockets` echo server for wsprobe's interop run.

Binds 127.0.0.1:0, writes the port to the file given as argv[1], echoes every message with its
type. With a second argument `deflate` it negotiates permessage-deflate (the library's default
configuration); without, compression is off. With `tls CERT KEY` instead it serves wss:// with
that certificate (Python's ssl module, TLS 1.2 and 1.3; SSLKEYLOGFILE is honoured). max_size is raised to 2**25 so the 16 MiB cases of Autobahn 9.x fit, as the websockets
project does for its own Autobahn runs.
"""
import asyncio
import sys

from websockets.asyncio.server import serve


COMPRESSION = "deflate" if sys.argv[2:] == ["deflate"] else None
SSL = None
if sys.argv[2:3] == ["tls"]:
    import ssl

    SSL = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    SSL.load_cert_chain(sys.argv[3], sys.argv[4])


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    async with serve(
        echo, "127.0.0.1", 0, max_size=2**25, compression=COMPRESSION, ssl=SSL
    ) as server:
        port = server.sockets[0].getsockname()[1]
        with open(sys.argv[1], "w") as f:
            f.write(str(port))
        await asyncio.get_running_loop().create_future()


asyncio.run(main())
