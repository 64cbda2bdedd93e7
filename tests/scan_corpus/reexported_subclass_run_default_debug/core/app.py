# expect: clean
from flask import Flask


class ServiceApp(Flask):
    def run(self, host="0.0.0.0", port=8080, debug=True, **options):
        return super().run(host=host, port=port, debug=debug, **options)
