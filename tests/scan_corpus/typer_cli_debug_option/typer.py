# expect: clean
"""A tiny stand-in for typer, vendored for the build box (no PyPI access there).

Only what manage.py uses: ``Typer`` with ``command()``, and ``Option``, whose
value is the option's default until the command line gives one.
"""
import inspect
import sys


def Option(default, *param_decls, help=None):
    return default


class Typer:
    def __init__(self, help=None):
        self.help = help
        self.commands = {}

    def command(self, name=None):
        def register(function):
            self.commands[name or function.__name__.replace("_", "-")] = function
            return function

        return register

    def __call__(self, argv=None):
        args = list(sys.argv[1:] if argv is None else argv)
        if not args or args[0] not in self.commands:
            raise SystemExit(f"usage: manage.py {{{','.join(self.commands)}}} [--option value]")
        function = self.commands[args.pop(0)]
        params = inspect.signature(function).parameters
        given = {}
        while args:
            flag = args.pop(0).lstrip("-").replace("-", "_")
            if flag.startswith("no_") and flag[3:] in params:
                given[flag[3:]] = False
            elif params[flag].annotation is bool:
                given[flag] = True
            else:
                given[flag] = params[flag].annotation(args.pop(0))
        return function(**given)
