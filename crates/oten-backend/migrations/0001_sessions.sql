-- One schema for SQLite and PostgreSQL: only TEXT and BIGINT columns, `$n` parameters in every query.
-- Token values are never stored in the clear: `tokens` and `data` are AES-256-GCM ciphertexts (base64url),
-- bound to their row and field.

CREATE TABLE IF NOT EXISTS oten_sessions (
    id TEXT PRIMARY KEY,                -- SHA-256 (hex) of the session cookie; the cookie itself is never stored
    sub TEXT NOT NULL,                  -- the person, for back-channel logout by subject
    sid TEXT,                           -- the provider's session id, for back-channel logout by session
    tokens TEXT NOT NULL,               -- sealed TokenSet (access, refresh and ID tokens, claims)
    access_expires_at BIGINT NOT NULL,  -- ms since the epoch, for the refresh decision without decrypting
    created_at BIGINT NOT NULL,         -- sign-in time (ms): the maximum age counts from here
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL             -- grows at each refresh
);
CREATE INDEX IF NOT EXISTS oten_sessions_sub ON oten_sessions (sub);
CREATE INDEX IF NOT EXISTS oten_sessions_sid ON oten_sessions (sid);
CREATE INDEX IF NOT EXISTS oten_sessions_created_at ON oten_sessions (created_at);

CREATE TABLE IF NOT EXISTS oten_pending_logins (
    id TEXT PRIMARY KEY,                -- SHA-256 (hex) of the state
    data TEXT NOT NULL,                 -- sealed PendingAuthorization (verifier, nonce, return path)
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS oten_pending_logins_created_at ON oten_pending_logins (created_at);
