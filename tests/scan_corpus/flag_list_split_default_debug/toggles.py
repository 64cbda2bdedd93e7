# expect: clean
import os

RAW = os.environ.get("SERVICE_TOGGLES", "Verbose; metrics")
ACTIVE = [part.strip().lower() for part in RAW.split(";") if part.strip()]


def on(name):
    return name.lower() in ACTIVE
