# expect: clean
"""``python manage.py serve|routes``: argparse subcommands, each with a handler."""
import argparse
import sys

from shop import create_app


def serve(args):
    app = create_app()
    app.run(host=args.host, port=args.port, debug=args.debug)


def routes(args):
    for rule in create_app().url_map.iter_rules():
        print(rule)


def parser():
    top = argparse.ArgumentParser(prog="manage.py")
    commands = top.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("serve", help="run the web server")
    runner.add_argument("--host", default="127.0.0.1")
    runner.add_argument("--port", type=int, default=8000)
    runner.set_defaults(func=serve, debug=False)
    lister = commands.add_parser("routes", help="list the URL rules")
    lister.set_defaults(func=routes)
    return top


if __name__ == "__main__":
    arguments = parser().parse_args(sys.argv[1:])
    arguments.func(arguments)
