"""A real OTLP/HTTP traces receiver for the trace tests (feature `otel`).

Decodes what the exporter sends (POST /v1/traces, application/x-protobuf) with the
OpenTelemetry protobuf definitions from their published package (`opentelemetry-proto`,
pinned in scripts/test.sh), and keeps every span. The Rust tests read them back as JSON:

  GET /spans?service=NAME   the spans of one service (resource attribute service.name), in
                            arrival order: name, trace_id, span_id, parent_span_id (hex),
                            kind, attributes (key -> value, arrays as lists), status
                            {code, message}, events [{name, attributes}]
  GET /health               200 once listening

Usage: otlp_receiver.py --port-file FILE   (binds 127.0.0.1 on a free port, writes the URL)
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

SPANS = []
LOCK = threading.Lock()


def any_value(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind) if kind else None


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def decode(body):
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append(
                    {
                        "service": resource.get("service.name"),
                        "name": span.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "kind": span.kind,
                        "start_ns": span.start_time_unix_nano,
                        "end_ns": span.end_time_unix_nano,
                        "attributes": attributes(span.attributes),
                        "status": {"code": span.status.code, "message": span.status.message},
                        "events": [
                            {"name": e.name, "attributes": attributes(e.attributes)}
                            for e in span.events
                        ],
                    }
                )
    return out


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, content_type):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if urlparse(self.path).path != "/v1/traces":
            return self.reply(404, b"", "text/plain")
        if self.headers.get("Content-Type") != "application/x-protobuf":
            return self.reply(415, b"protobuf only", "text/plain")
        try:
            spans = decode(body)
        except Exception as e:  # a malformed request is the exporter's bug: say so
            return self.reply(400, str(e).encode(), "text/plain")
        with LOCK:
            SPANS.extend(spans)
        self.reply(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/health":
            return self.reply(200, b"ok", "text/plain")
        if url.path == "/spans":
            service = parse_qs(url.query).get("service", [None])[0]
            with LOCK:
                spans = [s for s in SPANS if service is None or s["service"] == service]
            return self.reply(200, json.dumps(spans).encode(), "application/json")
        self.reply(404, b"", "text/plain")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = "http://127.0.0.1:%d" % server.server_address[1]
    with open(args.port_file, "w") as f:
        f.write(url)
    server.serve_forever()


if __name__ == "__main__":
    main()
