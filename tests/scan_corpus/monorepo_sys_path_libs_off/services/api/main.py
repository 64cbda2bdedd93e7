# expect: clean
"""The API service; the shared libraries live in libs/ at the repository root."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "libs"))

from flask import Flask  # noqa: E402

from shared.settings import DEBUG, PORT  # noqa: E402

app = Flask("api")


@app.get("/health")
def health():
    return {"ok": True}


if __name__ == "__main__":
    app.run(port=PORT, debug=DEBUG)
