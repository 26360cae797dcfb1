//! The OTLP/gRPC receiver: the three collector services from
//! opentelemetry-proto, gzip accepted, message size bounded. A store failure
//! answers UNAVAILABLE (retryable); invalid items INVALID_ARGUMENT and new
//! series past a series limit RESOURCE_EXHAUSTED, naming them, with the
//! rest stored ([`Accepted::refusal`]); undecodable messages never reach us —
//! tonic answers them INTERNAL/INVALID_ARGUMENT itself.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request as GrpcRequest, Response, Status};

use crate::Collector;
use crate::api::error::{ApiError, ErrorType};
use crate::ingest::{Accepted, Request};

const TRANSPORT: &str = "grpc";

/// Builds the three services, bounded by the collector's limits.
pub fn routes(c: Collector) -> tonic::service::Routes {
    let max = c.limits.max_decompressed_bytes;
    let logs = LogsServiceServer::new(Receiver(c.clone()))
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    let metrics = MetricsServiceServer::new(Receiver(c.clone()))
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    let traces = TraceServiceServer::new(Receiver(c))
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    tonic::service::Routes::new(logs)
        .add_service(metrics)
        .add_service(traces)
}

/// One type implements all three services over the shared collector.
pub(crate) struct Receiver(pub(crate) Collector);

impl Receiver {
    async fn store(&self, req: Request) -> Result<Accepted, Status> {
        let acc = self
            .0
            .accept(TRANSPORT, req)
            .await
            .map_err(|e| ApiError::new(ErrorType::Unavailable, e.to_string()).grpc())?;
        match acc.refusal() {
            Some(e) => Err(e.grpc()),
            None => Ok(acc),
        }
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: GrpcRequest<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let acc = self.store(Request::Logs(request.into_inner())).await?;
        Ok(Response::new(acc.logs_response()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: GrpcRequest<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let acc = self.store(Request::Metrics(request.into_inner())).await?;
        Ok(Response::new(acc.metrics_response()))
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: GrpcRequest<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let acc = self.store(Request::Traces(request.into_inner())).await?;
        Ok(Response::new(acc.traces_response()))
    }
}
