//! The record the tabs of one session share, and the rule that decides whether a tab may present its refresh
//! token.
//!
//! Tabs of one person share one grant at the provider (one IdP session has one grant per client), and with
//! rotation and reuse detection a refresh token presented twice revokes that grant for every tab. So the tabs
//! that hold a session — a *lineage*: one sign-in and its rotations — keep a small shared record (in the browser,
//! IndexedDB: shared by the tabs, consistent across them, and kept across page loads). It holds no token: only
//! the newest rotation's number, a marker for a refresh request that may be on its way, the backoff after
//! failures, and whether the lineage ended. A tab presents its refresh token only when the record says its tokens
//! are the newest and no presentation is pending, and it writes the marker in the same atomic update
//! ([`LineageRecord::begin`]).

use crate::end_reason::EndReason;
use serde::{Deserialize, Serialize};

/// A refresh request that left, or may have left, and whose answer is not recorded yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    /// The tab that sent it.
    pub tab: String,
    /// The rotation whose refresh token it presents.
    pub seq: u64,
    /// When it was marked (ms since epoch, wall clock).
    pub at: i64,
}

/// What the tabs of one lineage share. No token is ever part of it.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{LineageRecord, RefreshGate};
/// let record = LineageRecord::default();
/// let (next, gate) = LineageRecord::begin(Some(&record), 0, "tab-a", 1_000);
/// assert_eq!(gate, RefreshGate::Go);
/// let next = next.unwrap();
/// assert_eq!(next.in_flight.as_ref().map(|f| f.tab.as_str()), Some("tab-a"));
/// // A second tab now must not present the same refresh token.
/// assert_eq!(LineageRecord::begin(Some(&next), 0, "tab-b", 1_001).1, RefreshGate::InFlight { since: 1_000, tab: "tab-a".into() });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageRecord {
    /// The newest rotation any tab holds (0 at sign-in).
    pub seq: u64,
    /// A presentation whose outcome is unknown.
    #[serde(default)]
    pub in_flight: Option<InFlight>,
    /// Passing failures in a row.
    #[serde(default)]
    pub failures: u32,
    /// No refresh before this instant (ms since epoch): the backoff after failures, shared by the tabs.
    #[serde(default)]
    pub retry_at: i64,
    /// Set when the lineage ended: every tab holding it clears its tokens.
    #[serde(default)]
    pub ended: Option<EndReason>,
    /// Last change (ms since epoch), to prune old records.
    #[serde(default)]
    pub updated_at: i64,
}

/// Whether a tab may present its refresh token now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshGate {
    /// Yes: its tokens are the newest and nothing is pending.
    Go,
    /// No: a sibling holds newer tokens (`seq`); ask for them.
    Stale {
        /// The newest rotation.
        seq: u64,
    },
    /// No: a presentation of this refresh token may be on its way (from `tab`, marked at `since`).
    InFlight {
        /// When it was marked.
        since: i64,
        /// Who marked it.
        tab: String,
    },
    /// No: wait until `retry_at` after failures.
    Backoff {
        /// When the next attempt may go.
        retry_at: i64,
    },
    /// No: the lineage ended.
    Ended(EndReason),
}

impl LineageRecord {
    /// The gate for a tab holding rotation `seq` at `now_ms`. A missing record means a fresh lineage.
    ///
    /// ```
    /// use oten_auth_core::{LineageRecord, RefreshGate};
    /// assert_eq!(LineageRecord::gate(None, 3, 0), RefreshGate::Go);
    /// let newer = LineageRecord { seq: 4, ..Default::default() };
    /// assert_eq!(LineageRecord::gate(Some(&newer), 3, 0), RefreshGate::Stale { seq: 4 });
    /// ```
    pub fn gate(record: Option<&LineageRecord>, seq: u64, now_ms: i64) -> RefreshGate {
        let Some(r) = record else { return RefreshGate::Go };
        if let Some(reason) = &r.ended {
            return RefreshGate::Ended(reason.clone());
        }
        if r.seq > seq {
            return RefreshGate::Stale { seq: r.seq };
        }
        if let Some(f) = &r.in_flight {
            return RefreshGate::InFlight { since: f.at, tab: f.tab.clone() };
        }
        // A deadline further ahead than any backoff can be came from a clock that has since been set back: it is
        // ignored rather than blocking refreshes for that long.
        let longest = crate::backoff::MAX_BACKOFF_MS.max(i64::from(crate::backoff::MAX_RETRY_AFTER_SECS) * 1000);
        if now_ms < r.retry_at && r.retry_at - now_ms <= longest {
            return RefreshGate::Backoff { retry_at: r.retry_at };
        }
        RefreshGate::Go
    }

    /// The atomic "check and mark" before a presentation: the gate, and when it is [`RefreshGate::Go`] the record
    /// to write (with this tab's in-flight marker). The caller must write it in the same atomic update as the check
    /// and send the request only after the write has committed.
    pub fn begin(
        record: Option<&LineageRecord>,
        seq: u64,
        tab: &str,
        now_ms: i64,
    ) -> (Option<LineageRecord>, RefreshGate) {
        let gate = Self::gate(record, seq, now_ms);
        if gate != RefreshGate::Go {
            return (None, gate);
        }
        let mut next = record.cloned().unwrap_or_default();
        next.seq = seq;
        next.in_flight = Some(InFlight { tab: tab.to_owned(), seq, at: now_ms });
        next.updated_at = now_ms;
        (Some(next), RefreshGate::Go)
    }

    /// After a successful rotation to `seq`: newest rotation recorded, marker and backoff cleared.
    pub fn renewed(record: Option<&LineageRecord>, seq: u64, now_ms: i64) -> LineageRecord {
        let mut next = record.cloned().unwrap_or_default();
        next.seq = next.seq.max(seq);
        next.in_flight = None;
        next.failures = 0;
        next.retry_at = 0;
        next.updated_at = now_ms;
        next
    }

    /// After a passing failure of the presentation marked by `tab`: the provider answered (or the request failed
    /// on its way) without consuming the token, so the marker is cleared and the shared backoff grows.
    pub fn failed(
        record: Option<&LineageRecord>,
        tab: &str,
        retry_after_secs: Option<u32>,
        now_ms: i64,
    ) -> LineageRecord {
        let mut next = record.cloned().unwrap_or_default();
        if next.in_flight.as_ref().is_some_and(|f| f.tab == tab) {
            next.in_flight = None;
        }
        next.failures = next.failures.saturating_add(1);
        next.retry_at = now_ms + crate::backoff::backoff_ms(next.failures, retry_after_secs);
        next.updated_at = now_ms;
        next
    }

    /// The lineage ended for `reason`; every tab holding it clears its tokens.
    pub fn ended(record: Option<&LineageRecord>, reason: EndReason, now_ms: i64) -> LineageRecord {
        let mut next = record.cloned().unwrap_or_default();
        next.ended = Some(reason);
        next.in_flight = None;
        next.updated_at = now_ms;
        next
    }

    /// The stored form (JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form; anything unreadable is `None` (treated as a fresh lineage, never as a crash).
    pub fn from_json(text: &str) -> Option<LineageRecord> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_checks_in_order_ended_stale_in_flight_backoff() {
        let ended = LineageRecord { ended: Some(EndReason::SignedOutElsewhere), seq: 9, ..Default::default() };
        assert_eq!(LineageRecord::gate(Some(&ended), 1, 0), RefreshGate::Ended(EndReason::SignedOutElsewhere));
        let marked = LineageRecord::begin(None, 2, "a", 100).0.unwrap();
        assert_eq!(LineageRecord::gate(Some(&marked), 1, 200), RefreshGate::Stale { seq: 2 });
        assert_eq!(LineageRecord::gate(Some(&marked), 2, 200), RefreshGate::InFlight { since: 100, tab: "a".into() });
        let failed = LineageRecord::failed(Some(&marked), "a", None, 1_000);
        assert_eq!(failed.in_flight, None);
        assert_eq!(LineageRecord::gate(Some(&failed), 2, 2_999), RefreshGate::Backoff { retry_at: 3_000 });
        assert_eq!(LineageRecord::gate(Some(&failed), 2, 3_000), RefreshGate::Go);
        // The clock was set back an hour after the failure: the deadline is ignored.
        assert_eq!(LineageRecord::gate(Some(&failed), 2, 1_000 - 3_600_000), RefreshGate::Go);
        let again = LineageRecord::failed(Some(&failed), "a", Some(30), 3_000);
        assert_eq!((again.failures, again.retry_at), (2, 33_000));
        let renewed = LineageRecord::renewed(Some(&again), 3, 4_000);
        assert_eq!((renewed.seq, renewed.failures, renewed.retry_at, renewed.in_flight), (3, 0, 0, None));
        // Another tab's failure report never clears a marker it does not own.
        let other = LineageRecord::failed(Some(&marked), "b", None, 1_000);
        assert!(other.in_flight.is_some());
    }

    #[test]
    fn begin_marks_only_when_the_gate_is_open_and_json_round_trips() {
        let (write, gate) = LineageRecord::begin(None, 0, "a", 5);
        assert_eq!(gate, RefreshGate::Go);
        let record = write.unwrap();
        assert_eq!(LineageRecord::from_json(&record.to_json()), Some(record.clone()));
        assert_eq!(LineageRecord::begin(Some(&record), 0, "b", 6).0, None);
        assert_eq!(LineageRecord::from_json("{not json"), None);
        assert_eq!(LineageRecord::from_json(r#"{"seq":-1}"#), None);
    }
}
