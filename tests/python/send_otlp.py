"""Sends logs, metrics and spans to a Sextant collector with the official
OpenTelemetry Python SDK, over one transport, and prints what it sent as JSON
so the Rust test can read it back and compare.

Transports: grpc (OTLP/gRPC exporter), http-proto (OTLP/HTTP protobuf
exporter), http-json (the SDK's own OTLP encoders, rendered as OTLP/JSON per
the spec: hex ids, integer enums, lowerCamelCase keys, posted with urllib).
"""
import argparse
import base64
import json
import logging
import sys
import urllib.request

from google.protobuf.json_format import MessageToDict
from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor, LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

ID_FIELDS = {"traceId", "spanId", "parentSpanId"}


def hex_ids(node):
    """OTLP/JSON carries trace and span ids as hex, not proto3-JSON base64."""
    if isinstance(node, dict):
        return {k: (base64.b64decode(v).hex() if k in ID_FIELDS and isinstance(v, str) else hex_ids(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [hex_ids(x) for x in node]
    return node


def post_json(url, message):
    body = json.dumps(hex_ids(MessageToDict(message, use_integers_for_enums=True))).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}")
        reply = json.loads(resp.read() or b"{}")
        if reply.get("partialSuccess"):
            raise RuntimeError(f"{url}: partial success {reply}")


class JsonSpanExporter(SpanExporter):
    def __init__(self, base):
        self.url = base + "/v1/traces"

    def export(self, spans):
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        post_json(self.url, encode_spans(spans))
        return SpanExportResult.SUCCESS


class JsonMetricExporter(MetricExporter):
    def __init__(self, base):
        super().__init__()
        self.url = base + "/v1/metrics"

    def export(self, metrics_data, timeout_millis=10_000, **kwargs):
        from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
        post_json(self.url, encode_metrics(metrics_data))
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis=10_000):
        return True

    def shutdown(self, timeout_millis=30_000, **kwargs):
        pass


class JsonLogExporter(LogRecordExporter):
    def __init__(self, base):
        self.url = base + "/v1/logs"

    def export(self, batch):
        from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
        post_json(self.url, encode_logs(batch))
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis=30_000):
        return True

    def shutdown(self):
        pass


def exporters(mode, grpc_endpoint, http_base):
    if mode == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        kw = dict(endpoint=grpc_endpoint, insecure=True)
        return OTLPSpanExporter(**kw), OTLPMetricExporter(**kw), OTLPLogExporter(**kw)
    if mode == "http-proto":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.exporter.otlp.proto.http import Compression
        return (
            OTLPSpanExporter(endpoint=http_base + "/v1/traces", compression=Compression.Gzip),
            OTLPMetricExporter(endpoint=http_base + "/v1/metrics"),
            OTLPLogExporter(endpoint=http_base + "/v1/logs", compression=Compression.Gzip),
        )
    if mode == "http-json":
        return JsonSpanExporter(http_base), JsonMetricExporter(http_base), JsonLogExporter(http_base)
    raise SystemExit(f"unknown mode {mode}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True)
    ap.add_argument("--grpc", required=True, help="host:port of the OTLP/gRPC receiver")
    ap.add_argument("--http", required=True, help="base URL of the OTLP/HTTP receiver")
    ap.add_argument("--run", required=True, help="run id stamped on everything")
    args = ap.parse_args()

    resource = Resource.create({
        "service.name": f"e2e-{args.run}",
        "service.instance.id": "py-1",
        "deployment.environment.name": "test",
        "host.name": "py-host",
    })
    span_exp, metric_exp, log_exp = exporters(args.mode, "http://" + args.grpc, args.http)

    tp = TracerProvider(resource=resource)
    tp.add_span_processor(SimpleSpanProcessor(span_exp))
    tracer = tp.get_tracer("e2e.tracer", "1.2.3")
    with tracer.start_as_current_span("checkout", attributes={"run.id": args.run, "order.items": 3}) as parent:
        with tracer.start_as_current_span("charge-card", kind=trace.SpanKind.CLIENT, attributes={"payment.ok": True}):
            pass
        trace_id = format(parent.get_span_context().trace_id, "032x")

    reader = PeriodicExportingMetricReader(metric_exp, export_interval_millis=3_600_000)
    mp = MeterProvider(resource=resource, metric_readers=[reader])
    meter = mp.get_meter("e2e.meter", "1.2.3")
    counter = meter.create_counter("e2e.requests", unit="{request}", description="requests served")
    counter.add(5, {"run.id": args.run, "http.route": "/checkout"})
    counter.add(2, {"run.id": args.run, "http.route": "/cart"})
    hist = meter.create_histogram("e2e.latency", unit="s", description="request latency")
    for v in (0.003, 0.02, 0.02, 0.7):
        hist.record(v, {"run.id": args.run})
    updown = meter.create_up_down_counter("e2e.queue.size", unit="By")
    updown.add(1024, {"run.id": args.run})
    mp.force_flush()

    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(SimpleLogRecordProcessor(log_exp))
    set_logger_provider(lp)
    log = logging.getLogger("e2e.logger")
    log.propagate = False
    log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=lp))
    log.setLevel(logging.INFO)
    with tracer.start_as_current_span("log-scope") as s:
        log_trace_id = format(s.get_span_context().trace_id, "032x")
        log.warning("payment declined for order %s", "A-17", extra={"order.id": "A-17", "run.id": args.run})
    log.info("second line", extra={"run.id": args.run})
    lp.force_flush()

    tp.shutdown()
    mp.shutdown()
    lp.shutdown()
    json.dump({"trace_id": trace_id, "log_trace_id": log_trace_id}, sys.stdout)


if __name__ == "__main__":
    main()
