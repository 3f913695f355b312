//! Timers on a fake clock, and a runtime over them.

use super::FakeClock;
use crate::clock::Clock;
use crate::siblings::Runtime;
use futures::channel::oneshot;
use futures::future::{FutureExt, LocalBoxFuture};
use std::cell::RefCell;
use std::rc::Rc;

/// Sleeps that end when the shared [`FakeClock`] is moved past them with [`FakeTimers::advance`].
///
/// ```
/// use std::rc::Rc;
/// use oten_auth_core::testing::{FakeClock, FakeTimers};
/// use futures::FutureExt;
/// let timers = FakeTimers::new(Rc::new(FakeClock::new(0)));
/// let mut nap = timers.sleep(100);
/// assert!((&mut nap).now_or_never().is_none());
/// timers.advance(100);
/// assert!(nap.now_or_never().is_some());
/// ```
pub struct FakeTimers {
    clock: Rc<FakeClock>,
    sleepers: RefCell<Vec<(i64, oneshot::Sender<()>)>>,
}

impl FakeTimers {
    /// Timers on `clock`.
    pub fn new(clock: Rc<FakeClock>) -> Self {
        Self { clock, sleepers: RefCell::new(Vec::new()) }
    }

    /// The clock.
    pub fn clock(&self) -> &Rc<FakeClock> {
        &self.clock
    }

    /// A future that resolves once the clock has moved `ms` forward.
    pub fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        if ms == 0 {
            return futures::future::ready(()).boxed_local();
        }
        let (tx, rx) = oneshot::channel();
        self.sleepers.borrow_mut().push((self.clock.now_ms() + i64::from(ms), tx));
        rx.map(drop).boxed_local()
    }

    /// Moves the clock forward and ends every sleep that is due (their futures run when their executor runs).
    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
        let now = self.clock.now_ms();
        let due: Vec<_> = {
            let mut sleepers = self.sleepers.borrow_mut();
            let (due, waiting) = sleepers.drain(..).partition(|(at, _)| *at <= now);
            *sleepers = waiting;
            due
        };
        for (_, tx) in due {
            let _ = tx.send(());
        }
    }

    /// How many sleeps are pending.
    pub fn pending(&self) -> usize {
        self.sleepers.borrow().len()
    }
}

type Spawn = Rc<dyn Fn(LocalBoxFuture<'static, ()>)>;

/// A [`Runtime`] for tests: spawns with the given function (a `LocalPool` spawner) and sleeps on [`FakeTimers`].
///
/// ```
/// use std::rc::Rc;
/// use futures::{executor::LocalPool, task::LocalSpawnExt};
/// use oten_auth_core::{Runtime, testing::{FakeClock, FakeRuntime, FakeTimers}};
/// let pool = LocalPool::new();
/// let spawner = pool.spawner();
/// let timers = Rc::new(FakeTimers::new(Rc::new(FakeClock::new(0))));
/// let runtime = FakeRuntime::new(timers, move |task| spawner.spawn_local(task).unwrap());
/// runtime.spawn(Box::pin(async {}));
/// ```
#[derive(Clone)]
pub struct FakeRuntime {
    timers: Rc<FakeTimers>,
    spawn: Spawn,
}

impl FakeRuntime {
    /// A runtime over `timers` that spawns with `spawn`.
    pub fn new(timers: Rc<FakeTimers>, spawn: impl Fn(LocalBoxFuture<'static, ()>) + 'static) -> Self {
        Self { timers, spawn: Rc::new(spawn) }
    }
}

impl Runtime for FakeRuntime {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        (self.spawn)(task)
    }

    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        self.timers.sleep(ms)
    }
}
