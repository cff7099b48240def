"""Python `websockets` client harness for Autobahn's fuzzing-server URL protocol.

Written to that protocol only, so it runs unchanged against Autobahn's fuzzingserver and against
`wsprobe run --client`:

    python3 websockets_client.py [AGENT] [--deflate]     # base URL from $WSPROBE_URL

The base URL is $WSPROBE_URL (default ws://127.0.0.1:9001; an argument starting with ws:// or
wss:// overrides it), the agent name the other argument (default python-websockets). It asks
/getCaseCount, runs /runCase?case=N&agent=AGENT for every case echoing each message with its type
(the library answers pings and the close handshake), then asks /updateReports?agent=AGENT.
max_size=None accepts Autobahn 9.x's 16 MiB messages; permessage-deflate is offered only with
--deflate. A case that fails is reported on stderr and the next one runs; each case is bounded.
"""
import asyncio
import os
import sys

from websockets.asyncio.client import connect

CASE_TIMEOUT = 60  # seconds per case
CONTROL_TIMEOUT = 30  # seconds for getCaseCount / updateReports


async def control(url):
    """Opens url and returns the text messages received until the connection ends."""
    texts = []
    async with connect(url, compression=None, ping_interval=None) as ws:
        try:
            async for message in ws:
                if isinstance(message, str):
                    texts.append(message)
        except Exception:  # how a control connection ends does not matter
            pass
    return texts


async def run_case(url, compression):
    async with connect(url, max_size=None, compression=compression, ping_interval=None,
                       open_timeout=CASE_TIMEOUT, close_timeout=10) as ws:
        async for message in ws:
            await ws.send(message)


async def main():
    base = os.environ.get("WSPROBE_URL", "ws://127.0.0.1:9001")
    agent = "python-websockets"
    compression = None
    for arg in sys.argv[1:]:
        if arg == "--deflate":
            compression = "deflate"
        elif arg.startswith(("ws://", "wss://")):
            base = arg
        else:
            agent = arg
    base = base.rstrip("/")

    try:
        texts = await asyncio.wait_for(control(f"{base}/getCaseCount"), CONTROL_TIMEOUT)
        count = int(texts[0])
    except Exception as e:
        print(f"getCaseCount: {type(e).__name__}: {e}", file=sys.stderr)
        return 1

    for case in range(1, count + 1):
        url = f"{base}/runCase?case={case}&agent={agent}"
        try:
            await asyncio.wait_for(run_case(url, compression), CASE_TIMEOUT)
        except asyncio.TimeoutError:
            print(f"case {case}/{count}: timed out after {CASE_TIMEOUT} s", file=sys.stderr)
        except Exception as e:
            print(f"case {case}/{count}: {type(e).__name__}: {e}", file=sys.stderr)

    try:
        await asyncio.wait_for(control(f"{base}/updateReports?agent={agent}"), CONTROL_TIMEOUT)
    except Exception as e:
        print(f"updateReports: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
