# expect: clean
import os


def overrides(stage):
    match stage:
        case "local" | "dev":
            return {"DEBUG": True}
        case _:
            return {"DEBUG": False}


OVERRIDES = overrides(os.getenv("STAGE", "production"))
