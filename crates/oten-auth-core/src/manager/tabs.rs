//! Sibling tabs: messages in, joining a session, asking for newer tokens, adopting them.

use super::{SessionEvent, TokenManager};
use crate::lineage::{LineageRecord, RefreshGate};
use crate::metrics::MetricEvent;
use crate::secret::AccessToken;
use crate::siblings::{SiblingMessage, SiblingTab, TokensKind};
use crate::token_set::TokenSet;
use futures::channel::oneshot;
use futures::future::{select, Either, FutureExt};

impl TokenManager {
    /// Handles a message from a sibling tab (the browser crate calls it for every `BroadcastChannel` message):
    /// takes a newer rotation of this tab's session, joins a sibling's new sign-in when this tab has no session,
    /// answers siblings that ask, and ends the session when a sibling says it ended.
    ///
    /// ## Usage
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use oten_auth_core::{*, testing::{FakeClock, FakeTransport}};
    /// # let manager = TokenManager::new(ManagerConfig::new("https://idp.test/token", "spa"), Rc::new(FakeClock::new(0)),
    /// #     Rc::new(MemoryStore::default()), Rc::new(FakeTransport::default()), Metrics::default());
    /// if let Some(message) = SiblingMessage::from_json(r#"{"join":{"from":"t2"}}"#) {
    ///     manager.receive(&message); // without siblings configured, messages are ignored
    /// }
    /// ```
    pub fn receive(&self, message: &SiblingMessage) {
        if self.inner.siblings.is_none() {
            return;
        }
        self.ensure_loaded();
        match message {
            SiblingMessage::Tokens { kind, tokens, .. } => self.consider(*kind, tokens),
            SiblingMessage::Want { lineage, after_seq, .. } => {
                if let Some(mine) = self.tokens().filter(|t| &t.lineage == lineage && t.seq > *after_seq) {
                    self.post(SiblingMessage::Tokens {
                        from: String::new(),
                        kind: TokensKind::Answer,
                        tokens: Box::new(mine),
                    });
                }
            }
            SiblingMessage::Join { .. } => {
                // Only a session that can be used as it is: not one whose access token expired (a frozen tab's), not
                // one this tab cannot renew, not one whose refresh token is being presented right now.
                let now = self.now();
                let shareable = self.tokens().filter(|t| {
                    self.inner.config.join_siblings
                        && !self.is_stuck()
                        && !self.is_refreshing()
                        && !t.is_expired(now)
                        && !t.is_past_max_age(now, self.inner.config.max_session_age_ms)
                });
                if let Some(mine) = shareable {
                    self.post(SiblingMessage::Tokens {
                        from: String::new(),
                        kind: TokensKind::Answer,
                        tokens: Box::new(mine),
                    });
                }
            }
            SiblingMessage::Ended { lineage, reason, .. } => {
                if self.tokens().is_some_and(|t| &t.lineage == lineage) {
                    self.end(reason.clone(), false, false);
                }
            }
            SiblingMessage::Who { .. } => {
                let (sub, lineage) = {
                    let st = self.inner.state.borrow();
                    let tokens = st.tokens.as_ref();
                    (tokens.and_then(|t| t.user.as_ref()).map(|u| u.sub.clone()), tokens.map(|t| t.lineage.clone()))
                };
                self.post(SiblingMessage::Here { from: String::new(), sub, lineage });
            }
            SiblingMessage::Here { from, sub, lineage } => {
                let mut st = self.inner.state.borrow_mut();
                let st = &mut *st;
                // Only while this tab asks; one entry per tab.
                let Some((_, census)) = st.census.as_mut() else { return };
                if !census.iter().any(|t| &t.tab == from) {
                    let mine = st.tokens.as_ref().map(|t| t.lineage.as_str());
                    let same_session = lineage.is_some() && lineage.as_deref() == mine;
                    census.push(SiblingTab { tab: from.clone(), sub: sub.clone(), same_session });
                }
            }
        }
    }

    /// The other open tabs of this app and who they are signed in as: asked over the sibling channel, answers
    /// gathered for [`super::ManagerConfig::ask_timeout_ms`]. Empty without siblings or when no other tab is open;
    /// a frozen tab answers only when it thaws, so it may be missing. Never carries a token.
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use oten_auth_core::{*, testing::{FakeClock, FakeTransport}};
    /// # let manager = TokenManager::new(ManagerConfig::new("https://idp.test/token", "spa"), Rc::new(FakeClock::new(0)),
    /// #     Rc::new(MemoryStore::default()), Rc::new(FakeTransport::default()), Metrics::default());
    /// let tabs = futures::executor::block_on(manager.sibling_tabs());
    /// assert!(tabs.is_empty()); // no siblings configured
    /// ```
    pub async fn sibling_tabs(&self) -> Vec<SiblingTab> {
        let Some(siblings) = self.inner.siblings.clone() else { return Vec::new() };
        if siblings.others().await == 0 {
            return Vec::new();
        }
        // Calls that overlap share one census: each gets what was gathered, the last one ends it.
        self.inner.state.borrow_mut().census.get_or_insert_with(Default::default).0 += 1;
        self.post(SiblingMessage::Who { from: String::new() });
        self.sleep(self.inner.config.ask_timeout_ms).await;
        let mut st = self.inner.state.borrow_mut();
        match st.census.as_mut() {
            Some((askers, census)) if *askers > 1 => {
                *askers -= 1;
                census.clone()
            }
            _ => st.census.take().map(|(_, census)| census).unwrap_or_default(),
        }
    }

    /// Gets the session ready when the page starts, before anything uses it.
    ///
    /// - A stored session (a reload, or a copied tab) is checked against the shared record: ended elsewhere → cleared;
    ///   older than a sibling's → the newer tokens are asked for.
    /// - Without a stored session, and with [`super::ManagerConfig::join_siblings`], the open sibling tabs are asked
    ///   for theirs: the newest sign-in that has not ended is joined, with no click and no redirect.
    pub async fn start(&self) {
        self.ensure_loaded();
        let Some(siblings) = self.inner.siblings.clone() else { return };
        match self.tokens() {
            Some(mine) => {
                let Ok(record) = siblings.read(&mine.lineage).await else { return };
                match LineageRecord::gate(record.as_ref(), mine.seq, self.now()) {
                    RefreshGate::Ended(reason) if self.tokens().is_some_and(|t| t.lineage == mine.lineage) => {
                        self.end(reason, false, false);
                    }
                    RefreshGate::Stale { seq } => {
                        let newer = self.ask_for_newer(&mine.lineage, mine.seq, seq).await;
                        self.inner.state.borrow_mut().stuck |= newer.is_none();
                    }
                    _ => {}
                }
            }
            None if self.inner.config.join_siblings => self.join(siblings).await,
            None => {}
        }
    }

    async fn join(&self, siblings: std::rc::Rc<dyn crate::siblings::Siblings>) {
        if siblings.others().await == 0 {
            return;
        }
        self.inner.state.borrow_mut().joining = Some(Vec::new());
        self.post(SiblingMessage::Join { from: String::new() });
        self.sleep(self.inner.config.ask_timeout_ms).await;
        let mut offers = self.inner.state.borrow_mut().joining.take().unwrap_or_default();
        if self.is_signed_in() {
            return;
        }
        // The newest sign-in first, and of each lineage its newest rotation.
        newest_first(&mut offers);
        offers.dedup_by(|later, kept| later.lineage == kept.lineage);
        let lock_timeout = i64::from(self.inner.config.lock_timeout_ms);
        for offer in offers {
            let now = self.now();
            if offer.is_expired(now) {
                continue;
            }
            let record = siblings.read(&offer.lineage).await.ok().flatten();
            match LineageRecord::gate(record.as_ref(), offer.seq, now) {
                RefreshGate::Ended(_) | RefreshGate::Stale { .. } => continue,
                // A presentation long pending: the lineage cannot be renewed by a newcomer either.
                RefreshGate::InFlight { since, .. } if now.saturating_sub(since) >= lock_timeout => continue,
                _ => {}
            }
            if !self.is_signed_in() {
                self.adopt(offer, true);
            }
            return;
        }
    }

    /// Asks the siblings for rotation `newest` (or any after `held`) of `lineage` and waits briefly. Returns the
    /// adopted access token, or `None` when no sibling handed it over (it may be frozen or closed).
    pub(super) async fn ask_for_newer(&self, lineage: &str, held: u64, newest: u64) -> Option<AccessToken> {
        let adopted = |m: &TokenManager| {
            let st = m.inner.state.borrow();
            st.tokens
                .as_ref()
                .filter(|t| t.lineage == lineage && t.seq >= newest.max(held + 1))
                .map(|t| t.access_token.clone())
        };
        if let Some(token) = adopted(self) {
            return Some(token);
        }
        let others = match &self.inner.siblings {
            Some(siblings) => siblings.others().await,
            None => 0,
        };
        if others == 0 {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.inner.state.borrow_mut();
            st.adoption_waiters.retain(|w| !w.is_canceled());
            st.adoption_waiters.push(tx);
        }
        self.post(SiblingMessage::Want { from: String::new(), lineage: lineage.to_owned(), after_seq: held });
        let timeout = self.sleep(self.inner.config.ask_timeout_ms);
        match select(rx, timeout).await {
            Either::Left(_) | Either::Right(_) => adopted(self),
        }
    }

    /// While stuck, looks at the shared record again: the lineage may have ended, or its newest tokens may be
    /// available now (a frozen sibling woke up and finished), or the pending presentation may have failed.
    pub(super) async fn recheck_stuck(&self) {
        let (Some(siblings), Some(mine)) = (self.inner.siblings.clone(), self.tokens()) else { return };
        let Ok(record) = siblings.read(&mine.lineage).await else { return };
        match LineageRecord::gate(record.as_ref(), mine.seq, self.now()) {
            RefreshGate::Ended(reason) => {
                self.end(reason, false, false);
            }
            RefreshGate::Stale { seq } => {
                let _ = self.ask_for_newer(&mine.lineage, mine.seq, seq).await;
            }
            RefreshGate::Go | RefreshGate::Backoff { .. } => self.inner.state.borrow_mut().stuck = false,
            RefreshGate::InFlight { .. } => {}
        }
    }

    /// Takes tokens from a sibling if they are newer than this tab's, or a session to join.
    ///
    /// Messages are checked for shape ([`SiblingMessage::from_json`]) but come from any document of the app's
    /// origin: a script there could offer a session. That is no more than such a script can do anyway (it runs as the
    /// app), and [`super::ManagerConfig::join_siblings`] turns joining off.
    fn consider(&self, kind: TokensKind, tokens: &TokenSet) {
        let newer_rotation;
        let join;
        {
            let mut st = self.inner.state.borrow_mut();
            if st.tokens.is_none() {
                if let Some(offers) = st.joining.as_mut() {
                    offers.push(tokens.clone());
                    return;
                }
            }
            newer_rotation = st.tokens.as_ref().is_some_and(|t| t.lineage == tokens.lineage && tokens.seq > t.seq);
            // Never while a refresh of this tab is under way: its outcome would be thrown away and revoked, and with
            // one grant per IdP session that revocation would end the session just joined.
            let joinable = self.inner.config.join_siblings && kind == TokensKind::SignedIn && st.pending.is_none();
            // A tab without a session joins a sibling's sign-in; a stuck tab takes a sibling's newer sign-in.
            join = match &st.tokens {
                None => joinable,
                Some(t) => joinable && st.stuck && t.lineage != tokens.lineage && tokens.signed_in_at >= t.signed_in_at,
            };
        }
        if newer_rotation {
            self.adopt(tokens.clone(), false);
        } else if join {
            self.adopt(tokens.clone(), true);
        }
    }

    /// Makes `tokens` this tab's: a newer rotation of its lineage, or (`new_lineage`) a session it joins.
    fn adopt(&self, tokens: TokenSet, new_lineage: bool) {
        let _ = self.persist(&tokens);
        let waiters = {
            let mut st = self.inner.state.borrow_mut();
            st.loaded = true;
            if new_lineage {
                st.generation += 1;
                st.pending = None;
            }
            st.tokens = Some(tokens);
            st.stuck = false;
            st.retry_at = 0;
            st.failures = 0;
            std::mem::take(&mut st.adoption_waiters)
        };
        for waiter in waiters {
            let _ = waiter.send(());
        }
        self.inner.metrics.record(MetricEvent::TokensAdopted);
        self.emit(SessionEvent::Adopted);
    }

    fn sleep(&self, ms: u32) -> futures::future::LocalBoxFuture<'static, ()> {
        match &self.inner.runtime {
            Some(runtime) => runtime.sleep(ms),
            None => futures::future::ready(()).boxed_local(),
        }
    }
}

/// Orders sibling offers newest sign-in first, and within a sign-in newest rotation first, keeping the order of equal
/// offers (a stable insertion sort: a handful of offers, and no standard-library sort in the wasm for it).
fn newest_first(offers: &mut [TokenSet]) {
    for i in 1..offers.len() {
        let mut j = i;
        while j > 0 && (offers[j].signed_in_at, offers[j].seq) > (offers[j - 1].signed_in_at, offers[j - 1].seq) {
            offers.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::newest_first;
    use crate::token_set::TokenSet;

    fn offer(lineage: &str, signed_in_at: i64, seq: u64) -> TokenSet {
        let mut t = TokenSet::parse_token_response(r#"{"access_token":"a","expires_in":60}"#, 0, None).unwrap();
        (t.lineage, t.signed_in_at, t.seq) = (lineage.to_owned(), signed_in_at, seq);
        t
    }

    /// The same order as the standard library's stable sort on `Reverse((signed_in_at, seq))`, for every
    /// arrangement of a set with ties.
    #[test]
    fn newest_first_matches_a_stable_sort_on_every_permutation() {
        let base = [offer("a", 1, 1), offer("a", 1, 2), offer("b", 2, 1), offer("c", 1, 2), offer("d", 2, 1)];
        let mut indexes: Vec<usize> = (0..base.len()).collect();
        let mut checked = 0;
        permute(&mut indexes, 0, &mut |order| {
            let mut ours: Vec<TokenSet> = order.iter().map(|&i| base[i].clone()).collect();
            let mut std_sorted = ours.clone();
            std_sorted.sort_by_key(|o| std::cmp::Reverse((o.signed_in_at, o.seq)));
            newest_first(&mut ours);
            let key = |v: &[TokenSet]| v.iter().map(|t| (t.lineage.clone(), t.signed_in_at, t.seq)).collect::<Vec<_>>();
            assert_eq!(key(&ours), key(&std_sorted), "from {order:?}");
            checked += 1;
        });
        assert_eq!(checked, 120);
    }

    fn permute(v: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
        if k == v.len() {
            return f(v);
        }
        for i in k..v.len() {
            v.swap(k, i);
            permute(v, k + 1, f);
            v.swap(k, i);
        }
    }
}
