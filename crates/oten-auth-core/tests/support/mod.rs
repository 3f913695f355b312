//! A fake identity provider with rotation and reuse detection, and tabs built over the core's fakes.

#![allow(dead_code)]

use futures::channel::oneshot;
use futures::executor::LocalPool;
use futures::future::{FutureExt, LocalBoxFuture};
use futures::task::LocalSpawnExt;
use oten_auth_core::parse_query;
use oten_auth_core::testing::{FakeClock, FakeRuntime, FakeTab, FakeTabs, FakeTimers};
use oten_auth_core::*;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

pub const T0: i64 = 1_700_000_000_000;
pub const TOKEN_URL: &str = "https://idp.test/v1/oauth/token";

type Answer = Result<HttpResponse, TransportError>;

/// What the fake provider does with the next refresh request (before or instead of processing it).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Not processed: this answer instead.
    Answer(Answer),
    /// Processed (the token rotates), then the body is replaced by this one with status 200.
    Rewrite(String),
}

/// A provider with rotating refresh tokens and reuse detection, like oidc-provider: presenting a consumed refresh
/// token revokes the whole grant. It counts presentations per refresh token.
pub struct FakeIdp {
    clock: Rc<FakeClock>,
    ttl_secs: Cell<i64>,
    next: Cell<u32>,
    live: RefCell<Vec<String>>,
    consumed: RefCell<Vec<String>>,
    presentations: RefCell<BTreeMap<String, u32>>,
    revoked: Cell<bool>,
    reuse: Cell<u32>,
    faults: RefCell<VecDeque<Fault>>,
    requests: Cell<u32>,
}

impl FakeIdp {
    pub fn new(clock: Rc<FakeClock>, ttl_secs: i64) -> Rc<Self> {
        Rc::new(Self {
            clock,
            ttl_secs: Cell::new(ttl_secs),
            next: Cell::new(0),
            live: RefCell::default(),
            consumed: RefCell::default(),
            presentations: RefCell::default(),
            revoked: Cell::new(false),
            reuse: Cell::new(0),
            faults: RefCell::default(),
            requests: Cell::new(0),
        })
    }

    /// A sign-in: tokens of a new chain of the grant.
    pub fn sign_in(&self) -> TokenSet {
        let body = self.issue();
        TokenSet::parse_token_response(&body, self.clock.now_ms(), None).unwrap()
    }

    fn issue(&self) -> String {
        let n = self.next.get() + 1;
        self.next.set(n);
        let rt = format!("rt{n}");
        self.live.borrow_mut().push(rt.clone());
        format!(
            r#"{{"access_token":"at{n}","refresh_token":"{rt}","token_type":"Bearer","expires_in":{}}}"#,
            self.ttl_secs.get()
        )
    }

    pub fn push_fault(&self, fault: Fault) {
        self.faults.borrow_mut().push_back(fault);
    }

    /// Handles a token request.
    pub fn handle(&self, request: &HttpRequest) -> Answer {
        self.requests.set(self.requests.get() + 1);
        let fault = self.faults.borrow_mut().pop_front();
        if let Some(Fault::Answer(answer)) = &fault {
            return answer.clone();
        }
        let form = parse_query(request.body.as_deref().unwrap_or(""));
        let rt = form.iter().find(|(k, _)| k == "refresh_token").map(|(_, v)| v.clone()).unwrap_or_default();
        *self.presentations.borrow_mut().entry(rt.clone()).or_default() += 1;
        let invalid = || {
            Ok(HttpResponse::new(400, r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#))
        };
        if self.revoked.get() {
            return invalid();
        }
        if self.consumed.borrow().contains(&rt) {
            self.reuse.set(self.reuse.get() + 1);
            self.revoked.set(true);
            return invalid();
        }
        if !self.live.borrow().contains(&rt) {
            return invalid();
        }
        self.live.borrow_mut().retain(|t| t != &rt);
        self.consumed.borrow_mut().push(rt);
        let body = self.issue();
        match fault {
            Some(Fault::Rewrite(replacement)) => {
                Ok(HttpResponse::new(200, replacement.replace("{rt}", &format!("rt{}", self.next.get()))))
            }
            _ => Ok(HttpResponse::new(200, body)),
        }
    }

    /// The refresh tokens presented more than once.
    pub fn presented_twice(&self) -> usize {
        self.presentations.borrow().values().filter(|n| **n > 1).count()
    }

    pub fn reuse(&self) -> u32 {
        self.reuse.get()
    }

    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked.get()
    }

    pub fn revoke_all(&self) {
        self.revoked.set(true);
    }
}

/// A transport to the fake provider. With `hold`, answers are computed when the request is sent (the provider
/// consumes the token at once) but delivered only on `release`: the tab's request has left and the tab waits.
pub struct IdpTransport {
    idp: Rc<FakeIdp>,
    hold: Cell<bool>,
    held: RefCell<VecDeque<(Answer, oneshot::Sender<Answer>)>>,
    /// Requests held *before* reaching the provider (the provider sees them on `release`).
    unsent: RefCell<VecDeque<(HttpRequest, oneshot::Sender<Answer>)>>,
    hold_before_provider: Cell<bool>,
    sent: Cell<u32>,
}

impl IdpTransport {
    pub fn new(idp: Rc<FakeIdp>) -> Rc<Self> {
        Rc::new(Self {
            idp,
            hold: Cell::new(false),
            held: RefCell::default(),
            unsent: RefCell::default(),
            hold_before_provider: Cell::new(false),
            sent: Cell::new(0),
        })
    }

    /// Answers wait for `release` (the provider has processed the request).
    pub fn hold_answers(&self, hold: bool) {
        self.hold.set(hold);
    }

    /// Requests wait for `release` before the provider sees them (a slow network).
    pub fn hold_requests(&self, hold: bool) {
        self.hold_before_provider.set(hold);
    }

    /// Delivers everything held.
    pub fn release(&self) {
        let held: Vec<_> = self.held.borrow_mut().drain(..).collect();
        for (answer, tx) in held {
            let _ = tx.send(answer);
        }
        let unsent: Vec<_> = self.unsent.borrow_mut().drain(..).collect();
        for (request, tx) in unsent {
            let _ = tx.send(self.idp.handle(&request));
        }
    }

    pub fn waiting(&self) -> usize {
        self.held.borrow().len() + self.unsent.borrow().len()
    }

    /// Token requests this tab sent.
    pub fn sent(&self) -> u32 {
        self.sent.get()
    }
}

impl Transport for IdpTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, Answer> {
        self.sent.set(self.sent.get() + 1);
        let dropped = |rx: oneshot::Receiver<Answer>| {
            rx.map(|r| r.unwrap_or_else(|_| Err(TransportError::Network("dropped".into())))).boxed_local()
        };
        if self.hold_before_provider.get() {
            let (tx, rx) = oneshot::channel();
            self.unsent.borrow_mut().push_back((request, tx));
            return dropped(rx);
        }
        let answer = self.idp.handle(&request);
        if self.hold.get() {
            let (tx, rx) = oneshot::channel();
            self.held.borrow_mut().push_back((answer, tx));
            return dropped(rx);
        }
        futures::future::ready(answer).boxed_local()
    }
}

/// One tab: its own executor (not running it = the tab is frozen), store, transport, manager.
pub struct Tab {
    pub id: String,
    pub pool: RefCell<LocalPool>,
    pub store: Rc<MemoryStore>,
    pub transport: Rc<IdpTransport>,
    pub manager: TokenManager,
    pub siblings: Rc<FakeTab>,
    pub events: Rc<RefCell<Vec<SessionEvent>>>,
    pub frozen: Cell<bool>,
}

impl Tab {
    /// Runs this tab's executor until nothing is ready (unless frozen).
    pub fn run(&self) {
        if !self.frozen.get() {
            self.pool.borrow_mut().run_until_stalled();
        }
    }

    /// Spawns a call to `get_valid_access_token` and returns where its result lands.
    pub fn call(&self) -> Rc<RefCell<Option<Result<String, AuthError>>>> {
        let out = Rc::new(RefCell::new(None));
        let (m, o) = (self.manager.clone(), out.clone());
        self.pool
            .borrow()
            .spawner()
            .spawn_local(async move {
                let r = m.get_valid_access_token().await.map(|t| t.expose().to_owned());
                *o.borrow_mut() = Some(r);
            })
            .unwrap();
        out
    }

    /// Spawns `start()`.
    pub fn start(&self) {
        let m = self.manager.clone();
        self.pool.borrow().spawner().spawn_local(async move { m.start().await }).unwrap();
    }

    pub fn maintain(&self) {
        let m = self.manager.clone();
        self.pool.borrow().spawner().spawn_local(async move { m.maintain().await }).unwrap();
    }

    pub fn seq(&self) -> Option<u64> {
        self.manager.tokens().map(|t| t.seq)
    }

    pub fn ended_with(&self) -> Option<EndReason> {
        self.events.borrow().iter().rev().find_map(|e| match e {
            SessionEvent::Ended(e) => e.end_reason().cloned(),
            _ => None,
        })
    }
}

/// Several tabs of one browser over one provider and one clock.
pub struct World {
    pub clock: Rc<FakeClock>,
    pub timers: Rc<FakeTimers>,
    pub idp: Rc<FakeIdp>,
    pub tabs: FakeTabs,
    pub config: ManagerConfig,
}

impl World {
    pub fn new(ttl_secs: i64) -> Self {
        let clock = Rc::new(FakeClock::new(T0));
        let timers = Rc::new(FakeTimers::new(clock.clone()));
        let mut config = ManagerConfig::new(TOKEN_URL, "spa");
        config.lock_timeout_ms = 5_000;
        Self { idp: FakeIdp::new(clock.clone(), ttl_secs), tabs: FakeTabs::new(timers.clone()), clock, timers, config }
    }

    /// Opens a tab whose storage holds `stored` (a copy of a sibling's sessionStorage, or nothing).
    pub fn open(&self, id: &str, stored: Option<&TokenSet>) -> Tab {
        let pool = LocalPool::new();
        let spawner = pool.spawner();
        let store = Rc::new(MemoryStore::default());
        if let Some(t) = stored {
            store.save(t).unwrap();
        }
        let transport = IdpTransport::new(self.idp.clone());
        let siblings = self.tabs.tab(id);
        let spawn = spawner.clone();
        let runtime = FakeRuntime::new(self.timers.clone(), move |task| spawn.spawn_local(task).unwrap());
        let manager = TokenManager::new(
            self.config.clone(),
            self.clock.clone(),
            store.clone(),
            transport.clone(),
            Metrics::default(),
        )
        .with_runtime(Rc::new(runtime))
        .with_siblings(siblings.clone());
        let (m, s) = (manager.clone(), spawner.clone());
        siblings.connect(move |message| {
            let m = m.clone();
            s.spawn_local(async move { m.receive(&message) }).unwrap();
        });
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        manager.subscribe(move |e| sink.borrow_mut().push(e.clone()));
        Tab {
            id: id.to_owned(),
            pool: RefCell::new(pool),
            store,
            transport,
            manager,
            siblings,
            events,
            frozen: Cell::new(false),
        }
    }

    /// A signed-in tab.
    pub fn signed_in(&self, id: &str) -> Tab {
        let tab = self.open(id, None);
        tab.manager.sign_in(self.idp.sign_in().with_lineage("L1")).unwrap();
        tab
    }

    /// Runs every unfrozen tab until the whole browser is idle.
    pub fn settle(&self, tabs: &[&Tab]) {
        for _ in 0..50 {
            for t in tabs {
                t.run();
            }
        }
    }

    /// Moves time forward in small steps, running the tabs in between.
    pub fn pass(&self, ms: i64, tabs: &[&Tab]) {
        let step = 100.min(ms.max(1));
        let mut left = ms;
        while left > 0 {
            let d = step.min(left);
            self.timers.advance(d);
            left -= d;
            self.settle(tabs);
        }
    }
}
