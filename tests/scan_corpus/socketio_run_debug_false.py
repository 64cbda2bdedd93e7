# expect: clean
import os

from flask import Flask, render_template
from flask_socketio import SocketIO, emit

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
socketio = SocketIO(app)


@app.route("/")
def index():
    return render_template("chat.html")


@socketio.on("message")
def handle_message(data):
    emit("message", data, broadcast=True)


if __name__ == "__main__":
    socketio.run(app, host="0.0.0.0", port=5000, debug=False)
