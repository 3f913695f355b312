//! A browser of several tabs in one process: locks, the shared record, and messages between tabs.

use super::FakeTimers;
use crate::lineage::LineageRecord;
use crate::siblings::{LockGuard, LockMode, RecordUpdate, SiblingMessage, Siblings, SiblingsError};
use futures::channel::oneshot;
use futures::future::{select, Either, FutureExt, LocalBoxFuture};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};

type Deliver = Rc<dyn Fn(SiblingMessage)>;

#[derive(Default)]
struct Lock {
    holder: Option<u64>,
    queue: VecDeque<(u64, oneshot::Sender<u64>)>,
}

struct Slot {
    id: String,
    deliver: RefCell<Option<Deliver>>,
}

struct Hub {
    timers: Rc<FakeTimers>,
    records: RefCell<BTreeMap<String, LineageRecord>>,
    locks: RefCell<BTreeMap<String, Lock>>,
    tabs: RefCell<Vec<Rc<Slot>>>,
    next_grant: Cell<u64>,
    records_unavailable: Cell<bool>,
    writes_failing: Cell<bool>,
    posted: RefCell<Vec<SiblingMessage>>,
    grant_owners: RefCell<BTreeMap<u64, String>>,
}

/// The shared part of a fake browser: the records, the locks, and who receives messages.
///
/// Each tab is a [`FakeTab`] with its own executor (a `LocalPool` in tests): a message to a tab is delivered by
/// spawning onto its executor, so a tab whose executor is not run is *frozen* — it keeps its locks, lock grants
/// and messages wait for it, exactly the cases a browser produces.
///
/// ## Usage
///
/// ```
/// use std::rc::Rc;
/// use oten_auth_core::{LockMode, Siblings, testing::{FakeClock, FakeTabs, FakeTimers}};
/// let tabs = FakeTabs::new(Rc::new(FakeTimers::new(Rc::new(FakeClock::new(0)))));
/// let (a, b) = (tabs.tab("a"), tabs.tab("b"));
/// let held = futures::executor::block_on(a.lock("L", LockMode::Wait { timeout_ms: 10 })).unwrap();
/// assert_eq!(tabs.lock_holder("L"), Some("a".to_string()));
/// drop(held);
/// assert_eq!(tabs.lock_holder("L"), None);
/// # let _ = b;
/// ```
#[derive(Clone)]
pub struct FakeTabs {
    hub: Rc<Hub>,
}

/// One tab of [`FakeTabs`]; implements [`Siblings`].
pub struct FakeTab {
    hub: Rc<Hub>,
    id: String,
}

impl FakeTabs {
    /// A browser whose lock timeouts run on `timers`.
    pub fn new(timers: Rc<FakeTimers>) -> Self {
        Self {
            hub: Rc::new(Hub {
                timers,
                records: RefCell::default(),
                locks: RefCell::default(),
                tabs: RefCell::default(),
                next_grant: Cell::new(1),
                records_unavailable: Cell::new(false),
                writes_failing: Cell::new(false),
                posted: RefCell::default(),
                grant_owners: RefCell::default(),
            }),
        }
    }

    /// Opens a tab with this id.
    pub fn tab(&self, id: &str) -> Rc<FakeTab> {
        self.hub.tabs.borrow_mut().push(Rc::new(Slot { id: id.to_owned(), deliver: RefCell::new(None) }));
        Rc::new(FakeTab { hub: self.hub.clone(), id: id.to_owned() })
    }

    /// Closes a tab: it gets no more messages and the locks it holds are released, as when a page unloads.
    pub fn close(&self, id: &str) {
        self.hub.tabs.borrow_mut().retain(|s| s.id != id);
        let grants: Vec<(String, u64)> = self
            .hub
            .locks
            .borrow()
            .iter()
            .filter_map(|(name, l)| {
                l.holder.filter(|g| self.grant_owner(*g).as_deref() == Some(id)).map(|g| (name.clone(), g))
            })
            .collect();
        for (name, grant) in grants {
            release(&self.hub, &name, grant);
        }
    }

    fn grant_owner(&self, grant: u64) -> Option<String> {
        self.hub.grant_owners.borrow().get(&grant).cloned()
    }

    /// The shared record of a lineage.
    pub fn record(&self, lineage: &str) -> Option<LineageRecord> {
        self.hub.records.borrow().get(lineage).cloned()
    }

    /// Replaces the shared record of a lineage.
    pub fn set_record(&self, lineage: &str, record: LineageRecord) {
        self.hub.records.borrow_mut().insert(lineage.to_owned(), record);
    }

    /// Which tab holds a lock.
    pub fn lock_holder(&self, name: &str) -> Option<String> {
        let grant = self.hub.locks.borrow().get(name).and_then(|l| l.holder)?;
        self.grant_owner(grant)
    }

    /// Makes the shared record fail (as when IndexedDB is unavailable).
    pub fn set_records_unavailable(&self, unavailable: bool) {
        self.hub.records_unavailable.set(unavailable);
    }

    /// Makes writes to the shared record fail while reads still work (as when IndexedDB's quota is exhausted).
    pub fn set_record_writes_failing(&self, failing: bool) {
        self.hub.writes_failing.set(failing);
    }

    /// Removes the shared record of a lineage.
    pub fn remove_record(&self, lineage: &str) {
        self.hub.records.borrow_mut().remove(lineage);
    }

    /// Every message posted so far, in order.
    pub fn posted(&self) -> Vec<SiblingMessage> {
        self.hub.posted.borrow().clone()
    }
}

fn release(hub: &Hub, name: &str, grant: u64) {
    let mut locks = hub.locks.borrow_mut();
    let Some(lock) = locks.get_mut(name) else { return };
    if lock.holder != Some(grant) {
        return; // stolen meanwhile: the thief holds it now
    }
    lock.holder = None;
    while let Some((next, tx)) = lock.queue.pop_front() {
        if tx.send(next).is_ok() {
            lock.holder = Some(next);
            break;
        }
    }
}

struct Release {
    hub: Weak<Hub>,
    name: String,
    grant: u64,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            release(&hub, &self.name, self.grant);
        }
    }
}

impl FakeTab {
    /// Where this tab's messages go: usually `move |m| spawner.spawn_local(async move { manager.receive(&m) })`.
    pub fn connect(&self, deliver: impl Fn(SiblingMessage) + 'static) {
        let slot = self.hub.tabs.borrow().iter().find(|s| s.id == self.id).cloned();
        if let Some(slot) = slot {
            *slot.deliver.borrow_mut() = Some(Rc::new(deliver));
        }
    }

    fn guard(&self, name: &str, grant: u64) -> LockGuard {
        LockGuard::new(Release { hub: Rc::downgrade(&self.hub), name: name.to_owned(), grant })
    }

    fn new_grant(&self) -> u64 {
        let grant = self.hub.next_grant.get();
        self.hub.next_grant.set(grant + 1);
        self.hub.grant_owners.borrow_mut().insert(grant, self.id.clone());
        grant
    }
}

impl Siblings for FakeTab {
    fn tab_id(&self) -> String {
        self.id.clone()
    }

    fn others(&self) -> LocalBoxFuture<'static, usize> {
        let n = self.hub.tabs.borrow().iter().filter(|s| s.id != self.id).count();
        futures::future::ready(n).boxed_local()
    }

    fn read(&self, lineage: &str) -> LocalBoxFuture<'static, Result<Option<LineageRecord>, SiblingsError>> {
        let answer = if self.hub.records_unavailable.get() {
            Err(SiblingsError::Unavailable("fake".into()))
        } else {
            Ok(self.hub.records.borrow().get(lineage).cloned())
        };
        futures::future::ready(answer).boxed_local()
    }

    fn update(
        &self,
        lineage: &str,
        update: RecordUpdate,
    ) -> LocalBoxFuture<'static, Result<Option<LineageRecord>, SiblingsError>> {
        if self.hub.records_unavailable.get() || self.hub.writes_failing.get() {
            return futures::future::ready(Err(SiblingsError::Unavailable("fake".into()))).boxed_local();
        }
        let mut records = self.hub.records.borrow_mut();
        let before = records.get(lineage).cloned();
        if let Some(next) = update(before.as_ref()) {
            records.insert(lineage.to_owned(), next);
        }
        futures::future::ready(Ok(before)).boxed_local()
    }

    fn post(&self, message: &SiblingMessage) {
        self.hub.posted.borrow_mut().push(message.clone());
        let receivers: Vec<Deliver> = self
            .hub
            .tabs
            .borrow()
            .iter()
            .filter(|s| s.id != self.id)
            .filter_map(|s| s.deliver.borrow().clone())
            .collect();
        for deliver in receivers {
            deliver(message.clone());
        }
    }

    fn lock(&self, lineage: &str, mode: LockMode) -> LocalBoxFuture<'static, Result<LockGuard, SiblingsError>> {
        let name = lineage.to_owned();
        let grant = self.new_grant();
        let rx = {
            let mut locks = self.hub.locks.borrow_mut();
            let lock = locks.entry(name.clone()).or_default();
            match mode {
                LockMode::Steal => {
                    lock.holder = Some(grant);
                    None
                }
                LockMode::Wait { .. } if lock.holder.is_none() => {
                    lock.holder = Some(grant);
                    None
                }
                LockMode::Wait { .. } => {
                    let (tx, rx) = oneshot::channel();
                    lock.queue.push_back((grant, tx));
                    Some(rx)
                }
            }
        };
        let guard = self.guard(&name, grant);
        let Some(rx) = rx else { return futures::future::ready(Ok(guard)).boxed_local() };
        let LockMode::Wait { timeout_ms } = mode else { unreachable!() };
        let timeout = self.hub.timers.sleep(timeout_ms);
        let hub = Rc::downgrade(&self.hub);
        async move {
            match select(rx, timeout).await {
                Either::Left((Ok(_), _)) => Ok(guard),
                _ => {
                    // Timed out: leave the queue; if the grant raced the timer, keep it.
                    let Some(hub) = hub.upgrade() else { return Err(SiblingsError::LockTimeout) };
                    let granted = {
                        let mut locks = hub.locks.borrow_mut();
                        let lock = locks.entry(name).or_default();
                        lock.queue.retain(|(g, _)| *g != grant);
                        lock.holder == Some(grant)
                    };
                    if granted {
                        Ok(guard)
                    } else {
                        drop(guard); // not the holder: dropping releases nothing
                        Err(SiblingsError::LockTimeout)
                    }
                }
            }
        }
        .boxed_local()
    }
}
