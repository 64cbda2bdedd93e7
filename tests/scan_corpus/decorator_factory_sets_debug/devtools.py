# expect: PGS102 line 9
import functools


def verbose(build):
    @functools.wraps(build)
    def inner(*args, **kwargs):
        made = build(*args, **kwargs)
        made.debug = True
        return made

    return inner
