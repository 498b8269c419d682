//! A store in an S3-compatible bucket, through `object_store` (signing, retries and
//! the HTTP client are its). A row's path is a key under the store's prefix; a key
//! with `..` or a leading `/` is refused, as a path out of a directory would be.

use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStoreExt, RetryConfig};

use super::settings::BucketSettings;
use super::{Removal, StoreError, Unreadable};

pub struct Bucket {
    store: AmazonS3,
    prefix: String,
}

/// Whether an endpoint is on this host, where plain HTTP cannot be overheard.
fn loopback(endpoint: &str) -> bool {
    let host = endpoint
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") || host.starts_with("127.")
}

impl Bucket {
    pub fn open(b: &BucketSettings) -> Result<Bucket, StoreError> {
        crate::tls::ensure_provider();
        let mut builder = match &b.credentials {
            Some(c) => AmazonS3Builder::new()
                .with_access_key_id(&c.access_key_id)
                .with_secret_access_key(&c.secret_access_key.0),
            None => AmazonS3Builder::from_env(),
        }
        .with_bucket_name(&b.bucket)
        .with_region(b.region.as_deref().unwrap_or("us-east-1"))
        .with_client_options(
            ClientOptions::new()
                .with_timeout(Duration::from_secs(30))
                .with_connect_timeout(Duration::from_secs(5)),
        )
        .with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        });
        if let Some(endpoint) = &b.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://") && loopback(endpoint));
        }
        let store = builder
            .build()
            .map_err(|e| StoreError::Open(format!("bucket {}: {e}", b.bucket)))?;
        Ok(Bucket {
            store,
            prefix: b.prefix.clone(),
        })
    }

    fn key(&self, path: &str) -> Result<Key, String> {
        if path.starts_with('/') {
            return Err("an absolute path, not a key under the store's prefix".into());
        }
        if path.split('/').any(|s| s == ".." || s == ".") {
            return Err("`..` in the key".into());
        }
        if path.is_empty() {
            return Err("an empty key".into());
        }
        let full = if self.prefix.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.prefix)
        };
        Key::parse(&full).map_err(|e| format!("not a key: {e}"))
    }

    pub async fn remove(&self, path: &str) -> Removal {
        let key = match self.key(path) {
            Ok(k) => k,
            Err(why) => return Removal::Refused(why),
        };
        // S3 answers a delete of a missing key with success: ask first, so that a
        // file gone before is counted as such.
        match self.store.head(&key).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Removal::AlreadyGone,
            Err(e) => return Removal::Failed(short(&e)),
        }
        match self.store.delete(&key).await {
            Ok(()) => Removal::Removed,
            Err(object_store::Error::NotFound { .. }) => Removal::AlreadyGone,
            Err(e) => Removal::Failed(short(&e)),
        }
    }

    pub async fn read(&self, path: &str) -> Result<Vec<u8>, Unreadable> {
        let key = self.key(path).map_err(Unreadable::Refused)?;
        match self.store.get(&key).await {
            Ok(r) => r
                .bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|e| Unreadable::Failed(short(&e))),
            Err(object_store::Error::NotFound { .. }) => Err(Unreadable::Missing),
            Err(e) => Err(Unreadable::Failed(short(&e))),
        }
    }
}

/// An object store error's first line: its kind and status, without the request's
/// signed URL.
fn short(e: &object_store::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").to_string();
    match first.find("http") {
        Some(at) => first[..at].trim_end_matches([' ', ':']).to_string(),
        None => first,
    }
}
