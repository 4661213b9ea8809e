"""Model Ops Coordinator stand-in: GET /health on port 7211 reports the machine profile and the image's CUDA arch."""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy

PORT = int(os.environ.get("PORT", "7211"))


def gpu_arch():
    try:
        with open("/etc/berth-gpu-arch", encoding="utf-8") as handle:
            return dict(line.strip().split("=", 1) for line in handle if "=" in line)
    except OSError:
        return {}


def profile():
    text = os.environ.get("MACHINE_PROFILE", "").strip()
    return json.loads(text) if text else {}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {
                "status": "ok",
                "service": "model_ops_coordinator",
                "machine": os.environ.get("MACHINE", ""),
                "profile": profile(),
                "gpuArch": gpu_arch(),
                "numpy": numpy.__version__,
                "visibleGpus": os.environ.get("NVIDIA_VISIBLE_DEVICES", ""),
            })
        else:
            self.reply(404, {"error": "not found"})

    def reply(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    print(f"model_ops_coordinator listening on :{PORT} (machine {os.environ.get('MACHINE', '?')})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
