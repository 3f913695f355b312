//! Token strings, and the one-time values of a sign-in, as newtypes that never print their value.
//!
//! `Debug` and `Display` print `[redacted]`, so a token cannot reach a log by accident; the value is read
//! only through an explicit [`AccessToken::expose`]. Serde keeps the plain string, for storage.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a token string.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The token itself. Call this only where the value must leave the program (a header, a form body,
            /// storage), never for logging.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }
    };
}

secret_string!(
    /// An OAuth 2.0 access token (RFC 6749 §1.4), sent as `Authorization: Bearer …`.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::AccessToken;
    /// let token = AccessToken::new("secret-value");
    /// assert_eq!(format!("{token}"), "[redacted]");
    /// assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
    /// assert_eq!(token.expose(), "secret-value");
    /// ```
    AccessToken
);

secret_string!(
    /// A confidential client's secret (RFC 6749 §2.3.1): a backend's, never a browser's.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::ClientSecret;
    /// assert_eq!(format!("{:?}", ClientSecret::new("s3cr3t")), "ClientSecret([redacted])");
    /// ```
    ClientSecret
);

secret_string!(
    /// An OAuth 2.0 refresh token (RFC 6749 §1.5). Presented once: the IdP rotates it.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::RefreshToken;
    /// assert_eq!(format!("{:?}", RefreshToken::new("rt")), "RefreshToken([redacted])");
    /// ```
    RefreshToken
);

secret_string!(
    /// An OpenID Connect ID token (a signed JWT), kept for `id_token_hint` at sign-out.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::IdToken;
    /// assert_eq!(IdToken::new("a.b.c").to_string(), "[redacted]");
    /// ```
    IdToken
);

secret_string!(
    /// The one-time `state` of a sign-in (RFC 6749 §10.12): it ties the callback to the request this tab sent.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::State;
    /// assert_eq!(format!("{:?}", State::from("s")), "State([redacted])");
    /// ```
    State
);

secret_string!(
    /// The `nonce` of a sign-in (OpenID Connect Core §3.1.2.1): the ID token must carry it back.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::Nonce;
    /// assert_eq!(Nonce::from("n").to_string(), "[redacted]");
    /// ```
    Nonce
);

secret_string!(
    /// An authorization code (RFC 6749 §4.1.2): exchanged once, with the PKCE verifier, for tokens.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::AuthorizationCode;
    /// assert_eq!(format!("{:?}", AuthorizationCode::from("c")), "AuthorizationCode([redacted])");
    /// ```
    AuthorizationCode
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let at = AccessToken::new("eyJhbGciOi.secret");
        assert!(!format!("{at:?} {at} {:?}", Some(&at)).contains("secret"));
        let rt = RefreshToken::new("rt-secret");
        assert!(!format!("{rt:?} {rt}").contains("secret"));
    }

    #[test]
    fn serde_keeps_the_plain_string() {
        let at = AccessToken::new("v");
        assert_eq!(serde_json::to_string(&at).unwrap(), "\"v\"");
        let back: AccessToken = serde_json::from_str("\"v\"").unwrap();
        assert_eq!(back, at);
    }
}
