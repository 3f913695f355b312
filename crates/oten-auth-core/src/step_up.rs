//! Step-up authentication (RFC 9470): an API that wants a more recent or stronger sign-in answers
//! `401` with `WWW-Authenticate: Bearer error="insufficient_user_authentication"`, optionally with `max_age` and
//! `acr_values`. It is not a verdict on the token: the client does not refresh or retry, it sends the person to the
//! sign-in route with the challenge, where they are asked to sign in again with those options and come back to the
//! page. The loop guard does not count it, and a sign-in made moments ago is never asked for again.

use crate::authorize::SignInOptions;
use crate::form::{form_encode, parse_query};
use crate::id_token::IdTokenClaims;
use crate::return_path::sanitize_return_path;
use crate::routes::LOGIN_PATH;
use std::fmt;

/// The `error` of a step-up challenge.
pub const INSUFFICIENT_USER_AUTHENTICATION: &str = "insufficient_user_authentication";

/// A sign-in this recent (seconds) is never asked to step up again: the API refuses what was just given, and
/// asking again would loop.
pub const STEP_UP_FRESH_SECS: i64 = 60;

/// What an API asked for in a step-up challenge.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::StepUpChallenge;
/// let header = r#"Bearer realm="api", error="insufficient_user_authentication", max_age="300""#;
/// let challenge = StepUpChallenge::from_www_authenticate(header).unwrap();
/// assert_eq!(challenge.max_age_secs, Some(300));
/// assert_eq!(challenge.login_url("/security"), "/login?return_to=%2Fsecurity&step_up=1&max_age=300");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUpChallenge {
    /// The sign-in must be at most this old (seconds).
    pub max_age_secs: Option<u32>,
    /// One of these authentication context classes (space-separated).
    pub acr_values: Option<String>,
}

impl fmt::Display for StepUpChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a more recent sign-in")?;
        if let Some(max_age) = self.max_age_secs {
            write!(f, " (within {max_age} s)")?;
        }
        if let Some(acr) = &self.acr_values {
            write!(f, " of the kind {acr:?}")?;
        }
        Ok(())
    }
}

impl StepUpChallenge {
    /// The step-up challenge in a `WWW-Authenticate` value, if it holds one: a `Bearer` challenge whose `error` is
    /// `insufficient_user_authentication`. Other challenges in the same value (another scheme) are skipped; a
    /// `max_age` that is not a whole number is ignored.
    pub fn from_www_authenticate(header: &str) -> Option<Self> {
        let params = bearer_params(header)?;
        let get = |name: &str| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        if get("error")? != INSUFFICIENT_USER_AUTHENTICATION {
            return None;
        }
        Some(Self {
            max_age_secs: get("max_age").and_then(|v| v.trim().parse().ok()),
            acr_values: get("acr_values").map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned),
        })
    }

    /// Whether `user`'s sign-in already answers the challenge (at `now_ms`), so that asking for another one would
    /// loop: a sign-in made within [`STEP_UP_FRESH_SECS`], or one recent enough for `max_age` and of one of the
    /// `acr_values` asked for.
    pub fn is_answered_by(&self, user: &IdTokenClaims, now_ms: i64) -> bool {
        let age = user.auth_time.map(|t| now_ms.div_euclid(1000) - t);
        if age.is_some_and(|a| a <= STEP_UP_FRESH_SECS) {
            return true;
        }
        let recent_enough = match (self.max_age_secs, age) {
            (Some(max), Some(age)) => age <= i64::from(max),
            (Some(_), None) => false,
            (None, _) => self.acr_values.is_some(),
        };
        let right_kind = match &self.acr_values {
            Some(wanted) => user.acr.as_deref().is_some_and(|acr| wanted.split_whitespace().any(|w| w == acr)),
            None => true,
        };
        recent_enough && right_kind
    }

    /// The sign-in options that answer the challenge: `max_age` and `acr_values` as asked; `max_age=0` (sign in
    /// now, and say when in `auth_time`) when neither was given.
    pub fn sign_in_options(&self) -> SignInOptions {
        let bare = self.max_age_secs.is_none() && self.acr_values.is_none();
        SignInOptions {
            max_age_secs: if bare { Some(0) } else { self.max_age_secs },
            acr_values: self.acr_values.clone(),
            ..SignInOptions::default()
        }
    }

    /// The app's sign-in route with the challenge, coming back to `return_to` (sanitised).
    pub fn login_url(&self, return_to: &str) -> String {
        let safe = sanitize_return_path(return_to);
        let max_age = self.max_age_secs.map(|m| m.to_string());
        let mut params = vec![("return_to", safe.as_str()), ("step_up", "1")];
        if let Some(max_age) = &max_age {
            params.push(("max_age", max_age));
        }
        if let Some(acr) = &self.acr_values {
            params.push(("acr_values", acr));
        }
        format!("{LOGIN_PATH}?{}", form_encode(&params))
    }

    /// The challenge carried by a sign-in route's query (`step_up=1&max_age=…`), if any.
    ///
    /// ```
    /// use oten_auth_core::StepUpChallenge;
    /// let c = StepUpChallenge { max_age_secs: Some(60), acr_values: None };
    /// let url = c.login_url("/x");
    /// assert_eq!(StepUpChallenge::from_login_query(url.split_once('?').unwrap().1), Some(c));
    /// assert_eq!(StepUpChallenge::from_login_query("return_to=%2Fx"), None);
    /// ```
    pub fn from_login_query(query: &str) -> Option<Self> {
        let params = parse_query(query.trim_start_matches('?'));
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        if get("step_up") != Some("1") {
            return None;
        }
        Some(Self {
            max_age_secs: get("max_age").and_then(|v| v.parse().ok()),
            acr_values: get("acr_values").map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned),
        })
    }
}

/// The auth-params of the first `Bearer` challenge in a `WWW-Authenticate` value (RFC 9110 §11.6.1): names
/// lowercased, quoted values unescaped.
fn bearer_params(header: &str) -> Option<Vec<(String, String)>> {
    let mut rest = header.trim_start();
    let mut in_bearer = false;
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        if let Some(after) = token68(rest) {
            // A challenge's token68 (`Negotiate YII==`): no parameter of a Bearer challenge.
            rest = after;
            continue;
        }
        let (token, after) = split_token(rest);
        if token.is_empty() {
            return in_bearer.then_some(params);
        }
        let after_ws = after.trim_start_matches([' ', '\t']);
        if let Some(value_part) = after_ws.strip_prefix('=') {
            // An auth-param of the current challenge.
            let (value, next) = parse_value(value_part.trim_start_matches([' ', '\t']))?;
            if in_bearer {
                params.push((token.to_ascii_lowercase(), value));
            }
            rest = next;
        } else {
            // A new challenge (scheme): a Bearer challenge already read ends here.
            if in_bearer {
                break;
            }
            in_bearer = token.eq_ignore_ascii_case("bearer");
            rest = after;
        }
    }
    in_bearer.then_some(params)
}

/// What follows a token68 (RFC 9110 §11.2: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`) standing
/// at the start of `s`: one with padding or a `+`/`/` in it, followed only by the end or a comma (`Negotiate YII==`).
/// A name followed by `=` and a value is an auth-param, not a token68.
fn token68(s: &str) -> Option<&str> {
    let body = s.find(|c: char| !(c.is_ascii_alphanumeric() || "-._~+/".contains(c))).unwrap_or(s.len());
    let padded = s[body..].find(|c| c != '=').map_or(s.len(), |i| body + i);
    let after = &s[padded..];
    let rest = after.trim_start_matches([' ', '\t']);
    let alone = rest.is_empty() || rest.starts_with(',');
    let looks_like_token68 = padded > body || s[..body].contains(['+', '/']);
    (body > 0 && alone && looks_like_token68).then_some(after)
}

fn split_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))).unwrap_or(s.len());
    s.split_at(end)
}

/// A token or a quoted string, and what follows it.
fn parse_value(s: &str) -> Option<(String, &str)> {
    let Some(quoted) = s.strip_prefix('"') else {
        let (token, rest) = split_token(s);
        return Some((token.to_owned(), rest));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, &quoted[i + 1..])),
            c => value.push(c),
        }
    }
    None // an unterminated quoted string
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(auth_time: Option<i64>, acr: Option<&str>) -> IdTokenClaims {
        let mut u = IdTokenClaims::new("u1");
        u.auth_time = auth_time;
        u.acr = acr.map(str::to_owned);
        u
    }

    #[test]
    fn reads_the_challenge_among_others_and_in_any_case() {
        let c = StepUpChallenge::from_www_authenticate(
            r#"DPoP algs="ES256", Bearer realm="a, b", error="insufficient_user_authentication", error_description="A \"recent\" sign-in", acr_values="urn:mfa urn:hw", max_age=5"#,
        )
        .unwrap();
        assert_eq!(c, StepUpChallenge { max_age_secs: Some(5), acr_values: Some("urn:mfa urn:hw".into()) });
        let lower = StepUpChallenge::from_www_authenticate(r#"bearer ERROR="insufficient_user_authentication""#);
        assert_eq!(lower, Some(StepUpChallenge::default()));
    }

    #[test]
    fn other_answers_are_not_a_step_up() {
        for header in [
            "",
            "Bearer",
            r#"Bearer realm="api""#,
            r#"Bearer error="invalid_token""#,
            r#"DPoP error="insufficient_user_authentication""#,
            r#"Basic realm="x", Bearer error="invalid_token""#,
            r#"Bearer error="insufficient_user_authentication"#, // unterminated
            r#"Bearer realm="x", DPoP error="insufficient_user_authentication""#,
        ] {
            assert_eq!(StepUpChallenge::from_www_authenticate(header), None, "{header}");
        }
        let odd =
            StepUpChallenge::from_www_authenticate(r#"Bearer error=insufficient_user_authentication, max_age="soon""#);
        assert_eq!(odd, Some(StepUpChallenge::default()), "a max_age that is not a number is ignored");
    }

    #[test]
    fn token68_challenges_before_or_after_are_skipped() {
        let after_token68 = [
            r#"Negotiate YII==, Bearer error="insufficient_user_authentication", max_age=5"#,
            r#"Negotiate a/b+c, Bearer error="insufficient_user_authentication", max_age=5"#,
            r#"Negotiate YII= , Bearer error = "insufficient_user_authentication" , max_age= 5"#,
        ];
        for header in after_token68 {
            let c = StepUpChallenge::from_www_authenticate(header);
            assert_eq!(c, Some(StepUpChallenge { max_age_secs: Some(5), acr_values: None }), "{header}");
        }
        let then_token68 = r#"Bearer error="insufficient_user_authentication", max_age=5, Negotiate YII=="#;
        assert_eq!(StepUpChallenge::from_www_authenticate(then_token68).unwrap().max_age_secs, Some(5));
    }

    #[test]
    fn a_sign_in_answers_a_challenge_when_recent_enough_and_of_the_right_kind_or_just_made() {
        let now = 1_000_000_000;
        let secs = now / 1000;
        let c = StepUpChallenge { max_age_secs: Some(300), acr_values: None };
        assert!(c.is_answered_by(&user(Some(secs - 300), None), now));
        assert!(!c.is_answered_by(&user(Some(secs - 301), None), now));
        assert!(!c.is_answered_by(&user(None, None), now), "no auth_time: not provably recent");
        let mfa = StepUpChallenge { max_age_secs: None, acr_values: Some("urn:mfa\turn:hw".into()) };
        assert!(mfa.is_answered_by(&user(Some(0), Some("urn:hw")), now), "any whitespace separates acr values");
        assert!(!mfa.is_answered_by(&user(Some(secs - 61), Some("urn:pwd")), now));
        assert!(!mfa.is_answered_by(&user(Some(secs - 61), None), now));
        // A sign-in of the last minute answers any challenge, even max_age=0 or an acr the provider did not give:
        // the API refuses what was just given, and asking again would loop.
        let now_please = StepUpChallenge { max_age_secs: Some(0), acr_values: Some("urn:mfa".into()) };
        assert!(now_please.is_answered_by(&user(Some(secs - STEP_UP_FRESH_SECS), Some("urn:pwd")), now));
        assert!(!now_please.is_answered_by(&user(Some(secs - STEP_UP_FRESH_SECS - 1), Some("urn:pwd")), now));
        let bare = StepUpChallenge::default();
        assert!(bare.is_answered_by(&user(Some(secs - STEP_UP_FRESH_SECS), None), now));
        assert!(!bare.is_answered_by(&user(Some(secs - STEP_UP_FRESH_SECS - 1), None), now));
    }

    #[test]
    fn options_and_login_urls_carry_the_challenge() {
        let bare = StepUpChallenge::default();
        let options = bare.sign_in_options();
        assert_eq!((options.prompt, options.max_age_secs), (None, Some(0)), "sign in now, and say when");
        let c = StepUpChallenge { max_age_secs: Some(0), acr_values: Some("urn:mfa".into()) };
        let options = c.sign_in_options();
        assert_eq!(
            (options.prompt, options.max_age_secs, options.acr_values.as_deref()),
            (None, Some(0), Some("urn:mfa"))
        );
        let url = c.login_url("https://evil.test/x");
        assert_eq!(url, "/login?return_to=%2F&step_up=1&max_age=0&acr_values=urn%3Amfa");
        assert_eq!(StepUpChallenge::from_login_query(url.split_once('?').unwrap().1), Some(c));
        assert_eq!(StepUpChallenge::from_login_query("?step_up=1&max_age=-3"), Some(StepUpChallenge::default()));
    }
}
