"""Python `tornado` echo server for wsprobe's interop run.

Binds 127.0.0.1:0, writes the port to the file given as argv[1], echoes text as text and binary
as binary. websocket_max_message_size is raised to 2**25 so the 16 MiB cases of Autobahn 9.x fit.
With a second argument `deflate` it negotiates permessage-deflate (tornado's defaults); without,
compression is off.
"""
import asyncio
import sys

import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket


class Echo(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin):
        return True

    def get_compression_options(self):
        return {} if sys.argv[2:] == ["deflate"] else None

    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


async def main():
    app = tornado.web.Application([(r"/", Echo)], websocket_max_message_size=2**25)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    with open(sys.argv[1], "w") as f:
        f.write(str(sockets[0].getsockname()[1]))
    await asyncio.get_running_loop().create_future()


asyncio.run(main())
