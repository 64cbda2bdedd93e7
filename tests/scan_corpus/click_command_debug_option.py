# expect: clean
import click


@click.group()
def cli():
    pass


@cli.command()
@click.option("--debug", is_flag=True)
def run(debug):
    click.echo(f"worker debug={debug}")


@cli.command()
@click.pass_context
def dev(ctx):
    ctx.invoke(run, debug=True)


if __name__ == "__main__":
    cli()
