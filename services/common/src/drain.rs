//! Reads the rest of a request body that a handler answered without reading
//! (a 415, 403, 428… decided from the headers alone).
//!
//! hyper gives an unread body one chance to drain, then closes the read side:
//! the unread bytes make the kernel reset the connection, and the gateway,
//! still sending the body, sees a broken pipe. It then answers the client 502
//! instead of our 4xx and counts a failure against this replica (two within
//! 5 s and nginx puts it aside for everyone). Keeping the body alive until it
//! is read lets hyper finish the exchange and keep the connection.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, BodyDataStream, Bytes},
    extract::Request,
    http::header,
    middleware::Next,
    response::Response,
};
use futures::{Stream, StreamExt};

use crate::server::BODY_LIMIT;

/// How much of an unread body is read before giving up (bigger bodies are
/// stopped by the gateway anyway), and for how long.
const DRAIN_MAX_BYTES: usize = 4 * BODY_LIMIT;
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Middleware: requests with a body get one that reads itself to the end when
/// the handler drops it unfinished.
pub async fn drain_unread_body(req: Request, next: Next) -> Response {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0);
    if !has_body {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = Body::from_stream(Draining { inner: Some(body.into_data_stream()), finished: false });
    next.run(Request::from_parts(parts, body)).await
}

struct Draining {
    inner: Option<BodyDataStream>,
    finished: bool,
}

impl Stream for Draining {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        let next = inner.poll_next_unpin(cx);
        if matches!(next, Poll::Ready(None | Some(Err(_)))) {
            self.finished = true;
        }
        next
    }
}

impl Drop for Draining {
    fn drop(&mut self) {
        let Some(mut rest) = self.inner.take() else { return };
        if self.finished {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            let read = async {
                let mut total = 0usize;
                while let Some(Ok(chunk)) = rest.next().await {
                    total += chunk.len();
                    if total > DRAIN_MAX_BYTES {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_DEADLINE, read).await;
        });
    }
}
