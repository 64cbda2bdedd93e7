# expect: clean
import functools


def primed(build):
    @functools.wraps(build)
    def inner(*args, **kwargs):
        made = build(*args, **kwargs)
        made.config["DEBUG"] = True
        try:
            client = made.test_client()
            client.get("/ping")
        finally:
            made.config["DEBUG"] = False
        return made

    return inner
