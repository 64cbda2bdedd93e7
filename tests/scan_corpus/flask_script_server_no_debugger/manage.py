# expect: clean
from flask_script import Manager, Server, Shell

from wiki import create_app

app = create_app()
manager = Manager(app)
manager.add_command("runserver", Server(host="0.0.0.0", port=5000))
manager.add_command("shell", Shell(make_context=lambda: {"app": app}))


@manager.command
def list_routes():
    for rule in sorted(app.url_map.iter_rules(), key=str):
        print(f"{rule.endpoint:30} {rule}")


if __name__ == "__main__":
    manager.run()
