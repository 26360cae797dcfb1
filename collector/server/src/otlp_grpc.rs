//! The OTLP/gRPC receiver: the three OTLP collector services
//! (`…LogsService/Export`, `…MetricsService/Export`, `…TraceService/Export`),
//! gzip accepted, message size bounded by `max_decompressed_bytes`. Our own
//! services rather than opentelemetry-proto's generated ones, which decode
//! straight into the message with prost: here the message goes through
//! [`codec`], which pre-scans it and takes its in-flight permit first. A
//! store failure answers UNAVAILABLE (retryable); invalid items
//! INVALID_ARGUMENT and new series past a series limit RESOURCE_EXHAUSTED,
//! naming them, with the rest stored ([`Accepted::refusal`]); a request over an item
//! limit RESOURCE_EXHAUSTED without RetryInfo (do not retry), a full
//! in-flight budget RESOURCE_EXHAUSTED with RetryInfo; malformed bytes
//! INVALID_ARGUMENT.

mod codec;

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use sextant_otlp::Signal as OtlpSignal;
use tonic::codec::CompressionEncoding;
use tonic::codegen::{Service, http};
use tonic::server::{NamedService, UnaryService};
use tonic::{Request as GrpcRequest, Response, Status};

use crate::Collector;
use crate::decode::OtlpRequest;
use crate::ingest::{Accepted, Request};
use codec::{AdmitCodec, Admitted};

const TRANSPORT: &str = "grpc";

/// Builds the three services, bounded by the collector's limits.
pub fn routes(c: Collector) -> tonic::service::Routes {
    tonic::service::Routes::new(Export::<ExportLogsServiceRequest>::new(c.clone()))
        .add_service(Export::<ExportMetricsServiceRequest>::new(c.clone()))
        .add_service(Export::<ExportTraceServiceRequest>::new(c))
}

/// One type implements all three services over the shared collector.
#[derive(Clone)]
pub(crate) struct Receiver(pub(crate) Collector);

impl Receiver {
    async fn store(&self, req: Request) -> Result<Accepted, Status> {
        let acc = self
            .0
            .accept(TRANSPORT, req)
            .await
            .map_err(|e| e.api_error().grpc())?;
        match acc.refusal() {
            Some(e) => Err(e.grpc()),
            None => Ok(acc),
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What differs between the three services: their name, their signal and
/// how a stored request becomes their answer.
pub(crate) trait Signal: OtlpRequest + Send + 'static {
    /// The gRPC service name.
    const SERVICE: &'static str;
    /// What refusals are counted under.
    const SIGNAL: OtlpSignal;
    /// The answer message.
    type Reply: prost::Message + Default + Send + 'static;
    /// Stores the request and answers it.
    fn export(receiver: Receiver, req: Self) -> BoxFuture<Result<Self::Reply, Status>>;
}

impl Signal for ExportLogsServiceRequest {
    const SERVICE: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
    const SIGNAL: OtlpSignal = OtlpSignal::Logs;
    type Reply = opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
    fn export(receiver: Receiver, req: Self) -> BoxFuture<Result<Self::Reply, Status>> {
        Box::pin(async move {
            let acc = receiver.store(Request::Logs(req)).await?;
            Ok(acc.logs_response())
        })
    }
}

impl Signal for ExportMetricsServiceRequest {
    const SERVICE: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    const SIGNAL: OtlpSignal = OtlpSignal::Metrics;
    type Reply = opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
    fn export(receiver: Receiver, req: Self) -> BoxFuture<Result<Self::Reply, Status>> {
        Box::pin(async move {
            let acc = receiver.store(Request::Metrics(req)).await?;
            Ok(acc.metrics_response())
        })
    }
}

impl Signal for ExportTraceServiceRequest {
    const SERVICE: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    const SIGNAL: OtlpSignal = OtlpSignal::Traces;
    type Reply = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    fn export(receiver: Receiver, req: Self) -> BoxFuture<Result<Self::Reply, Status>> {
        Box::pin(async move {
            let acc = receiver.store(Request::Traces(req)).await?;
            Ok(acc.traces_response())
        })
    }
}

/// One OTLP service: routes `/<service>/Export` through the admitting codec.
struct Export<M> {
    receiver: Receiver,
    _signal: PhantomData<fn() -> M>,
}

impl<M> Clone for Export<M> {
    fn clone(&self) -> Self {
        Export {
            receiver: self.receiver.clone(),
            _signal: PhantomData,
        }
    }
}

impl<M: Signal> Export<M> {
    fn new(c: Collector) -> Self {
        Export {
            receiver: Receiver(c),
            _signal: PhantomData,
        }
    }
}

impl<M: Signal> NamedService for Export<M> {
    const NAME: &'static str = M::SERVICE;
}

impl<M: Signal> Service<http::Request<tonic::body::Body>> for Export<M> {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let receiver = self.receiver.clone();
        let is_export = req
            .uri()
            .path()
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(M::SERVICE))
            == Some("/Export");
        Box::pin(async move {
            if !is_export {
                return Ok(Status::unimplemented("no such method").into_http());
            }
            let max = receiver.0.limits.max_decompressed_bytes;
            let mut grpc = tonic::server::Grpc::new(AdmitCodec::<M>::new(receiver.0.clone()))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max);
            Ok(grpc.unary(Unary::<M>(receiver, PhantomData), req).await)
        })
    }
}

/// The one method, `Export`, of a service.
struct Unary<M>(Receiver, PhantomData<fn() -> M>);

impl<M: Signal> UnaryService<Admitted<M>> for Unary<M> {
    type Response = M::Reply;
    type Future = BoxFuture<Result<Response<M::Reply>, Status>>;

    fn call(&mut self, request: GrpcRequest<Admitted<M>>) -> Self::Future {
        let receiver = self.0.clone();
        Box::pin(async move {
            // The permit lives until the answer is ready.
            let Admitted { message, permit } = request.into_inner();
            let reply = M::export(receiver, message).await;
            drop(permit);
            reply.map(Response::new)
        })
    }
}
