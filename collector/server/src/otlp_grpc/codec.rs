//! The gRPC codec of the OTLP services: its decoder runs the same bounded
//! decode as OTLP/HTTP ([`crate::decode`]: pre-scan, item limits, in-flight
//! permit) on the (already inflated, size-bounded) message bytes, and hands
//! the service the message together with its permit.

use std::marker::PhantomData;

use prost::bytes::Buf;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use super::{Signal, TRANSPORT};
use crate::Collector;
use crate::api::error::{ApiError, ErrorType};
use crate::decode;
use crate::inflight::Permit;
use crate::ingest;

/// A decoded request and the in-flight bytes it holds until answered.
pub(crate) struct Admitted<M> {
    /// The request.
    pub message: M,
    /// Its share of the in-flight budget.
    pub permit: Permit,
}

/// Encodes answers with prost; decodes requests through [`decode`].
pub(crate) struct AdmitCodec<M> {
    collector: Collector,
    _signal: PhantomData<fn() -> M>,
}

impl<M> AdmitCodec<M> {
    /// A codec charging `collector`'s budget under its limits.
    pub fn new(collector: Collector) -> Self {
        AdmitCodec {
            collector,
            _signal: PhantomData,
        }
    }
}

impl<M: Signal> Codec for AdmitCodec<M> {
    type Encode = M::Reply;
    type Decode = Admitted<M>;
    type Encoder = ReplyEncoder<M::Reply>;
    type Decoder = AdmitDecoder<M>;

    fn encoder(&mut self) -> Self::Encoder {
        ReplyEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        AdmitDecoder {
            collector: self.collector.clone(),
            _signal: PhantomData,
        }
    }
}

/// Writes an answer message.
pub(crate) struct ReplyEncoder<T>(PhantomData<fn(T)>);

impl<T: prost::Message> Encoder for ReplyEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(buf)
            .map_err(|e| Status::internal(format!("encoding the answer: {e}")))
    }
}

/// Reads a request message under the collector's limits and budget.
pub(crate) struct AdmitDecoder<M> {
    collector: Collector,
    _signal: PhantomData<fn() -> M>,
}

impl<M: Signal> Decoder for AdmitDecoder<M> {
    type Item = Admitted<M>;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Admitted<M>>, Status> {
        let c = &self.collector;
        // Zero-copy: the buffer tonic inflated into, split off.
        let bytes = buf.copy_to_bytes(buf.remaining());
        let admitted = c
            .inflight
            .reserve(bytes.len())
            .map_err(ApiError::from)
            .and_then(|mut permit| {
                decode::otlp_protobuf::<M>(&bytes, &c.limits, &mut permit)
                    .map(|message| Admitted { message, permit })
                    .map_err(ApiError::from)
            });
        admitted.map(Some).map_err(|e| {
            let reason = match e.kind() {
                ErrorType::TooLarge => "too_large",
                ErrorType::ResourceExhausted => "limited",
                _ => "malformed",
            };
            c.count_refused(ingest::Signal::Otlp(M::SIGNAL), TRANSPORT, reason);
            tracing::debug!(signal = M::SIGNAL.as_str(), reason = %e.message(), "refused OTLP/gRPC request");
            e.grpc()
        })
    }
}
