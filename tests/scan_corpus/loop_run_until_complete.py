# expect: clean
import asyncio


async def fetch():
    await asyncio.sleep(0)


loop = asyncio.new_event_loop()
loop.set_debug(True)
loop.run_until_complete(fetch())
loop.close()
