# expect: clean
import functools
import os

from flask import Flask, jsonify

app = Flask(__name__)

TODOS = []


@app.get("/todos")
def list_todos():
    return jsonify(TODOS)


@app.post("/todos")
def add_todo():
    TODOS.append({"id": len(TODOS) + 1})
    return jsonify(TODOS[-1]), 201


run_dev_server = functools.partial(
    app.run, host="0.0.0.0", port=int(os.environ.get("PORT", 5000)), debug=False
)


if __name__ == "__main__":
    run_dev_server()
