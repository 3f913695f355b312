//! Where sessions live: SQLite (embedded, one instance) or PostgreSQL (several instances), one schema and one set of
//! queries for both, checked at run time (no database is needed to compile).
//!
//! The store sees sealed values only ([`crate::KeyRing`]); row ids are hashes of the cookie or state, so a copy of
//! the database gives neither a usable cookie nor a token.

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Postgres, Row};
use std::str::FromStr;
use std::time::Duration;

/// The migrations, in order; each runs once (recorded in `oten_schema_migrations`).
const MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../migrations/0001_sessions.sql")), (2, include_str!("../migrations/0002_presenting.sql"))];

/// A failure of the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A lock of another database, or one already released (a programming error).
    #[error("the session lock does not belong to this database")]
    LockMismatch,
}

/// One stored session, as stored (tokens still sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 (hex) of the cookie value.
    pub id: String,
    /// The person.
    pub sub: String,
    /// The provider's session id.
    pub sid: Option<String>,
    /// The sealed token set.
    pub tokens: String,
    /// When the access token expires (ms).
    pub access_expires_at: i64,
    /// Sign-in time (ms).
    pub created_at: i64,
    /// Last write (ms).
    pub updated_at: i64,
    /// Grows at each refresh.
    pub version: i64,
    /// Set while a refresh token is being presented (ms); see `migrations/0002_presenting.sql`.
    pub presenting_since: Option<i64>,
}

/// A database of sessions.
#[derive(Debug, Clone)]
pub enum Database {
    /// SQLite: one instance.
    Sqlite(SqlitePool),
    /// PostgreSQL: any number of instances.
    Postgres(PgPool),
}

/// Held while one session is refreshed: every read and write of the refresh goes through it.
///
/// With PostgreSQL it is a pooled connection holding a session-level advisory lock on the session, so other
/// instances wait; the reads and writes of the refresh use that same connection (a refresh never needs a second
/// one, so a busy pool cannot strand a presented refresh token). [`SessionLock::release`] unlocks; a lock dropped
/// without it (a cancelled task) closes its connection, and the server releases the lock with it, as it does when
/// the instance dies.
#[must_use = "release the lock"]
pub enum SessionLock {
    /// SQLite serves one instance: the in-process single flight is the lock.
    Local,
    /// A connection holding `pg_advisory_lock` on the session.
    Postgres(Option<PoolConnection<Postgres>>),
}

impl SessionLock {
    /// Releases the lock. The connection stays in the guard until the unlock has succeeded: if this is cancelled or
    /// fails, the guard's drop closes the connection rather than hand it back locked.
    pub async fn release(mut self) {
        if let SessionLock::Postgres(slot) = &mut self {
            let unlocked = match slot.as_mut() {
                Some(conn) => sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut **conn).await.is_ok(),
                None => false,
            };
            if unlocked {
                // Back to the pool, unlocked.
                drop(slot.take());
            }
        }
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        if let SessionLock::Postgres(slot) = self {
            if let Some(conn) = slot.take() {
                drop(conn.detach());
            }
        }
    }
}

/// Runs the same statement under a lock: on its PostgreSQL connection, or on the SQLite pool.
macro_rules! under_lock {
    ($lock:expr, $db:expr, $e:ident => $body:expr) => {
        match ($lock, $db) {
            (SessionLock::Postgres(Some(conn)), _) => {
                let $e = &mut **conn;
                $body
            }
            (SessionLock::Local, Database::Sqlite(pool)) => {
                let $e = pool;
                $body
            }
            _ => return Err(StoreError::LockMismatch),
        }
    };
}

/// Runs the same statement text on whichever pool this is.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Database::Sqlite($pool) => $body,
            Database::Postgres($pool) => $body,
        }
    };
}

/// Reads a [`SessionRow`] from a row of either database.
macro_rules! session_row {
    ($row:expr) => {{
        let row = $row;
        SessionRow {
            id: row.try_get("id")?,
            sub: row.try_get("sub")?,
            sid: row.try_get("sid")?,
            tokens: row.try_get("tokens")?,
            access_expires_at: row.try_get("access_expires_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            version: row.try_get("version")?,
            presenting_since: row.try_get("presenting_since")?,
        }
    }};
}

const SESSION_COLUMNS: &str =
    "id, sub, sid, tokens, access_expires_at, created_at, updated_at, version, presenting_since";

impl Database {
    /// Connects (`sqlite://path`, created when missing; or `postgres://…`) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10));
            Database::Sqlite(SqlitePoolOptions::new().max_connections(4).connect_with(options).await?)
        } else {
            let pool =
                PgPoolOptions::new().max_connections(20).acquire_timeout(Duration::from_secs(15)).connect(url).await?;
            Database::Postgres(pool)
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Which database this is (`sqlite` or `postgres`), for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations not applied yet. With PostgreSQL, instances starting together take turns.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        const TRACK: &str = "CREATE TABLE IF NOT EXISTS oten_schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if matches!(self, Database::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock(7263521)").execute(&mut *tx).await?;
            }
            sqlx::query(TRACK).execute(&mut *tx).await?;
            for (version, sql) in MIGRATIONS {
                let done = sqlx::query("SELECT version FROM oten_schema_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
                if done.is_none() {
                    for statement in statements(sql) {
                        sqlx::query(&statement).execute(&mut *tx).await?;
                    }
                    sqlx::query("INSERT INTO oten_schema_migrations (version, applied_at) VALUES ($1, $2)")
                        .bind(version)
                        .bind(crate::now_ms())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The columns of a table as `(name, type)` pairs (lower case, sorted), to check that both databases hold the
    /// same schema.
    pub async fn columns(&self, table: &str) -> Result<Vec<(String, String)>, StoreError> {
        const SQLITE: &str = "SELECT name, type FROM pragma_table_info($1)";
        const POSTGRES: &str =
            "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns \
                                WHERE table_name = $1 AND table_schema = current_schema()";
        let sql = if matches!(self, Database::Sqlite(_)) { SQLITE } else { POSTGRES };
        let mut out: Vec<(String, String)> = on_pool!(self, pool => sqlx::query(sql)
            .bind(table)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("name")?, r.try_get::<String, _>("type")?.to_lowercase())))
            .collect::<Result<_, sqlx::Error>>()?);
        out.sort();
        Ok(out)
    }

    /// Stores a new session.
    pub async fn insert_session(&self, row: &SessionRow) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO oten_sessions (id, sub, sid, tokens, access_expires_at, created_at, updated_at, version, \
                 presenting_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&row.id)
            .bind(&row.sub)
            .bind(&row.sid)
            .bind(&row.tokens)
            .bind(row.access_expires_at)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.version)
            .bind(row.presenting_since)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Reads a session.
    pub async fn load_session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM oten_sessions WHERE id = $1");
        on_pool!(self, pool => {
            match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
                Some(row) => Ok(Some(session_row!(row))),
                None => Ok(None),
            }
        })
    }

    /// Removes a session and returns it (to revoke what it held). `None` when it was already gone.
    pub async fn delete_session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("DELETE FROM oten_sessions WHERE id = $1 RETURNING {SESSION_COLUMNS}");
        on_pool!(self, pool => {
            match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
                Some(row) => Ok(Some(session_row!(row))),
                None => Ok(None),
            }
        })
    }

    /// Removes the sessions a back-channel logout names (by provider session id, or by subject when `sid` is
    /// absent) and returns them.
    pub async fn delete_sessions_of(
        &self,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let (sql, key) = match (sid, sub) {
            (Some(sid), Some(sub)) => {
                let sql = format!("DELETE FROM oten_sessions WHERE sid = $1 AND sub = $2 RETURNING {SESSION_COLUMNS}");
                return on_pool!(self, pool => {
                    let rows = sqlx::query(&sql).bind(sid).bind(sub).fetch_all(pool).await?;
                    rows.into_iter().map(|row| Ok(session_row!(row))).collect::<Result<Vec<_>, StoreError>>()
                });
            }
            (Some(sid), None) => (format!("DELETE FROM oten_sessions WHERE sid = $1 RETURNING {SESSION_COLUMNS}"), sid),
            (None, Some(sub)) => (format!("DELETE FROM oten_sessions WHERE sub = $1 RETURNING {SESSION_COLUMNS}"), sub),
            (None, None) => return Ok(Vec::new()),
        };
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(key).fetch_all(pool).await?;
            rows.into_iter().map(|row| Ok(session_row!(row))).collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// Sessions signed in before `created_before` (ms): past the maximum age.
    pub async fn sessions_created_before(&self, created_before: i64) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM oten_sessions WHERE created_at < $1");
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(created_before).fetch_all(pool).await?;
            rows.into_iter().map(|row| Ok(session_row!(row))).collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// Sessions whose access token expired before `expired_before` (ms): candidates for the dead-token check.
    pub async fn sessions_expired_before(&self, expired_before: i64) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM oten_sessions WHERE access_expires_at < $1");
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(expired_before).fetch_all(pool).await?;
            rows.into_iter().map(|row| Ok(session_row!(row))).collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// How many sessions are stored.
    pub async fn count_sessions(&self) -> Result<i64, StoreError> {
        on_pool!(self, pool => Ok(sqlx::query("SELECT COUNT(*) AS n FROM oten_sessions")
            .fetch_one(pool)
            .await?
            .try_get::<i64, _>("n")?))
    }

    /// Keeps a started sign-in until its callback.
    pub async fn put_pending(&self, id: &str, data: &str, now: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO oten_pending_logins (id, data, created_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(data)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Takes a started sign-in out (once: a replayed callback finds nothing).
    pub async fn take_pending(&self, id: &str) -> Result<Option<String>, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("DELETE FROM oten_pending_logins WHERE id = $1 RETURNING data")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(row.try_get::<String, _>("data")?),
                None => None,
            })
        })
    }

    /// Forgets sign-ins started before `created_before` and never finished.
    pub async fn purge_pending(&self, created_before: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query("DELETE FROM oten_pending_logins WHERE created_at < $1")
            .bind(created_before)
            .execute(pool)
            .await?
            .rows_affected()))
    }

    /// Takes the cross-instance lock of one session (PostgreSQL); waits while another instance holds it.
    pub async fn lock_session(&self, id: &str) -> Result<SessionLock, StoreError> {
        match self {
            Database::Sqlite(_) => Ok(SessionLock::Local),
            Database::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let locked =
                    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))").bind(id).execute(&mut *conn);
                if let Err(e) = locked.await {
                    drop(conn.detach());
                    return Err(e.into());
                }
                Ok(SessionLock::Postgres(Some(conn)))
            }
        }
    }

    /// Reads a session under its lock.
    pub async fn load_locked(&self, lock: &mut SessionLock, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM oten_sessions WHERE id = $1");
        under_lock!(lock, self, e => {
            match sqlx::query(&sql).bind(id).fetch_optional(e).await? {
                Some(row) => Ok(Some(session_row!(row))),
                None => Ok(None),
            }
        })
    }

    /// Removes a session under its lock (on the lock's own connection) and returns it.
    pub async fn delete_locked(&self, lock: &mut SessionLock, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("DELETE FROM oten_sessions WHERE id = $1 RETURNING {SESSION_COLUMNS}");
        under_lock!(lock, self, e => {
            match sqlx::query(&sql).bind(id).fetch_optional(e).await? {
                Some(row) => Ok(Some(session_row!(row))),
                None => Ok(None),
            }
        })
    }

    /// Marks the session's refresh token as being presented (durably, before it leaves). `false` when the row
    /// changed or is marked already.
    pub async fn mark_presenting(
        &self,
        lock: &mut SessionLock,
        id: &str,
        version: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE oten_sessions SET presenting_since = $3 \
                   WHERE id = $1 AND version = $2 AND presenting_since IS NULL";
        let n = under_lock!(lock, self, e => sqlx::query(sql).bind(id).bind(version).bind(now).execute(e).await?.rows_affected());
        Ok(n == 1)
    }

    /// Clears the mark after an answer that says the refresh token was not processed (a 5xx, no answer).
    pub async fn clear_presenting(&self, lock: &mut SessionLock, id: &str, version: i64) -> Result<bool, StoreError> {
        let sql = "UPDATE oten_sessions SET presenting_since = NULL WHERE id = $1 AND version = $2";
        let n = under_lock!(lock, self, e => sqlx::query(sql).bind(id).bind(version).execute(e).await?.rows_affected());
        Ok(n == 1)
    }

    /// Stores renewed tokens (clearing the mark, bumping the version) if the row is still the one presented from.
    /// `false` when the session is gone (signed out meanwhile).
    pub async fn store_renewed(
        &self,
        lock: &mut SessionLock,
        id: &str,
        version: i64,
        tokens: &str,
        access_expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE oten_sessions SET tokens = $3, access_expires_at = $4, updated_at = $5, \
                   version = version + 1, presenting_since = NULL WHERE id = $1 AND version = $2";
        let n = under_lock!(lock, self, e => sqlx::query(sql)
            .bind(id)
            .bind(version)
            .bind(tokens)
            .bind(access_expires_at)
            .bind(now)
            .execute(e)
            .await?
            .rows_affected());
        Ok(n == 1)
    }
}

/// The statements of a migration file: `--` comments removed (the files hold no string literals), split at `;`,
/// blank ones dropped.
fn statements(sql: &str) -> Vec<String> {
    let code: String = sql.lines().map(|l| l.split("--").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    code.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}
