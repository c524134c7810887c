"""The simulator as an HTTP server: REST + control API on one port, in a background thread."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from simulator import control_api, rest_api
from simulator.config import SimulatorConfig
from simulator.network import Network


class _QuietHandler(WSGIRequestHandler):
    """The event log tells the story; werkzeug's per-request lines would drown it.

    HTTP/1.1, as Twilio's API speaks: the SDK's session keeps its connections open instead
    of opening one per call placed (werkzeug's default is HTTP/1.0, one request a connection).
    """

    protocol_version = "HTTP/1.1"

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def create_app(network: Network) -> Flask:
    app = Flask("simulator")
    app.extensions["sim_network"] = network
    app.register_blueprint(rest_api.bp)
    app.register_blueprint(control_api.bp)

    @app.get("/")
    def index() -> dict[str, object]:
        cfg = network.config
        return {
            "simulator": "Twilio-compatible phone network",
            "number": cfg.number,
            "app_url": cfg.app_url,
            "time_scale": cfg.time_scale,
        }

    return app


class Simulator:
    """Embeddable: `Simulator(config).start()` serves on `config.port` (0 = a free port)."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.network = Network(config)
        self.app = create_app(self.network)
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port if self._server else self.config.port  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> Simulator:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server(
            self.config.host, self.config.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="simulator-http", daemon=True
        )
        self._thread.start()
        self.network.log.add(None, f"simulator listening on {self.url} for app {self.config.app_url}")
        return self

    def serve_forever(self) -> None:
        """Start and block (the CLI); stop() from a signal handler ends it."""
        self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self.network.reset()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
