//! The API this app calls, as typed functions: each one waits for the session, sends the request through the
//! authenticated client and reads the answer. Pages call these and never build a URL or touch a token.

use oten_auth::core::ApiError;
use oten_auth::{AppSettingsError, RequestError, UseAuth};
use serde::{Deserialize, Serialize};

/// The app's own settings: the `app` section of `config.json`.
#[derive(Debug, Clone, Deserialize)]
struct AppSettings {
    /// Where the API lives (`http://127.0.0.1:9001` locally).
    api_base_url: String,
}

/// Why an API call failed, for the page to show.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// Sign-in is unavailable or `config.json` has no usable `app.api_base_url` (the message names the field).
    #[error(transparent)]
    Settings(#[from] AppSettingsError),
    /// The call failed (sign-in unavailable, session, network, status, data); the message is readable as it is.
    #[error(transparent)]
    Request(#[from] RequestError),
}

/// The API's profile of the signed-in person.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// A few words about the person.
    #[serde(default)]
    pub bio: String,
}

/// A change to the profile (`PUT /api/user/profile`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileUpdate {
    /// Display name.
    pub name: String,
    /// A few words about the person.
    pub bio: String,
}

/// A field the API refused: `422 {"field": …, "error_description": …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedField {
    /// The field's name in the API (`"name"`, `"bio"`).
    pub field: String,
    /// Why, in words the person can act on.
    pub message: String,
}

impl AppError {
    /// The field the API refused, when it answered 422 naming one.
    pub fn refused_field(&self) -> Option<RefusedField> {
        #[derive(Deserialize)]
        struct Body {
            field: String,
            error_description: Option<String>,
        }
        let AppError::Request(RequestError::Api(ApiError::Status { status: 422, body })) = self else { return None };
        let body: Body = serde_json::from_str(body).ok()?;
        let message = body.error_description.unwrap_or_else(|| format!("The API refused this {}.", body.field));
        Some(RefusedField { field: body.field, message })
    }
}

/// The account's security settings: the API answers only after a recent sign-in (a step-up).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Security {
    /// When the person last authenticated (seconds since the epoch).
    pub auth_time: i64,
    /// How recent that must be for this answer (seconds).
    pub max_age: u32,
}

/// `GET /api/user/profile`.
pub async fn profile(auth: UseAuth) -> Result<Profile, AppError> {
    Ok(auth.get_json(url(auth, "/api/user/profile").await?).await?)
}

/// `PUT /api/user/profile`: the profile as the API saved it.
pub async fn update_profile(auth: UseAuth, update: &ProfileUpdate) -> Result<Profile, AppError> {
    Ok(auth.put_json(url(auth, "/api/user/profile").await?, update).await?)
}

/// `GET /api/user/security` (demands a recent sign-in: the client steps up when told to).
pub async fn security(auth: UseAuth) -> Result<Security, AppError> {
    Ok(auth.get_json(url(auth, "/api/user/security").await?).await?)
}

async fn url(auth: UseAuth, path: &str) -> Result<String, AppError> {
    let settings = auth.app_settings::<AppSettings>().await?;
    Ok(format!("{}{path}", settings.api_base_url.trim_end_matches('/')))
}
