"""The ceiling for the web benchmarks: the smallest Flask JSON endpoint, under the same gunicorn settings."""

from __future__ import annotations

from flask import Flask, jsonify


def create_app() -> Flask:
    app = Flask("uwagi_trivial")

    @app.post("/json")
    @app.get("/json")
    def answer():
        return jsonify({"ok": True})

    return app
