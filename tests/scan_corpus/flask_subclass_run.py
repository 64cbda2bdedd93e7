# expect: PGS101 line 14
from flask import Flask


class Portal(Flask):
    """The project's own app class."""

    def register_everything(self) -> None:
        pass


if __name__ == "__main__":
    portal = Portal(__name__)
    Portal(__name__).run(debug=True)
