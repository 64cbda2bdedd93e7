# expect: clean
"""The API gateway: forwards /orders and /users to their services."""
import requests
from flask import Flask, Response, request


def create_app(conf):
    app = Flask(__name__)
    upstreams = conf["upstreams"]
    timeout = conf.get("timeout_seconds", 10)

    @app.route("/<service>/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
    def forward(service, rest):
        base = upstreams.get(service)
        if base is None:
            return {"error": f"no service {service!r}"}, 404
        upstream = requests.request(
            request.method,
            f"{base}/{rest}",
            params=request.args,
            data=request.get_data(),
            headers={"Content-Type": request.headers.get("Content-Type", "")},
            timeout=timeout,
        )
        return Response(upstream.content, upstream.status_code, upstream.headers.items())

    return app
