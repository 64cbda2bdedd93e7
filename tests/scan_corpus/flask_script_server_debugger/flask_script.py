# expect: clean
"""What we still use of Flask-Script (unmaintained, and broken on Flask 2+), vendored.

``Manager`` dispatches ``python manage.py <command>``; ``Server`` is its
``runserver`` command, as in Flask-Script 2.0.6.
"""
import sys


class Command:
    def __call__(self, app):
        raise NotImplementedError


class Server(Command):
    def __init__(self, host="127.0.0.1", port=5000, use_debugger=None, use_reloader=None,
                 threaded=False, processes=1, **options):
        self.host = host
        self.port = port
        self.use_debugger = use_debugger
        self.use_reloader = use_reloader
        self.threaded = threaded
        self.processes = processes
        self.server_options = options

    def __call__(self, app):
        # As Flask-Script does: None means "as app.debug says".
        use_debugger = app.debug if self.use_debugger is None else self.use_debugger
        use_reloader = app.debug if self.use_reloader is None else self.use_reloader
        app.run(
            host=self.host,
            port=self.port,
            debug=use_debugger,
            use_debugger=use_debugger,
            use_reloader=use_reloader,
            threaded=self.threaded,
            processes=self.processes,
            **self.server_options,
        )


class Shell(Command):
    def __init__(self, make_context=None):
        self.make_context = make_context or (lambda: {})

    def __call__(self, app):
        import code

        with app.app_context():
            code.interact(local=self.make_context())


class Manager:
    def __init__(self, app):
        self.app = app
        self.commands = {"runserver": Server(), "shell": Shell()}

    def add_command(self, name, command):
        self.commands[name] = command

    def command(self, function):
        self.commands[function.__name__] = lambda app: function()
        return function

    def run(self):
        name = sys.argv[1] if len(sys.argv) > 1 else "runserver"
        if name not in self.commands:
            raise SystemExit(f"unknown command {name!r}; one of: {', '.join(self.commands)}")
        self.commands[name](self.app)
