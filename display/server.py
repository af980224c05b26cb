"""`pianocam display`: serve the display page over HTTP for brokers that cannot serve files themselves."""
from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from pianocam.display import page_dir

logger = logging.getLogger(__name__)


def display_dir() -> Path:
    """The page's folder: package data of pianocam.display, in a checkout or an installed wheel."""
    return page_dir()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080)")
    parser.add_argument("--bind", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for phones on the network)")
    parser.add_argument("--broker", metavar="URL",
                        help="MQTT-over-WebSockets address the page connects to, e.g. ws://pianocam.local:9001 "
                             "(default: port 9001 on the host the page was loaded from)")
    parser.add_argument("--base-topic", default="pianocam", help="MQTT base topic (default pianocam)")
    parser.add_argument("--dir", metavar="DIR", help="serve this folder instead of the checkout's display/")


def _page_host(header: str | None) -> str:
    """The host name the browser used to reach this page, from its Host header."""
    host = urlsplit("//" + (header or "localhost")).hostname or "localhost"
    return f"[{host}]" if ":" in host else host


class DisplayHandler(SimpleHTTPRequestHandler):
    """Static files from display/, plus config.json telling the page where the broker is."""

    def __init__(self, *args, broker: str | None, base_topic: str, **kwargs):
        self.broker = broker
        self.base_topic = base_topic
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.json":
            self._send_config()
            return
        super().do_GET()

    def _send_config(self) -> None:
        broker = self.broker or f"ws://{_page_host(self.headers.get('Host'))}:9001"
        body = json.dumps({"broker": broker, "base": self.base_topic}).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        # The page is small and changes with the checkout; never let a phone keep a stale copy.
        if not self.path.startswith("/vendor/"):
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def make_server(root: Path, bind: str, port: int, broker: str | None = None,
                base_topic: str = "pianocam") -> ThreadingHTTPServer:
    """An HTTP server for root (not yet serving); port 0 picks a free one."""
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"display page not found: {root}/index.html is missing")
    handler = functools.partial(DisplayHandler, directory=str(root), broker=broker, base_topic=base_topic)
    server = ThreadingHTTPServer((bind, port), handler)
    server.daemon_threads = True
    return server


def run(args) -> int:
    root = Path(args.dir) if args.dir else display_dir()
    try:
        server = make_server(root, args.bind, args.port, args.broker, args.base_topic)
    except FileNotFoundError as err:
        print(f"pianocam display: {err}. The page lives in the checkout's display/ folder; "
              f"run from a full checkout or pass --dir.", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"pianocam display: cannot listen on {args.bind}:{args.port}: {err}", file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(f"pianocam display: serving {root} on http://{host}:{port}/ "
          f"(broker {args.broker or 'ws://<this host>:9001'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
