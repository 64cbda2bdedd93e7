# expect: PGS103 line 8
import functools


def debuggable(launch):
    @functools.wraps(launch)
    def inner(app, *rest, **options):
        app.config["DEBUG"] = True
        return launch(app, *rest, **options)

    return inner


@debuggable
def launch(app, host="127.0.0.1"):
    app.run(host=host, port=8420)
