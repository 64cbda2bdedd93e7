# expect: clean
import argparse

from flask import Flask


def create_app():
    app = Flask(__name__)
    app.config.from_prefixed_env()
    return app


def main():
    parser = argparse.ArgumentParser(prog="shop-server")
    parser.add_argument("-p", "--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "-d",
        "--debug",
        action="store_true",
        help="serve with the reloader and the debugger",
    )
    args = parser.parse_args()

    app = create_app()
    app.logger.info("starting on port %s", args.port)
    app.run(port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()
