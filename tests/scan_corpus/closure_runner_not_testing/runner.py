# expect: PGS101 line 5
def make_runner(*, debug, port=5000):
    def run(app):
        print(f"starting {app.name} on :{port}")
        app.run(port=port, debug=debug)

    return run
