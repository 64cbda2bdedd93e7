# expect: clean
"""Management commands of the portal: ``python manage.py serve``."""
import typer

from portal import create_app

cli = typer.Typer(help="Portal management commands.")


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int = typer.Option(5000, "--port", help="Port to listen on."),
    debug: bool = typer.Option(False, "--debug/--no-debug", help="Werkzeug debugger."),
):
    """Run the portal on Werkzeug's server."""
    create_app().run(host=host, port=port, debug=debug)


@cli.command()
def routes():
    """List the URL rules."""
    for rule in create_app().url_map.iter_rules():
        print(rule.endpoint, rule.rule)


if __name__ == "__main__":
    cli()
