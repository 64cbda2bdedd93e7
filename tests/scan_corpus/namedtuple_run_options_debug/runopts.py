# expect: clean
from typing import NamedTuple


class RunOptions(NamedTuple):
    host: str = "127.0.0.1"
    port: int = 5000
    debug: bool = True
