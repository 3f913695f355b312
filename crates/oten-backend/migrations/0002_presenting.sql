-- A refresh token on its way to the provider: set (ms) before it is presented, cleared when the answer is stored
-- or known not to have been processed. Still set under the lock means an earlier presentation's outcome never
-- arrived (the instance died, or the answer could not be stored): that refresh token is never presented again.
ALTER TABLE oten_sessions ADD COLUMN presenting_since BIGINT
