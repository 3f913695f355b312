//! Who is asking: a client and how it proves it at the token, revocation and PAR endpoints (RFC 6749 §2.3.1).

use crate::base64url;
use crate::form::form_encode;
use crate::secret::ClientSecret;
use std::borrow::Cow;

/// How a client authenticates at the provider's back-channel endpoints.
///
/// A browser is a public client ([`ClientAuth::None`]); a backend holds a secret and sends it either in an
/// `Authorization: Basic` header ([`ClientAuth::SecretBasic`], the default every provider must take) or in the
/// form body ([`ClientAuth::SecretPost`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A public client: `client_id` in the body, no secret (`token_endpoint_auth_method: none`).
    None,
    /// `client_secret_basic`: `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
    SecretBasic(ClientSecret),
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    SecretPost(ClientSecret),
}

impl ClientAuth {
    /// The method's registered name (`token_endpoint_auth_method`).
    ///
    /// ```
    /// use oten_auth_core::{ClientAuth, ClientSecret};
    /// assert_eq!(ClientAuth::SecretBasic(ClientSecret::new("s")).method_name(), "client_secret_basic");
    /// ```
    pub fn method_name(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SecretBasic(_) => "client_secret_basic",
            Self::SecretPost(_) => "client_secret_post",
        }
    }

    /// The secret, for a confidential client.
    pub fn secret(&self) -> Option<&ClientSecret> {
        match self {
            Self::None => None,
            Self::SecretBasic(s) | Self::SecretPost(s) => Some(s),
        }
    }
}

/// A client as the provider knows it: its id and how it authenticates.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{refresh_request, ClientSecret, OAuthClient, RefreshToken};
/// let spa = OAuthClient::public("spa");
/// let r = refresh_request("https://idp.test/token", &spa, &RefreshToken::new("rt"));
/// assert!(r.body.as_deref().unwrap().ends_with("&client_id=spa"));
///
/// let backend = OAuthClient::secret_basic("bff", ClientSecret::new("s3cr3t"));
/// let r = refresh_request("https://idp.test/token", &backend, &RefreshToken::new("rt"));
/// assert_eq!(r.body.as_deref(), Some("grant_type=refresh_token&refresh_token=rt"));
/// assert_eq!(r.header_value("authorization"), Some("Basic YmZmOnMzY3IzdA=="));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The `client_id`.
    pub client_id: String,
    /// How it authenticates.
    pub auth: ClientAuth,
}

impl OAuthClient {
    /// A public client (a browser app).
    pub fn public(client_id: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), auth: ClientAuth::None }
    }

    /// A confidential client using `client_secret_basic`.
    pub fn secret_basic(client_id: impl Into<String>, secret: ClientSecret) -> Self {
        Self { client_id: client_id.into(), auth: ClientAuth::SecretBasic(secret) }
    }

    /// A confidential client using `client_secret_post`.
    pub fn secret_post(client_id: impl Into<String>, secret: ClientSecret) -> Self {
        Self { client_id: client_id.into(), auth: ClientAuth::SecretPost(secret) }
    }

    /// The form pairs this client adds to a back-channel request, and its `Authorization` header if any.
    pub(crate) fn credentials(&self) -> (Vec<(&'static str, &str)>, Option<String>) {
        match &self.auth {
            ClientAuth::None => (vec![("client_id", self.client_id.as_str())], None),
            ClientAuth::SecretPost(secret) => {
                (vec![("client_id", self.client_id.as_str()), ("client_secret", secret.expose())], None)
            }
            ClientAuth::SecretBasic(secret) => (Vec::new(), Some(basic_authorization(&self.client_id, secret))),
        }
    }
}

/// `Basic` credentials as RFC 6749 §2.3.1 wants them: id and secret each form-encoded first, then base64.
fn basic_authorization(client_id: &str, secret: &ClientSecret) -> String {
    let id = form_component(client_id);
    let secret = form_component(secret.expose());
    format!("Basic {}", base64url::encode_standard(format!("{id}:{secret}").as_bytes()))
}

fn form_component(value: &str) -> Cow<'_, str> {
    // `form_encode(&[("", v)])` is `=` followed by the encoded value.
    let encoded = form_encode(&[("", value)]);
    Cow::Owned(encoded[1..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_before_base64() {
        // RFC 6749 §2.3.1: "client:id" with "sec ret/+" → "client%3Aid:sec+ret%2F%2B".
        let header = basic_authorization("client:id", &ClientSecret::new("sec ret/+"));
        assert_eq!(header, format!("Basic {}", base64url::encode_standard(b"client%3Aid:sec+ret%2F%2B")));
    }

    #[test]
    fn post_credentials_go_in_the_body_and_debug_hides_the_secret() {
        let client = OAuthClient::secret_post("bff", ClientSecret::new("s3cr3t"));
        let (pairs, header) = client.credentials();
        assert_eq!(pairs, vec![("client_id", "bff"), ("client_secret", "s3cr3t")]);
        assert_eq!(header, None);
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }
}
