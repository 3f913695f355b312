//! The session store on SQLite (always) and PostgreSQL (`OTEN_TEST_POSTGRES_URL`, a throwaway cluster that
//! `scripts/test` starts): one schema, the same answers, nothing lost across a reconnect, sealed values bound to
//! their rows, and a session lock that makes a second instance wait.

use oten_backend::{Database, KeyRing, SessionRow};
use std::time::{Duration, Instant};

fn sqlite_url(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("oten-storage-{}-{name}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite://{}", path.display())
}

/// The PostgreSQL URL; `scripts/test` sets it, and these tests are `--ignored` without it.
fn postgres_url() -> String {
    std::env::var("OTEN_TEST_POSTGRES_URL").expect("OTEN_TEST_POSTGRES_URL (scripts/test starts a cluster)")
}

/// A PostgreSQL database of its own (a schema per test), so tests do not see each other's rows.
async fn postgres(schema: &str) -> String {
    let base = postgres_url();
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
    admin.close().await;
    format!("{base}?options=-c%20search_path%3D{schema}")
}

fn row(id: &str, sub: &str, sid: Option<&str>, keys: &KeyRing, created_at: i64) -> SessionRow {
    SessionRow {
        id: id.into(),
        sub: sub.into(),
        sid: sid.map(str::to_owned),
        tokens: keys.seal_text(id, "tokens", format!("tokens of {id}").as_bytes()).unwrap(),
        access_expires_at: created_at + 3_000,
        created_at,
        updated_at: created_at,
        version: 0,
        presenting_since: None,
    }
}

const KEYS: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

/// Every operation of the store, the same on both databases.
async fn the_store_keeps_and_forgets_what_it_should(url: &str) {
    let keys = KeyRing::parse(KEYS).unwrap();
    let db = Database::connect(url).await.unwrap();
    db.migrate().await.unwrap(); // a second run changes nothing
    let a = row("a", "alice", Some("sid-1"), &keys, 1_000);
    let b = row("b", "alice", Some("sid-2"), &keys, 2_000);
    let c = row("c", "bob", None, &keys, 3_000);
    for r in [&a, &b, &c] {
        db.insert_session(r).await.unwrap();
    }
    assert!(db.insert_session(&a).await.is_err(), "an id is never reused");
    assert_eq!(db.load_session("a").await.unwrap().as_ref(), Some(&a));
    assert_eq!(db.count_sessions().await.unwrap(), 3);

    // A refresh, under the lock: marked before the token leaves (once), then the answer stored, clearing the mark
    // and bumping the version; a stale version or a removed session is not updated.
    let sealed = keys.seal_text("a", "tokens", b"renewed").unwrap();
    let mut lock = db.lock_session("a").await.unwrap();
    assert!(db.mark_presenting(&mut lock, "a", 0, 4_000).await.unwrap());
    assert!(!db.mark_presenting(&mut lock, "a", 0, 4_001).await.unwrap(), "marked once");
    let marked = db.load_locked(&mut lock, "a").await.unwrap().unwrap();
    assert_eq!(marked.presenting_since, Some(4_000));
    assert!(!db.store_renewed(&mut lock, "a", 7, &sealed, 9_000, 5_000).await.unwrap(), "stale version");
    assert!(db.store_renewed(&mut lock, "a", 0, &sealed, 9_000, 5_000).await.unwrap());
    assert!(!db.store_renewed(&mut lock, "nobody", 0, &sealed, 9_000, 5_000).await.unwrap());
    lock.release().await;
    let renewed = db.load_session("a").await.unwrap().unwrap();
    assert_eq!((renewed.version, renewed.access_expires_at, renewed.updated_at), (1, 9_000, 5_000));
    assert_eq!(renewed.presenting_since, None);
    assert_eq!(keys.open_text("a", "tokens", &renewed.tokens).unwrap(), b"renewed");
    // An answer that says "not processed" clears the mark without touching the tokens.
    let mut lock = db.lock_session("a").await.unwrap();
    assert!(db.mark_presenting(&mut lock, "a", 1, 6_000).await.unwrap());
    assert!(db.clear_presenting(&mut lock, "a", 1).await.unwrap());
    lock.release().await;
    let cleared = db.load_session("a").await.unwrap().unwrap();
    assert_eq!((cleared.version, cleared.presenting_since), (1, None));

    // A ciphertext moved to another row does not open there.
    assert!(keys.open_text("b", "tokens", &renewed.tokens).is_err());

    // The lifecycle's queries.
    let old: Vec<String> = db.sessions_created_before(2_500).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(sorted(old), vec!["a", "b"]);
    let idle: Vec<String> = db.sessions_expired_before(5_500).await.unwrap().into_iter().map(|r| r.id).collect();
    // (a: renewed to 9 000; b: 5 000; c: 6 000)
    assert_eq!(sorted(idle), vec!["b"]);

    // Back-channel logout: by sid (only that session), by sub (all of theirs).
    let by_sid = db.delete_sessions_of(Some("alice"), Some("sid-2")).await.unwrap();
    assert_eq!(by_sid.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["b"]);
    assert!(db.delete_sessions_of(None, None).await.unwrap().is_empty());
    let by_sub = db.delete_sessions_of(Some("alice"), None).await.unwrap();
    assert_eq!(by_sub.len(), 1);
    assert_eq!(db.delete_session("c").await.unwrap().map(|r| r.sub), Some("bob".into()));
    assert_eq!(db.delete_session("c").await.unwrap(), None, "removed once");

    // A started sign-in is taken once; old ones are purged.
    db.put_pending("p1", "sealed-1", 1_000).await.unwrap();
    db.put_pending("p2", "sealed-2", 9_000).await.unwrap();
    assert_eq!(db.take_pending("p1").await.unwrap().as_deref(), Some("sealed-1"));
    assert_eq!(db.take_pending("p1").await.unwrap(), None, "a replayed callback finds nothing");
    assert_eq!(db.purge_pending(10_000).await.unwrap(), 1);

    // Nothing is lost across a reconnect (a restart).
    db.insert_session(&row("d", "dave", None, &keys, 4_000)).await.unwrap();
    drop(db);
    let again = Database::connect(url).await.unwrap();
    assert_eq!(again.load_session("d").await.unwrap().map(|r| r.sub), Some("dave".into()));
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn sqlite_keeps_and_forgets_what_it_should() {
    the_store_keeps_and_forgets_what_it_should(&sqlite_url("store")).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (OTEN_TEST_POSTGRES_URL); scripts/test runs it"]
async fn postgres_keeps_and_forgets_what_it_should() {
    the_store_keeps_and_forgets_what_it_should(&postgres("store").await).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (OTEN_TEST_POSTGRES_URL); scripts/test runs it"]
async fn both_databases_hold_the_same_schema() {
    let sqlite = Database::connect(&sqlite_url("schema")).await.unwrap();
    let pg = Database::connect(&postgres("schema").await).await.unwrap();
    for table in ["oten_sessions", "oten_pending_logins", "oten_schema_migrations"] {
        let (s, p) = (sqlite.columns(table).await.unwrap(), pg.columns(table).await.unwrap());
        assert!(!s.is_empty(), "{table} exists");
        assert_eq!(s, p, "{table}: the same columns and types");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (OTEN_TEST_POSTGRES_URL); scripts/test runs it"]
async fn a_second_instance_waits_for_the_session_lock_and_others_do_not() {
    let url = postgres("locks").await;
    let one = Database::connect(&url).await.unwrap();
    let two = Database::connect(&url).await.unwrap(); // another instance: its own pool
    let held = one.lock_session("s1").await.unwrap();

    // Another session's lock is free at once.
    let other = tokio::time::timeout(Duration::from_secs(2), two.lock_session("s2")).await;
    other.expect("another session is not blocked").unwrap().release().await;

    // The same session waits until the holder releases.
    let started = Instant::now();
    let waiter = tokio::spawn(async move {
        let lock = two.lock_session("s1").await.unwrap();
        let waited = started.elapsed();
        lock.release().await;
        waited
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the second instance must wait");
    held.release().await;
    let waited = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");

    // A lock dropped without release (a crashed handler) is released too.
    let dropped = one.lock_session("s3").await.unwrap();
    drop(dropped);
    let after = tokio::time::timeout(Duration::from_secs(5), one.lock_session("s3")).await;
    after.expect("a dropped lock does not stay held").unwrap().release().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (OTEN_TEST_POSTGRES_URL); scripts/test runs it"]
async fn instances_starting_together_migrate_once() {
    let url = postgres("migrate").await;
    let starts = (0..4).map(|_| Database::connect(&url));
    for db in futures::future::join_all(starts).await {
        db.expect("every instance starts");
    }
    let db = Database::connect(&url).await.unwrap();
    let Database::Postgres(pool) = &db else { unreachable!() };
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM oten_schema_migrations").fetch_one(pool).await.unwrap();
    let files = std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")).unwrap().count();
    assert_eq!(n.0, i64::try_from(files).unwrap(), "each migration applied once");
}
