//! The connections a listener holds, and which one gives way when it is full.
//!
//! A listener admits at most `max_connections` at once. A client that is
//! slow on purpose (one byte a second of a request head) and a client that
//! simply keeps an idle keep-alive open look the same here: a connection
//! with no request in flight. Those are the ones that give way. When a new
//! connection arrives at the cap, the connection idle the longest is closed
//! to admit it; when none is idle (every one is serving a request), the new
//! connection is closed at once rather than made to wait behind slow ones.
//! So however many slow connections an attacker opens, each new client
//! pushes out the stalest of them and is served, and the file descriptors
//! in use stay bounded by the cap.
//!
//! A request is in flight from the moment its head has been read (the
//! service is called) until its response body has been sent or dropped
//! ([`Tracked`]); a connection that has never completed a request head is
//! idle since it was accepted, so a slow-loris connection is idle from the
//! start.
//!
//! **Invariant:** a listener never holds more than its cap of admitted
//! connections; a connection is only evicted while no request is in flight
//! on it, so eviction never cuts an answer.
//! **Invariant:** the one evicted is the one idle the longest (ties: the
//! older connection), and an evicted or expired connection is forgotten at
//! once, so it is never chosen twice nor counted against the cap.

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::Notify;

/// Why a connection is told to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// Pushed out to admit a new connection: close now, the descriptor is needed.
    Evicted,
    /// Idle past `idle_timeout`: close politely (HTTP/2 GOAWAY), then drop.
    Expired,
}

/// How a connection's task learns it must close.
#[derive(Debug, Default)]
pub struct Signal {
    notify: Notify,
    why: OnceLock<Close>,
}

impl Signal {
    fn fire(&self, why: Close) {
        // The first reason wins; the permit is kept if nobody waits yet.
        let _ = self.why.set(why);
        self.notify.notify_one();
    }

    /// Resolves once the registry has let go of this connection.
    pub async fn closed(&self) -> Close {
        self.notify.notified().await;
        self.why.get().copied().unwrap_or(Close::Evicted)
    }
}

/// The outcome of [`Registry::admit`].
pub enum Admission {
    /// Admitted; `evicted` was pushed out to make room, if anything was.
    Admitted {
        /// The new connection's handle; dropping it forgets the connection.
        conn: Conn,
        /// Whether an idle connection was closed to admit this one.
        evicted: bool,
    },
    /// At the cap with every connection busy: close the new one.
    Full,
}

#[derive(Debug)]
struct Entry {
    in_flight: usize,
    /// When the connection last became idle; `None` while busy.
    idle_since: Option<Instant>,
    signal: Arc<Signal>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    conns: HashMap<u64, Entry>,
    /// The idle connections, the longest idle first.
    idle: BTreeSet<(Instant, u64)>,
}

impl Inner {
    fn forget(&mut self, id: u64) -> Option<Entry> {
        let entry = self.conns.remove(&id)?;
        if let Some(since) = entry.idle_since {
            self.idle.remove(&(since, id));
        }
        Some(entry)
    }
}

/// One listener's admitted connections. Plain locking, no I/O: the
/// serving loop asks it who may stay.
#[derive(Debug)]
pub struct Registry {
    cap: usize,
    inner: Mutex<Inner>,
}

impl Registry {
    /// A registry admitting at most `cap` connections (at least one).
    pub fn new(cap: usize) -> Arc<Registry> {
        Arc::new(Registry {
            cap: cap.max(1),
            inner: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state stays consistent under every early return, so a panic
        // elsewhere while holding the lock leaves nothing half-done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a connection accepted at `now`, evicting the longest-idle one
    /// when at the cap; [`Admission::Full`] when every one is busy.
    pub fn admit(self: &Arc<Self>, now: Instant) -> Admission {
        let mut inner = self.lock();
        let mut evicted = false;
        if inner.conns.len() >= self.cap {
            let Some(signal) = Self::evict_locked(&mut inner) else {
                return Admission::Full;
            };
            signal.fire(Close::Evicted);
            evicted = true;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let signal = Arc::new(Signal::default());
        inner.conns.insert(
            id,
            Entry {
                in_flight: 0,
                idle_since: Some(now),
                signal: Arc::clone(&signal),
            },
        );
        inner.idle.insert((now, id));
        Admission::Admitted {
            conn: Conn {
                registry: Arc::clone(self),
                id,
                signal,
            },
            evicted,
        }
    }

    fn evict_locked(inner: &mut Inner) -> Option<Arc<Signal>> {
        let &(_, id) = inner.idle.first()?;
        inner.forget(id).map(|e| e.signal)
    }

    /// Closes the longest-idle connection, if any: what the accept loop does
    /// when the process runs out of file descriptors anyway.
    pub fn evict_one(&self) -> bool {
        let signal = Self::evict_locked(&mut self.lock());
        signal.map(|s| s.fire(Close::Evicted)).is_some()
    }

    /// Closes every connection idle since `now - idle_timeout` or earlier;
    /// returns how many.
    pub fn expire(&self, now: Instant, idle_timeout: Duration) -> usize {
        let Some(cutoff) = now.checked_sub(idle_timeout) else {
            return 0;
        };
        let mut inner = self.lock();
        let mut n = 0;
        while let Some(&(since, id)) = inner.idle.first() {
            if since > cutoff {
                break;
            }
            if let Some(entry) = inner.forget(id) {
                entry.signal.fire(Close::Expired);
                n += 1;
            }
        }
        n
    }

    /// Connections held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().conns.len()
    }

    fn begin(&self, id: u64) {
        let mut inner = self.lock();
        let Some(entry) = inner.conns.get_mut(&id) else {
            return;
        };
        entry.in_flight += 1;
        if let Some(since) = entry.idle_since.take() {
            inner.idle.remove(&(since, id));
        }
    }

    fn end(&self, id: u64, now: Instant) {
        let mut inner = self.lock();
        let Some(entry) = inner.conns.get_mut(&id) else {
            return;
        };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if entry.in_flight == 0 {
            entry.idle_since = Some(now);
            inner.idle.insert((now, id));
        }
    }
}

/// An admitted connection; dropping it (the connection's task ending)
/// forgets it and frees its place.
#[derive(Debug)]
pub struct Conn {
    registry: Arc<Registry>,
    id: u64,
    signal: Arc<Signal>,
}

impl Conn {
    /// What tells this connection's task to close.
    pub fn signal(&self) -> Arc<Signal> {
        Arc::clone(&self.signal)
    }

    /// Marks a request in flight until the returned guard drops.
    pub fn request(&self) -> InFlight {
        self.registry.begin(self.id);
        InFlight {
            registry: Arc::clone(&self.registry),
            id: self.id,
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.registry.lock().forget(self.id);
    }
}

/// A request in flight on a connection; the connection is idle again, and
/// may be evicted, only once every such guard has dropped.
#[derive(Debug)]
pub struct InFlight {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.registry.end(self.id, Instant::now());
    }
}

/// A response body that keeps its request in flight until it has been sent
/// (or dropped), so a connection streaming an answer is never evicted.
pub struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl Tracked {
    /// Wraps `body`, holding `in_flight` as long as it lives.
    pub fn new(body: Body, in_flight: InFlight) -> Tracked {
        Tracked {
            body,
            _in_flight: in_flight,
        }
    }
}

impl HttpBody for Tracked {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: Admission) -> (Conn, bool) {
        match a {
            Admission::Admitted { conn, evicted } => (conn, evicted),
            Admission::Full => panic!("expected admission"),
        }
    }

    /// Whether the registry has told `conn` to close, and why.
    fn told(conn: &Conn) -> Option<Close> {
        conn.signal.why.get().copied()
    }

    #[test]
    fn admits_up_to_the_cap_then_evicts_the_longest_idle() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let r = Registry::new(3);
        let (a, ea) = admitted(r.admit(at(0)));
        let (b, _) = admitted(r.admit(at(1)));
        let (c, _) = admitted(r.admit(at(2)));
        assert!(!ea);
        assert_eq!(r.len(), 3);
        // `a` served a request and went idle again later than `b`.
        r.begin(a.id);
        r.end(a.id, at(5));
        let (d, evicted) = admitted(r.admit(at(6)));
        assert!(evicted);
        assert_eq!(told(&b), Some(Close::Evicted));
        assert_eq!((told(&a), told(&c), told(&d)), (None, None, None));
        assert_eq!(r.len(), 3);
        // Next in line: `c` (idle since 2), then `a` (since 5), then `d` (since 6).
        let (_e, _) = admitted(r.admit(at(7)));
        assert_eq!(told(&c), Some(Close::Evicted));
        let (_f, _) = admitted(r.admit(at(8)));
        assert_eq!(told(&a), Some(Close::Evicted));
        assert_eq!(told(&d), None);
    }

    #[test]
    fn a_busy_connection_is_never_evicted_and_a_full_busy_listener_refuses() {
        let t0 = Instant::now();
        let r = Registry::new(2);
        let (a, _) = admitted(r.admit(t0));
        let (b, _) = admitted(r.admit(t0));
        let _ra = a.request();
        let rb = b.request();
        assert!(matches!(r.admit(t0), Admission::Full));
        assert_eq!((told(&a), told(&b)), (None, None));
        assert_eq!(r.len(), 2);
        // Once `b`'s request ends, `b` is idle and gives way; `a` stays.
        drop(rb);
        let (_c, evicted) = admitted(r.admit(t0));
        assert!(evicted);
        assert_eq!((told(&a), told(&b)), (None, Some(Close::Evicted)));
    }

    #[test]
    fn concurrent_requests_keep_a_connection_busy_until_the_last_ends() {
        let t0 = Instant::now();
        let r = Registry::new(1);
        let (a, _) = admitted(r.admit(t0));
        let (one, two) = (a.request(), a.request());
        drop(one);
        assert!(matches!(r.admit(t0), Admission::Full));
        drop(two);
        assert!(matches!(
            r.admit(t0),
            Admission::Admitted { evicted: true, .. }
        ));
    }

    #[test]
    fn a_connection_that_never_sent_a_request_is_idle_from_its_accept() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let r = Registry::new(2);
        let (slow, _) = admitted(r.admit(at(0)));
        let (served, _) = admitted(r.admit(at(1)));
        r.begin(served.id);
        r.end(served.id, at(2));
        let _new = admitted(r.admit(at(3)));
        assert_eq!(told(&slow), Some(Close::Evicted));
        assert_eq!(told(&served), None);
    }

    #[test]
    fn idle_connections_expire_and_busy_ones_do_not() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let r = Registry::new(10);
        let (a, _) = admitted(r.admit(at(0)));
        let (b, _) = admitted(r.admit(at(0)));
        let (c, _) = admitted(r.admit(at(50)));
        r.begin(b.id);
        let idle = Duration::from_secs(60);
        assert_eq!(r.expire(at(59), idle), 0);
        assert_eq!(r.expire(at(60), idle), 1);
        assert_eq!(told(&a), Some(Close::Expired));
        assert_eq!((told(&b), told(&c)), (None, None));
        assert_eq!(r.len(), 2);
        r.end(b.id, at(100));
        assert_eq!(r.expire(at(120), idle), 1);
        assert_eq!(told(&c), Some(Close::Expired));
        assert_eq!(told(&b), None);
    }

    #[test]
    fn dropping_a_connection_frees_its_place_and_forgotten_ones_stay_forgotten() {
        let t0 = Instant::now();
        let r = Registry::new(1);
        let (a, _) = admitted(r.admit(t0));
        drop(a);
        assert_eq!(r.len(), 0);
        let (b, evicted) = admitted(r.admit(t0));
        assert!(!evicted);
        // An evicted connection's late request and drop change nothing.
        let (c, _) = admitted(r.admit(t0));
        assert_eq!(told(&b), Some(Close::Evicted));
        let late = b.request();
        drop(late);
        drop(b);
        assert_eq!(r.len(), 1);
        assert_eq!(told(&c), None);
        assert!(r.evict_one());
        assert_eq!(told(&c), Some(Close::Evicted));
        assert!(!r.evict_one());
        assert_eq!(r.len(), 0);
    }

    #[tokio::test]
    async fn the_signal_reaches_a_task_that_waits_after_it_fired() {
        let r = Registry::new(1);
        let (a, _) = admitted(r.admit(Instant::now()));
        let signal = a.signal();
        assert!(r.evict_one());
        assert_eq!(signal.closed().await, Close::Evicted);
    }
}
