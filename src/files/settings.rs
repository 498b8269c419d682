//! `[stores.NAME]` as the config reads it: where the files a row points to live.
//! No IO; opening a store is `files`'.

use std::path::PathBuf;

use crate::secret::Secret;

/// A named place files live in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub name: String,
    pub location: StoreLocation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `file:///var/lib/shop/uploads`: a row's path is relative to this directory
    /// (or absolute inside it).
    Directory(PathBuf),
    /// `s3://bucket/prefix`: a row's path is a key under the prefix.
    Bucket(BucketSettings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSettings {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the whole bucket.
    pub prefix: String,
    /// An S3-compatible service's URL; AWS's when absent.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// From `credentials_file`; absent: from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, or the instance's role).
    pub credentials: Option<S3Credentials>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}
