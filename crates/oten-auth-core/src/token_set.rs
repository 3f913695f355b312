//! The token model: what the token endpoint answered, with absolute times.

use crate::id_token::IdTokenClaims;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Lifetime assumed when the token endpoint gives no `expires_in` (RFC 6749 §5.1 only recommends it).
pub const DEFAULT_EXPIRES_IN_SECS: i64 = 300;
/// Longest lifetime believed; larger values are clamped so that a bogus answer cannot stop refreshes.
pub const MAX_EXPIRES_IN_SECS: i64 = 86_400;
/// Version of the stored shape.
const STORAGE_VERSION: u32 = 1;

/// A signed-in session's tokens.
///
/// Times are absolute milliseconds since the Unix epoch, computed with the local clock at receipt, so a token
/// read back from storage after a reload or a sleep is judged correctly.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::TokenSet;
/// let t = TokenSet::parse_token_response(
///     r#"{"access_token":"at","token_type":"bearer","expires_in":"60","refresh_token":"rt","scope":"openid"}"#,
///     1_000,
///     None,
/// ).unwrap();
/// assert_eq!(t.expires_at, 61_000);
/// assert_eq!(t.lifetime_ms(), 60_000);
/// assert!(t.is_expired(61_000));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    /// Shape version of the stored form.
    #[serde(rename = "v")]
    pub version: u32,
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token, when the IdP issued one (`offline_access`).
    #[serde(default)]
    pub refresh_token: Option<RefreshToken>,
    /// The raw ID token, kept for `id_token_hint` at sign-out.
    #[serde(default)]
    pub id_token: Option<IdToken>,
    /// `Bearer`, or `DPoP` for tokens bound to a proof-of-possession key (RFC 9449); checked case-insensitively at
    /// receipt, stored in these spellings.
    pub token_type: String,
    /// Granted scopes, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// When the access token expires (ms since epoch).
    pub expires_at: i64,
    /// When these tokens were received (ms since epoch).
    pub stored_at: i64,
    /// The signed-in person, from the validated ID token at sign-in.
    #[serde(default)]
    pub user: Option<IdTokenClaims>,
    /// The session's lineage: a random id given at sign-in and shared by every tab that holds this session
    /// (copied tabs and tabs that joined it). Sibling tabs coordinate refreshes per lineage.
    #[serde(default)]
    pub lineage: String,
    /// How many rotations this lineage has had: 0 at sign-in, one more for every refresh. Tabs order the
    /// tokens they hear about by it.
    #[serde(default)]
    pub seq: u64,
    /// When the person signed in (ms since epoch); the maximum session age counts from here.
    #[serde(default)]
    pub signed_in_at: i64,
    /// The id of the DPoP key the session proves possession with (where the browser keeps the key: never the key
    /// itself): the refresh token is bound to it (and the access token too when `token_type` is DPoP). It carries
    /// over refreshes and travels to sibling tabs with the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<String>,
    /// The client the tokens were issued to (set at sign-in, carried over refreshes). A stored session of another
    /// client (another app on the same origin, or a planted one) is refused at load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The `token_type` of bearer tokens (RFC 6750).
pub const BEARER: &str = "Bearer";
/// The `token_type` of tokens bound to a proof-of-possession key (RFC 9449).
pub const DPOP: &str = "DPoP";

/// The placeholder access token of a session held by a backend-for-frontend ([`TokenSet::backend_held`]).
pub const BACKEND_HELD: &str = "(held by the backend)";

/// Longest lineage id accepted (ids are made of `A-Z a-z 0-9 - _`).
pub const MAX_LINEAGE_LEN: usize = 64;

/// Whether `id` can be a lineage id: 1 to [`MAX_LINEAGE_LEN`] characters of `A-Z a-z 0-9 - _`.
///
/// ```
/// assert!(oten_auth_core::is_valid_lineage("Yq3-_x"));
/// assert!(!oten_auth_core::is_valid_lineage("a b"));
/// assert!(!oten_auth_core::is_valid_lineage(""));
/// ```
pub fn is_valid_lineage(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LINEAGE_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A token-endpoint answer that cannot be used.
///
/// ```
/// use oten_auth_core::{TokenSet, TokenResponseError};
/// let e = TokenSet::parse_token_response(r#"{"token_type":"Bearer"}"#, 0, None).unwrap_err();
/// assert_eq!(e, TokenResponseError::MissingAccessToken);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenResponseError {
    /// The body is not a JSON object.
    #[error("the token endpoint's answer is not a JSON object")]
    NotAnObject,
    /// No `access_token`.
    #[error("the token endpoint's answer has no access_token")]
    MissingAccessToken,
    /// `token_type` is neither Bearer nor DPoP.
    #[error("unsupported token_type {0:?}: only Bearer and DPoP are supported")]
    UnsupportedTokenType(String),
    /// A field has the wrong type or an impossible value.
    #[error("invalid {field} in the token endpoint's answer: {reason}")]
    InvalidField {
        /// The JSON field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl TokenSet {
    /// Parses a successful token-endpoint answer (RFC 6749 §5.1) received at `now_ms`.
    ///
    /// `previous` is the session being refreshed: its refresh token, ID token, scope and user are kept when the
    /// answer leaves them out (a refresh answer without `refresh_token` keeps the old one); the ID token validated at
    /// sign-in is kept over one in a refresh answer; the lineage and sign-in time carry over and `seq` grows by
    /// one. `expires_in` may be a number or a numeric string (`"3600"`, `"3600.0"`); when missing,
    /// [`DEFAULT_EXPIRES_IN_SECS`] is assumed; zero, negative or non-numeric values are refused; values above
    /// [`MAX_EXPIRES_IN_SECS`] are clamped to it. `scope` may be a space-separated string or a list of strings.
    pub fn parse_token_response(
        body: &str,
        now_ms: i64,
        previous: Option<&TokenSet>,
    ) -> Result<TokenSet, TokenResponseError> {
        let value: Value = serde_json::from_str(body).map_err(|_| TokenResponseError::NotAnObject)?;
        let object = value.as_object().ok_or(TokenResponseError::NotAnObject)?;
        let access_token = match object.get("access_token") {
            None | Some(Value::Null) => return Err(TokenResponseError::MissingAccessToken),
            Some(Value::String(s)) if !s.is_empty() => AccessToken::new(s.clone()),
            Some(_) => return Err(invalid("access_token", "not a non-empty string")),
        };
        let token_type = match object.get("token_type") {
            None | Some(Value::Null) => BEARER,
            Some(Value::String(t)) if t.eq_ignore_ascii_case(BEARER) => BEARER,
            Some(Value::String(t)) if t.eq_ignore_ascii_case(DPOP) => DPOP,
            Some(Value::String(t)) => return Err(TokenResponseError::UnsupportedTokenType(t.clone())),
            Some(_) => return Err(invalid("token_type", "not a string")),
        };
        let expires_in = parse_expires_in(object.get("expires_in"))?;
        let refresh_token = optional_string(object, "refresh_token")?
            .map(RefreshToken::new)
            .or_else(|| previous.and_then(|p| p.refresh_token.clone()));
        // A refresh keeps the ID token validated at sign-in: one in a refresh answer is not verified here, and
        // it is only ever used as `id_token_hint`.
        let received_id_token = optional_string(object, "id_token")?.map(IdToken::new);
        let id_token = match previous {
            Some(p) => p.id_token.clone().or(received_id_token),
            None => received_id_token,
        };
        let scope = parse_scope(object.get("scope"))?.or_else(|| previous.and_then(|p| p.scope.clone()));
        Ok(TokenSet {
            version: STORAGE_VERSION,
            access_token,
            refresh_token,
            id_token,
            token_type: token_type.to_owned(),
            scope,
            expires_at: now_ms.saturating_add(expires_in * 1000),
            stored_at: now_ms,
            user: previous.and_then(|p| p.user.clone()),
            lineage: previous.map(|p| p.lineage.clone()).unwrap_or_default(),
            seq: previous.map_or(0, |p| p.seq.saturating_add(1)),
            signed_in_at: previous.map_or(now_ms, |p| p.signed_in_at),
            // The key goes on whatever the access token's type: a provider may issue Bearer access tokens and still
            // bind a public client's refresh token to the key (RFC 9449 §5), so refreshes keep their proofs.
            dpop_key: previous.and_then(|p| p.dpop_key.clone()),
            client_id: previous.and_then(|p| p.client_id.clone()),
        })
    }

    /// What can be kept of a refresh answer that is 2xx but cannot be used: the provider has already rotated the
    /// refresh token, so presenting the previous one again would be a reuse. When the body is a JSON object with a
    /// non-empty string `refresh_token`, the result is `previous` with that refresh token (its access token and
    /// times unchanged, `seq` one more); otherwise `None` and the session cannot continue.
    ///
    /// ```
    /// use oten_auth_core::TokenSet;
    /// let old = TokenSet::parse_token_response(r#"{"access_token":"a","refresh_token":"r1"}"#, 1, None).unwrap();
    /// let kept = TokenSet::salvage_refresh(r#"{"access_token":"b","token_type":"N_A","refresh_token":"r2"}"#, &old).unwrap();
    /// assert_eq!((kept.access_token.expose(), kept.refresh_token.unwrap().expose()), ("a", "r2"));
    /// assert!(TokenSet::salvage_refresh(r#"{"result":"ok"}"#, &old).is_none());
    /// ```
    pub fn salvage_refresh(body: &str, previous: &TokenSet) -> Option<TokenSet> {
        let value: Value = serde_json::from_str(body).ok()?;
        let refresh = value.as_object()?.get("refresh_token")?.as_str().filter(|s| !s.is_empty())?;
        let mut kept = previous.clone();
        kept.refresh_token = Some(RefreshToken::new(refresh));
        kept.seq = previous.seq.saturating_add(1);
        Some(kept)
    }

    /// A session a backend-for-frontend holds, as the browser knows it (`bff` mode): the person, the scopes, and
    /// when the session ends (`ends_at`, ms). Its access token is [`BACKEND_HELD`], a placeholder that is never sent:
    /// in that mode the API client sends the session cookie and no token.
    ///
    /// ```
    /// use oten_auth_core::{id_token::IdTokenClaims, TokenSet, BACKEND_HELD};
    /// let s = TokenSet::backend_held(IdTokenClaims::new("u1"), Some("openid".into()), 5_000, 1_000);
    /// assert_eq!((s.access_token.expose(), s.refresh_token.is_none(), s.expires_at), (BACKEND_HELD, true, 5_000));
    /// ```
    pub fn backend_held(user: IdTokenClaims, scope: Option<String>, ends_at: i64, now_ms: i64) -> TokenSet {
        TokenSet {
            version: STORAGE_VERSION,
            access_token: AccessToken::new(BACKEND_HELD),
            refresh_token: None,
            id_token: None,
            token_type: BEARER.to_owned(),
            scope,
            expires_at: ends_at.max(now_ms.saturating_add(1)),
            stored_at: now_ms,
            user: Some(user),
            lineage: String::new(),
            seq: 0,
            signed_in_at: now_ms,
            dpop_key: None,
            client_id: None,
        }
    }

    /// Whether the tokens are bound to a DPoP key (`token_type` DPoP): the API needs `Authorization: DPoP …` and a
    /// proof made with that key, and a copy of the token alone is refused.
    ///
    /// ```
    /// use oten_auth_core::TokenSet;
    /// let bound = TokenSet::parse_token_response(r#"{"access_token":"a","token_type":"dpop"}"#, 1, None).unwrap();
    /// assert!(bound.is_dpop_bound() && bound.token_type == "DPoP");
    /// assert!(!TokenSet::parse_token_response(r#"{"access_token":"a"}"#, 1, None).unwrap().is_dpop_bound());
    /// ```
    pub fn is_dpop_bound(&self) -> bool {
        self.token_type == DPOP
    }

    /// The same tokens as the start of a new lineage (used at sign-in).
    #[must_use]
    pub fn with_lineage(mut self, lineage: impl Into<String>) -> Self {
        self.lineage = lineage.into();
        self.seq = 0;
        self
    }

    /// Whether the session is older than `max_age_ms` at `now_ms` (`None`: no limit).
    ///
    /// ```
    /// use oten_auth_core::TokenSet;
    /// let t = TokenSet::parse_token_response(r#"{"access_token":"a"}"#, 1_000, None).unwrap();
    /// assert!(!t.is_past_max_age(2_000, Some(1_001)));
    /// assert!(t.is_past_max_age(2_001, Some(1_001)));
    /// assert!(!t.is_past_max_age(i64::MAX, None));
    /// ```
    pub fn is_past_max_age(&self, now_ms: i64, max_age_ms: Option<i64>) -> bool {
        max_age_ms.is_some_and(|max| now_ms >= self.signed_in_at.saturating_add(max))
    }

    /// The same tokens with the signed-in person attached.
    #[must_use]
    pub fn with_user(mut self, user: IdTokenClaims) -> Self {
        self.user = Some(user);
        self
    }

    /// Whether the access token has expired at `now_ms` (at the exact expiry instant it has).
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_at
    }

    /// The access token's whole lifetime as received, in ms.
    pub fn lifetime_ms(&self) -> i64 {
        (self.expires_at - self.stored_at).max(0)
    }

    /// The stored form: one JSON document.
    pub fn to_storage_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form back, refusing anything corrupt, hand-edited into the wrong shape, or impossible.
    ///
    /// ```
    /// use oten_auth_core::TokenSet;
    /// assert!(TokenSet::from_storage_json("{not json").is_err());
    /// assert!(TokenSet::from_storage_json(r#"{"v":1,"access_token":5}"#).is_err());
    /// ```
    pub fn from_storage_json(text: &str) -> Result<TokenSet, String> {
        // serde's message may quote stored values: report only where the data went wrong.
        let set: TokenSet = serde_json::from_str(text)
            .map_err(|e| format!("unreadable stored tokens (line {}, column {})", e.line(), e.column()))?;
        set.validated()
    }

    /// Checks a token set read from outside (storage, a sibling tab's message): refuses anything impossible or of
    /// an unknown version, and fills the sign-in time of sessions stored before it was kept.
    pub fn validated(self) -> Result<TokenSet, String> {
        let mut set = self;
        if set.version != STORAGE_VERSION {
            return Err(format!("stored tokens have unknown version {}", set.version));
        }
        if set.access_token.expose().is_empty() {
            return Err("stored access token is empty".into());
        }
        if set.token_type != BEARER && set.token_type != DPOP {
            return Err("stored token type is neither Bearer nor DPoP".into());
        }
        // DPoP tokens need their key; a key with Bearer tokens is fine (the refresh token may be bound alone).
        if (set.is_dpop_bound() && set.dpop_key.is_none())
            || set.dpop_key.as_deref().is_some_and(|k| !is_valid_lineage(k))
        {
            return Err("stored DPoP binding is inconsistent".into());
        }
        if set.expires_at < set.stored_at || set.stored_at <= 0 {
            return Err("stored token times are impossible".into());
        }
        if set.refresh_token.as_ref().is_some_and(|r| r.expose().is_empty()) {
            return Err("stored refresh token is empty".into());
        }
        if !set.lineage.is_empty() && !is_valid_lineage(&set.lineage) {
            return Err("stored session lineage is malformed".into());
        }
        // Sessions stored before sign-in times were kept count from their tokens' receipt.
        if set.signed_in_at == 0 {
            set.signed_in_at = set.stored_at;
        }
        if set.signed_in_at < 0 || set.signed_in_at > set.stored_at {
            return Err("stored sign-in time is impossible".into());
        }
        Ok(set)
    }
}

fn invalid(field: &'static str, reason: &'static str) -> TokenResponseError {
    TokenResponseError::InvalidField { field, reason }
}

fn optional_string(object: &Map<String, Value>, field: &'static str) -> Result<Option<String>, TokenResponseError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(field, "not a string")),
    }
}

/// Whole seconds from `"3600"`, `"-5"` or `"3600.0"` (the fraction is dropped); anything else is `None`.
fn parse_seconds(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let unsigned = whole.strip_prefix('-').unwrap_or(whole);
    (digits(unsigned) && digits(fraction)).then(|| whole.parse::<i64>().ok()).flatten()
}

fn parse_scope(value: Option<&Value>) -> Result<Option<String>, TokenResponseError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            Ok(Some(s.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty()))
        }
        Some(Value::Array(items)) => {
            let names = items
                .iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty() && !s.contains(' ')))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("scope", "not a list of scope names"))?;
            Ok(Some(names.join(" ")).filter(|s| !s.is_empty()))
        }
        Some(_) => Err(invalid("scope", "not a string")),
    }
}

fn parse_expires_in(value: Option<&Value>) -> Result<i64, TokenResponseError> {
    let seconds = match value {
        None | Some(Value::Null) => return Ok(DEFAULT_EXPIRES_IN_SECS),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.is_finite() && f > 0.0 => f.min(i64::MAX as f64) as i64,
            (None, Some(_)) => return Err(invalid("expires_in", "not a positive number")),
            (None, None) => return Err(invalid("expires_in", "not a number")),
        },
        Some(Value::String(s)) => parse_seconds(s.trim()).ok_or_else(|| invalid("expires_in", "not a number"))?,
        Some(_) => return Err(invalid("expires_in", "not a number")),
    };
    if seconds <= 0 {
        return Err(invalid("expires_in", "not positive"));
    }
    Ok(seconds.min(MAX_EXPIRES_IN_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn parse(body: &str) -> Result<TokenSet, TokenResponseError> {
        TokenSet::parse_token_response(body, NOW, None)
    }

    #[test]
    fn a_full_answer_becomes_absolute_times() {
        let t = parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":300,"refresh_token":"r","id_token":"i","scope":"openid offline_access"}"#).unwrap();
        assert_eq!(t.expires_at, NOW + 300_000);
        assert_eq!(t.stored_at, NOW);
        assert_eq!(t.refresh_token.unwrap().expose(), "r");
        assert_eq!(t.scope.as_deref(), Some("openid offline_access"));
    }

    #[test]
    fn access_token_must_be_a_non_empty_string() {
        assert_eq!(parse(r#"{"token_type":"Bearer"}"#), Err(TokenResponseError::MissingAccessToken));
        assert_eq!(parse(r#"{"access_token":null}"#), Err(TokenResponseError::MissingAccessToken));
        assert!(matches!(
            parse(r#"{"access_token":12}"#),
            Err(TokenResponseError::InvalidField { field: "access_token", .. })
        ));
        assert!(matches!(parse(r#"{"access_token":""}"#), Err(TokenResponseError::InvalidField { .. })));
        assert_eq!(parse("[1]"), Err(TokenResponseError::NotAnObject));
        assert_eq!(parse("<html>"), Err(TokenResponseError::NotAnObject));
    }

    #[test]
    fn token_type_is_bearer_or_dpop_in_any_case() {
        assert_eq!(parse(r#"{"access_token":"a","token_type":"BEARER"}"#).unwrap().token_type, BEARER);
        assert_eq!(parse(r#"{"access_token":"a"}"#).unwrap().token_type, BEARER);
        assert_eq!(parse(r#"{"access_token":"a","token_type":"dpop"}"#).unwrap().token_type, DPOP);
        assert_eq!(
            parse(r#"{"access_token":"a","token_type":"mac"}"#),
            Err(TokenResponseError::UnsupportedTokenType("mac".into()))
        );
        assert!(parse(r#"{"access_token":"a","token_type":1}"#).is_err());
    }

    #[test]
    fn a_dpop_binding_carries_over_refreshes_and_must_be_consistent_in_storage() {
        let mut bound = parse(r#"{"access_token":"a","token_type":"DPoP","refresh_token":"r"}"#).unwrap();
        bound.dpop_key = Some("key-1".into());
        bound.lineage = "l1".into();
        let next = TokenSet::parse_token_response(r#"{"access_token":"b","token_type":"DPoP"}"#, 2_000, Some(&bound));
        assert_eq!(next.unwrap().dpop_key.as_deref(), Some("key-1"));
        let later = bound.stored_at + 2_000;
        let downgraded =
            TokenSet::parse_token_response(r#"{"access_token":"b","token_type":"Bearer"}"#, later, Some(&bound));
        let downgraded = downgraded.unwrap();
        assert_eq!(downgraded.dpop_key.as_deref(), Some("key-1"), "the refresh token may still be bound: kept");
        assert_eq!(TokenSet::from_storage_json(&downgraded.to_storage_json()), Ok(downgraded));
        assert_eq!(TokenSet::from_storage_json(&bound.to_storage_json()), Ok(bound.clone()));
        let mut unbound_key = bound.clone();
        unbound_key.dpop_key = None;
        assert!(TokenSet::from_storage_json(&unbound_key.to_storage_json()).is_err(), "DPoP tokens without their key");
        let mut bearer_with_key = bound.clone();
        bearer_with_key.token_type = BEARER.into();
        assert!(TokenSet::from_storage_json(&bearer_with_key.to_storage_json()).is_ok(), "a key with Bearer tokens");
        let mut odd_key = bound;
        odd_key.dpop_key = Some("a key with spaces".into());
        assert!(TokenSet::from_storage_json(&odd_key.to_storage_json()).is_err());
    }

    #[test]
    fn expires_in_variants() {
        let at = |body: &str| parse(body).map(|t| (t.expires_at - NOW) / 1000);
        assert_eq!(at(r#"{"access_token":"a"}"#), Ok(DEFAULT_EXPIRES_IN_SECS));
        assert_eq!(at(r#"{"access_token":"a","expires_in":"120"}"#), Ok(120));
        assert_eq!(at(r#"{"access_token":"a","expires_in":"3600.0"}"#), Ok(3600));
        assert_eq!(at(r#"{"access_token":"a","expires_in":" 60 "}"#), Ok(60));
        assert_eq!(at(r#"{"access_token":"a","expires_in":90.5}"#), Ok(90));
        assert_eq!(at(r#"{"access_token":"a","expires_in":99999999999999}"#), Ok(MAX_EXPIRES_IN_SECS));
        assert_eq!(at(r#"{"access_token":"a","expires_in":1e300}"#), Ok(MAX_EXPIRES_IN_SECS));
        for bad in [r#""-5""#, "-5", "0", r#""soon""#, "true", "[]", "-0.5", r#""NaN""#, r#""inf""#, r#""0.0""#] {
            let body = format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            assert!(matches!(parse(&body), Err(TokenResponseError::InvalidField { field: "expires_in", .. })), "{bad}");
        }
    }

    #[test]
    fn scope_may_be_a_string_or_a_list() {
        let scope = |v: &str| parse(&format!(r#"{{"access_token":"a","scope":{v}}}"#)).map(|t| t.scope);
        assert_eq!(scope(r#""openid  email""#), Ok(Some("openid email".into())));
        assert_eq!(scope(r#"["openid","offline_access"]"#), Ok(Some("openid offline_access".into())));
        assert_eq!(scope("[]"), Ok(None));
        assert_eq!(scope(r#""""#), Ok(None));
        for bad in ["[1]", r#"["a b"]"#, "{}", "7", r#"[""]"#] {
            assert!(matches!(scope(bad), Err(TokenResponseError::InvalidField { field: "scope", .. })), "{bad}");
        }
    }

    #[test]
    fn lineage_sequence_and_sign_in_time_carry_over_a_refresh() {
        let first = parse(r#"{"access_token":"a","refresh_token":"r1"}"#).unwrap().with_lineage("L1");
        assert_eq!((first.seq, first.signed_in_at), (0, NOW));
        let second = TokenSet::parse_token_response(r#"{"access_token":"b"}"#, NOW + 5, Some(&first)).unwrap();
        assert_eq!(
            (second.lineage.as_str(), second.seq, second.signed_in_at, second.stored_at),
            ("L1", 1, NOW, NOW + 5)
        );
        let salvaged = TokenSet::salvage_refresh(r#"{"refresh_token":"r3","token_type":"N_A"}"#, &second).unwrap();
        assert_eq!((salvaged.seq, salvaged.access_token.expose()), (2, "b"));
        for unusable in ["{oops", r#"{"refresh_token":""}"#, r#"{"refresh_token":5}"#, "[]", r#""r""#] {
            assert!(TokenSet::salvage_refresh(unusable, &second).is_none(), "{unusable}");
        }
    }

    #[test]
    fn refresh_answer_without_refresh_token_keeps_the_old_one() {
        let first = parse(r#"{"access_token":"a","refresh_token":"r1","id_token":"i1","scope":"s"}"#).unwrap();
        let second =
            TokenSet::parse_token_response(r#"{"access_token":"b","expires_in":60}"#, NOW + 1, Some(&first)).unwrap();
        assert_eq!(second.refresh_token.unwrap().expose(), "r1");
        assert_eq!(second.id_token.unwrap().expose(), "i1");
        let with_new_id =
            TokenSet::parse_token_response(r#"{"access_token":"b","id_token":"i2"}"#, NOW, Some(&first)).unwrap();
        assert_eq!(with_new_id.id_token.unwrap().expose(), "i1", "the unverified refreshed ID token is not kept");
        assert_eq!(second.scope.as_deref(), Some("s"));
        let rotated =
            TokenSet::parse_token_response(r#"{"access_token":"b","refresh_token":"r2"}"#, NOW, Some(&first)).unwrap();
        assert_eq!(rotated.refresh_token.unwrap().expose(), "r2");
        assert!(parse(r#"{"access_token":"a","refresh_token":7}"#).is_err());
    }

    #[test]
    fn storage_round_trip_and_corruption() {
        let t = parse(r#"{"access_token":"a","refresh_token":"r"}"#).unwrap();
        assert_eq!(TokenSet::from_storage_json(&t.to_storage_json()).unwrap(), t);
        let json = t.to_storage_json();
        for bad in [
            "".to_owned(),
            "null".to_owned(),
            "{}".to_owned(),
            json.replace("\"v\":1", "\"v\":9"),
            json.replace("\"a\"", "\"\""),
            json.replace("\"Bearer\"", "\"MAC\""),
            json.replace(&format!("\"stored_at\":{NOW}"), &format!("\"stored_at\":{}", NOW + 999_999_999)),
            json.replace(&format!("\"expires_at\":{}", NOW + 300_000), "\"expires_at\":\"tomorrow\""),
            json[..json.len() / 2].to_owned(),
            json.replace("\"lineage\":\"\"", "\"lineage\":\"a b\""),
            json.replace(&format!("\"signed_in_at\":{NOW}"), &format!("\"signed_in_at\":{}", NOW + 1)),
        ] {
            assert!(TokenSet::from_storage_json(&bad).is_err(), "{bad}");
        }
    }
}
