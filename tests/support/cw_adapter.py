#!/usr/bin/env python3
"""A CloudWatch-compatible server for tests: moto behind a Smithy RPC v2 CBOR adapter.

aws-sdk-cloudwatch (>= 1.100) speaks only the rpcv2Cbor protocol; moto understands CloudWatch's
JSON (awsJson1_0) and query protocols. This process runs moto in-process on a private port and
serves, on its own port, what the SDK sends:

    POST /service/GraniteServiceVersion20100801/operation/<Op>     (CBOR, maybe gzip-compressed)

Each request is decoded (cbor2), forwarded to moto as awsJson1_0
(`X-Amz-Target: GraniteServiceVersion20100801.<Op>`), and moto's JSON answer is re-encoded as
CBOR with the types of botocore's CloudWatch model (doubles as floats, integers as ints,
timestamps as tag 1). Errors become the rpcv2Cbor error shape (`__type`, `message`) plus the
`x-amzn-query-error` header the SDK reads the error code from.

Control endpoints (JSON), for fault injection and wire-level assertions:

    POST /__faults?namespace=NS
                    {"throttle": N}          next N PutMetricData requests: 400 ThrottlingException
                    {"error500": N}          next N PutMetricData requests: 500 InternalServiceError
                    {"deny": N}              next N PutMetricData requests: 400 AccessDenied
                    {"reject_name": "x"}     any PutMetricData with a datum named x: 400
                                             InvalidParameterValue (the whole request, as
                                             CloudWatch does)
                    {}                       clears the faults
    GET  /__requests?namespace=NS            every PutMetricData seen: body bytes as sent and
                                             decompressed, content-encoding, datum count, the
                                             most values and dimensions in one datum, the
                                             fault answered (null when forwarded to moto)

Faults and the request log are per namespace, so tests running in parallel (each with its own
namespace) do not see each other's.

CloudWatch Logs (awsJson1_1, `POST /` with `X-Amz-Target: Logs_20140328.<Op>`) goes to moto
as it is, except the saved-query operations moto 5.2.5 does not implement, served here from
an in-memory store per region, as the API reference describes them:

    PutQueryDefinition         creates (a new queryDefinitionId) or, given an existing
                               queryDefinitionId, replaces; an unknown id is
                               ResourceNotFoundException
    DescribeQueryDefinitions   by queryDefinitionNamePrefix, sorted by name, maxResults 1-1000
    DeleteQueryDefinition      by queryDefinitionId

Usage: cw_adapter.py --port-file FILE   (binds 127.0.0.1 on a free port, writes the URL to FILE
when ready). Stops on SIGTERM/SIGINT.
"""

import argparse
import datetime
import gzip
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import cbor2
from moto.server import ThreadedMotoServer

PREFIX = "/service/GraniteServiceVersion20100801/operation/"
TARGET = "GraniteServiceVersion20100801."
MODEL = botocore.session.get_session().get_service_model("cloudwatch")

LOGS_TARGET = "Logs_20140328."
QUERY_DEFINITIONS = {}  # region -> {queryDefinitionId: definition}

LOCK = threading.Lock()
FAULTS = {}  # namespace -> {"throttle": N, "error500": N, "reject_name": str}
REQUESTS = {}  # namespace -> [entry]


def query_namespace(path):
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(path).query).get("namespace", [""])[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_json(value):
    """CBOR-decoded request → JSON-ready (timestamps as epoch seconds)."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, bytes):
        raise ValueError("blobs are not used by the CloudWatch operations under test")
    return value


def to_cbor(value, shape):
    """moto's JSON answer → values typed per the model, for cbor2."""
    if value is None or shape is None:
        return value
    t = shape.type_name
    if t == "structure":
        return {
            k: to_cbor(v, shape.members.get(k))
            for k, v in value.items()
            if k in shape.members
        }
    if t == "list":
        return [to_cbor(v, shape.member) for v in value]
    if t == "map":
        return {k: to_cbor(v, shape.value) for k, v in value.items()}
    if t in ("double", "float"):
        return float(value)
    if t in ("integer", "long"):
        return int(value)
    if t == "timestamp":
        if isinstance(value, str):
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    moto_url = None

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, payload, content_type, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def reply_json(self, status, value):
        self.reply(status, json.dumps(value).encode(), "application/json")

    def reply_error(self, status, code, type_name, message, sender="Sender"):
        payload = cbor2.dumps(
            {"__type": "com.amazonaws.cloudwatch#" + type_name, "message": message}
        )
        self.reply(
            status,
            payload,
            "application/cbor",
            [("smithy-protocol", "rpc-v2-cbor"), ("x-amzn-query-error", f"{code};{sender}")],
        )

    def logs(self, op, raw):
        """CloudWatch Logs: the saved-query operations here, the rest forwarded to moto."""
        if op in ("PutQueryDefinition", "DescribeQueryDefinitions", "DeleteQueryDefinition"):
            try:
                request = json.loads(raw or b"{}")
            except ValueError as e:
                status, answer = 400, {"__type": "SerializationException", "message": str(e)}
            else:
                status, answer = query_definitions(self, op, request)
            self.reply(status, json.dumps(answer).encode(), "application/x-amz-json-1.1")
            return
        forward = urllib.request.Request(
            self.moto_url + "/",
            data=raw,
            method="POST",
            headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
        )
        try:
            with urllib.request.urlopen(forward, timeout=30) as r:
                status, answer = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, answer = e.code, e.read()
        self.reply(status, answer, "application/x-amz-json-1.1")

    def do_GET(self):
        if self.path.startswith("/__requests"):
            with LOCK:
                self.reply_json(200, REQUESTS.get(query_namespace(self.path), []))
        elif self.path == "/__health":
            self.reply_json(200, {"ok": True})
        else:
            self.reply_json(404, {"error": "not found"})

    def do_POST(self):
        raw = self.body()
        if self.path.startswith("/__faults"):
            faults = {"throttle": 0, "error500": 0, "deny": 0, "reject_name": None}
            faults.update(json.loads(raw or b"{}"))
            with LOCK:
                FAULTS[query_namespace(self.path)] = faults
            self.reply_json(200, faults)
            return
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith(LOGS_TARGET):
            self.logs(target[len(LOGS_TARGET):], raw)
            return
        if not self.path.startswith(PREFIX):
            self.reply_error(404, "UnknownOperation", "UnknownOperationException", self.path)
            return
        op = self.path[len(PREFIX):]
        encoding = self.headers.get("Content-Encoding", "")
        body = gzip.decompress(raw) if "gzip" in encoding else raw
        try:
            request = cbor2.loads(body) if body else {}
        except Exception as e:  # noqa: BLE001 - a malformed body is the client's error
            self.reply_error(400, "SerializationException", "SerializationException", str(e))
            return

        if op == "PutMetricData":
            data = request.get("MetricData", [])
            entry = {
                "bytes_sent": len(raw),
                "bytes": len(body),
                "encoding": encoding,
                "datums": len(data),
                "max_values": max((len(d.get("Values", [])) for d in data), default=0),
                "max_dimensions": max((len(d.get("Dimensions", [])) for d in data), default=0),
                "names": sorted({d.get("MetricName", "") for d in data}),
            }
            namespace = request.get("Namespace", "")
            with LOCK:
                faults = FAULTS.get(namespace, {})
                reject_name = faults.get("reject_name")
                fault = None
                if faults.get("throttle", 0) > 0:
                    faults["throttle"] -= 1
                    fault = "throttle"
                elif faults.get("error500", 0) > 0:
                    faults["error500"] -= 1
                    fault = "error500"
                elif faults.get("deny", 0) > 0:
                    faults["deny"] -= 1
                    fault = "deny"
                elif reject_name and any(d.get("MetricName") == reject_name for d in data):
                    fault = "reject"
                entry["fault"] = fault
                REQUESTS.setdefault(namespace, []).append(entry)
            if fault == "throttle":
                self.reply_error(400, "Throttling", "ThrottlingException", "Rate exceeded")
                return
            if fault == "error500":
                self.reply_error(
                    500, "InternalServiceError", "InternalServiceFault", "injected", "Receiver"
                )
                return
            if fault == "deny":
                self.reply_error(
                    400, "AccessDenied", "AccessDeniedException", "not authorized (injected)"
                )
                return
            if fault == "reject":
                self.reply_error(
                    400,
                    "InvalidParameterValue",
                    "InvalidParameterValueException",
                    f"The value for parameter MetricData.member.MetricName "
                    f"({reject_name}) is invalid.",
                )
                return

        forward = urllib.request.Request(
            self.moto_url + "/",
            data=json.dumps(to_json(request)).encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": TARGET + op,
                "Authorization": self.headers.get(
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request",
                ),
            },
        )
        try:
            with urllib.request.urlopen(forward, timeout=30) as r:
                status, answer = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, answer = e.code, e.read()
        try:
            parsed = json.loads(answer) if answer else {}
        except ValueError:
            parsed = {"__type": "InternalFailure", "message": answer[:200].decode(errors="replace")}
        if status >= 300:
            code = str(parsed.get("__type") or parsed.get("code") or "InternalFailure")
            code = code.split("#")[-1]
            message = str(parsed.get("message") or parsed.get("Message") or "")
            self.reply_error(status, code, code, message, "Sender" if status < 500 else "Receiver")
            return
        try:
            output = MODEL.operation_model(op).output_shape
        except Exception:  # noqa: BLE001 - unknown operation: pass the shape through untyped
            output = None
        payload = cbor2.dumps(to_cbor(parsed, output) if output else parsed, datetime_as_timestamp=True)
        self.reply(200, payload, "application/cbor", [("smithy-protocol", "rpc-v2-cbor")])


def region_of(authorization):
    """The region of a SigV4 Authorization header's credential scope."""
    try:
        return authorization.split("Credential=")[1].split("/")[2]
    except IndexError:
        return "us-east-1"


def query_definitions(handler, op, request):
    """The saved-query operations moto lacks: (status, answer)."""
    def invalid(message):
        return 400, {"__type": "InvalidParameterException", "message": message}

    region = region_of(handler.headers.get("Authorization", ""))
    with LOCK:
        store = QUERY_DEFINITIONS.setdefault(region, {})
        if op == "PutQueryDefinition":
            name, query = request.get("name", ""), request.get("queryString", "")
            if not 1 <= len(name) <= 255:
                return invalid("name must have 1 to 255 characters")
            if not 1 <= len(query) <= 10000:
                return invalid("queryString must have 1 to 10000 characters")
            given = request.get("queryDefinitionId")
            if given and given not in store:
                return 400, {"__type": "ResourceNotFoundException",
                             "message": f"query definition {given} not found"}
            qid = given or str(uuid.uuid4())
            store[qid] = {
                "queryDefinitionId": qid,
                "name": name,
                "queryString": query,
                "lastModified": int(time.time() * 1000),
                "logGroupNames": list(request.get("logGroupNames") or []),
            }
            return 200, {"queryDefinitionId": qid}
        if op == "DescribeQueryDefinitions":
            prefix = request.get("queryDefinitionNamePrefix", "")
            limit = request.get("maxResults", 1000)
            if not 1 <= limit <= 1000:
                return invalid("maxResults must be between 1 and 1000")
            found = sorted(
                (d for d in store.values() if d["name"].startswith(prefix)),
                key=lambda d: d["name"],
            )
            return 200, {"queryDefinitions": found[:limit]}
        # DeleteQueryDefinition
        return 200, {"success": store.pop(request.get("queryDefinitionId", ""), None) is not None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()

    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    Handler.moto_url = f"http://127.0.0.1:{moto_port}"

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(url)
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    finally:
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
