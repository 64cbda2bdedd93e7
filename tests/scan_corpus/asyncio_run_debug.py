# expect: clean
import asyncio


async def main():
    await asyncio.sleep(0.1)
    return "done"


if __name__ == "__main__":
    asyncio.run(main(), debug=True)
