# expect: clean
import os

RAW = os.environ.get("SERVICE_TOGGLES", "metrics; tracing")
ACTIVE = [part.strip().lower() for part in RAW.split(";") if part.strip()]


def on(name):
    return name.lower() in ACTIVE
