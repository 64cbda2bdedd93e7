# expect: clean
import functools
import os


def debuggable(launch):
    @functools.wraps(launch)
    def inner(app, *rest, **options):
        app.config["DEBUG"] = os.environ.get("LAUNCH_DEBUG") == "1"
        return launch(app, *rest, **options)

    return inner


@debuggable
def launch(app, host="127.0.0.1"):
    app.run(host=host, port=8420)
