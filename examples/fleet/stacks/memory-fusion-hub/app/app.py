"""Memory Fusion Hub stand-in: a tiny HTTP server answering GET /health (200) on port 6713."""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "config.yaml"), encoding="utf-8") as handle:
    CONFIG = yaml.safe_load(handle)
PORT = int(os.environ.get("PORT", CONFIG.get("port", 6713)))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"status": "ok", "service": "memory_fusion_hub", "machine": os.environ.get("MACHINE", "")})
        elif self.path == "/config":
            self.reply(200, CONFIG)
        else:
            self.reply(404, {"error": "not found"})

    def reply(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # health probes every 10 s would flood the log
        pass


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    print(f"memory_fusion_hub listening on :{PORT} (machine {os.environ.get('MACHINE', '?')})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
