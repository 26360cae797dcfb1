"""Checks a Sextant collector that runs with TLS and a bearer token, as real
clients see it: urllib over HTTPS for the HTTP API, the OpenTelemetry SDK's
gRPC exporter over TLS. Exits non-zero with a reason on the first surprise.
"""
import argparse
import http.client
import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

import grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult


def fetch(url, ctx, token=None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def expect(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", required=True)
    ap.add_argument("--grpc", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--wait-agent", action="store_true", help="poll until the agent's host metrics arrive")
    args = ap.parse_args()
    ctx = ssl.create_default_context(cafile=args.ca)
    base = f"https://{args.http}"

    if args.wait_agent:
        import time
        q = urllib.parse.quote('system_cpu_load_average_1m{job="sextant-agent"}')
        for _ in range(150):
            status, body = fetch(f"{base}/api/v1/query?query={q}", ctx, args.token)
            if status == 200 and json.loads(body)["data"]["result"]:
                expect(True, "agent metrics arrived over https with a bearer token")
                return
            time.sleep(0.2)
        sys.exit("FAILED: agent metrics never arrived over https")

    status, body = fetch(f"{base}/readyz", ctx)
    expect(status == 200 and body.strip() == "ok", f"probe open without a token ({status} {body!r})")
    status, body = fetch(f"{base}/api/v1/labels", ctx)
    expect(status == 401, f"API refuses a missing token ({status})")
    status, _ = fetch(f"{base}/api/v1/labels", ctx, "wrong-token")
    expect(status == 401, f"API refuses a wrong token ({status})")
    status, body = fetch(f"{base}/api/v1/labels", ctx, args.token)
    expect(status == 200 and json.loads(body)["status"] == "success", f"API answers with the token ({status})")
    try:
        urllib.request.urlopen(f"http://{args.http}/readyz", timeout=5)
        sys.exit("FAILED: plain HTTP accepted on a TLS listener")
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        expect(True, f"plain HTTP refused on the TLS listener ({type(e).__name__})")

    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    creds = grpc.ssl_channel_credentials(root_certificates=open(args.ca, "rb").read())
    for token, want in ((args.token, SpanExportResult.SUCCESS), (None, SpanExportResult.FAILURE)):
        headers = {"authorization": f"Bearer {token}"} if token else {}
        exporter = OTLPSpanExporter(endpoint=f"https://{args.grpc}", credentials=creds, headers=headers, timeout=5)
        tp = TracerProvider(resource=Resource.create({"service.name": "tls-test"}))
        results = []

        class Recording(SimpleSpanProcessor):
            def on_end(self, span):
                results.append(exporter.export([span]))

        tp.add_span_processor(Recording(exporter))
        with tp.get_tracer("t").start_as_current_span("secure"):
            pass
        expect(results == [want], f"gRPC over TLS {'with' if token else 'without'} token -> {results}")
        exporter.shutdown()


if __name__ == "__main__":
    main()
