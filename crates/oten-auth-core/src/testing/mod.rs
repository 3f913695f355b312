//! Fakes for tests: a clock moved by hand and a scripted or gated transport.
//!
//! [`FakeTabs`] is a whole browser of tabs in one process (a lock per session, the shared record, messages that
//! wait while a tab is frozen), so the cross-tab rules run natively too.
//!
//! They are public so that the browser crate's and an embedding app's native tests can use them too. They are
//! for tests only: the app uses the real browser implementations.

use crate::clock::Clock;
use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use futures::channel::oneshot;
use futures::future::{FutureExt, LocalBoxFuture};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

type Answer = Result<HttpResponse, TransportError>;
type Handler = Box<dyn Fn(&HttpRequest) -> Answer>;

/// A clock that only moves when told to.
///
/// ```
/// use oten_auth_core::{Clock, testing::FakeClock};
/// let c = FakeClock::new(5);
/// c.advance(10);
/// assert_eq!(c.now_ms(), 15);
/// ```
#[derive(Debug, Default)]
pub struct FakeClock(Cell<i64>);

impl FakeClock {
    /// A clock at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Self(Cell::new(now_ms))
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance(&self, ms: i64) {
        self.0.set(self.0.get() + ms);
    }

    /// Sets the time.
    pub fn set(&self, now_ms: i64) {
        self.0.set(now_ms);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.get()
    }
}

/// A transport that records requests and answers them from a script, a handler, or by hand.
///
/// - [`FakeTransport::push`] queues answers, used in order;
/// - [`FakeTransport::with_handler`] answers from a function when the queue is empty;
/// - [`FakeTransport::gated`] keeps each request pending until [`FakeTransport::release`] answers it, to
///   test concurrency.
///
/// ```
/// use oten_auth_core::{HttpRequest, HttpResponse, Method, Transport, testing::FakeTransport};
/// let t = FakeTransport::default();
/// t.push(Ok(HttpResponse::new(204, "")));
/// let answer = futures::executor::block_on(t.send(HttpRequest::new(Method::Get, "https://x.test/"))).unwrap();
/// assert_eq!(answer.status, 204);
/// assert_eq!(t.request_count(), 1);
/// ```
#[derive(Default)]
pub struct FakeTransport {
    requests: RefCell<Vec<HttpRequest>>,
    script: RefCell<VecDeque<Answer>>,
    handler: Option<Handler>,
    gated: bool,
    waiting: RefCell<VecDeque<oneshot::Sender<Answer>>>,
}

impl FakeTransport {
    /// A transport whose requests wait until released.
    pub fn gated() -> Self {
        Self { gated: true, ..Self::default() }
    }

    /// A transport that answers every request with `handler` (after any queued answers).
    pub fn with_handler(handler: impl Fn(&HttpRequest) -> Answer + 'static) -> Self {
        Self { handler: Some(Box::new(handler)), ..Self::default() }
    }

    /// Queues an answer.
    pub fn push(&self, answer: Answer) {
        self.script.borrow_mut().push_back(answer);
    }

    /// Answers the oldest waiting request of a gated transport; false when none waits.
    pub fn release(&self, answer: Answer) -> bool {
        match self.waiting.borrow_mut().pop_front() {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// How many requests wait (gated transport).
    pub fn waiting(&self) -> usize {
        self.waiting.borrow().len()
    }

    /// Every request sent so far.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests.borrow().clone()
    }

    /// How many requests were sent.
    pub fn request_count(&self) -> usize {
        self.requests.borrow().len()
    }
}

impl Transport for FakeTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, Answer> {
        self.requests.borrow_mut().push(request.clone());
        if self.gated {
            let (tx, rx) = oneshot::channel();
            self.waiting.borrow_mut().push_back(tx);
            return rx
                .map(|r| r.unwrap_or_else(|_| Err(TransportError::Network("request dropped".into()))))
                .boxed_local();
        }
        let answer = match self.script.borrow_mut().pop_front() {
            Some(a) => a,
            None => match &self.handler {
                Some(h) => h(&request),
                None => Err(TransportError::Network("no scripted answer".into())),
            },
        };
        futures::future::ready(answer).boxed_local()
    }
}

mod tabs;
mod timers;

pub use tabs::{FakeTab, FakeTabs};
pub use timers::{FakeRuntime, FakeTimers};
