"""Unified Observability Center stand-in: GET /health (200) and GET /metrics (Prometheus text) on port 9100."""
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "9100"))
STARTED = time.time()


def metrics():
    return (
        "# HELP uoc_up Whether the observability center is serving.\n"
        "# TYPE uoc_up gauge\n"
        "uoc_up 1\n"
        "# HELP uoc_start_time_seconds Start time of the process since the Unix epoch.\n"
        "# TYPE uoc_start_time_seconds gauge\n"
        f"uoc_start_time_seconds {STARTED:.3f}\n"
    )


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.reply(200, "application/json", json.dumps({"status": "ok", "service": "observability_center"}))
        elif self.path == "/metrics":
            self.reply(200, "text/plain; version=0.0.4", metrics())
        else:
            self.reply(404, "application/json", json.dumps({"error": "not found"}))

    def reply(self, status, content_type, text):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    print(f"observability_center listening on :{PORT}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
