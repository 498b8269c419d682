//! Who is calling: the bearer token presented (or the review page's session),
//! its role, and the rate limit per token (per client address before one is
//! shown, so that guessing tokens is slow too).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::ApiState;
use super::error::ApiError;
use crate::engine::Actor;
use crate::tokens::{self, Role};

/// The client's address (or `unix` for the socket), set per connection.
#[derive(Debug, Clone)]
pub struct Peer(pub String);

/// The token a request was made with.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Caller {
    /// Refuses unless the caller's role is one of `roles`.
    pub fn allow(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let needs: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::Forbidden {
            name: self.name.clone(),
            role: self.role.as_str(),
            needs: needs.join(" or "),
        })
    }

    pub fn actor(&self) -> Actor {
        Actor::Token(self.name.clone())
    }
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Caller, ApiError> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let config = state.config();
        let found = presented.and_then(|p| tokens::find(state.tokens(&config), p));
        match found {
            Some(t) => {
                state.check_rate(&format!("token:{}", t.name))?;
                Ok(Caller {
                    name: t.name.clone(),
                    role: t.role,
                })
            }
            None => {
                let peer = parts
                    .extensions
                    .get::<Peer>()
                    .map_or("unknown", |p| p.0.as_str());
                state.check_rate(&format!("peer:{peer}"))?;
                if presented.is_some() {
                    tracing::info!(peer, "an API request with an unknown token was refused");
                }
                Err(ApiError::Unauthorized)
            }
        }
    }
}
