# expect: clean
import functools


def tuned(**settings):
    def apply(build):
        @functools.wraps(build)
        def inner(*args, **kwargs):
            made = build(*args, **kwargs)
            made.config.update(settings)
            return made

        return inner

    return apply
