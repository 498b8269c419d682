//! Files and objects a row points to: the stores they live in (a directory, an
//! S3-compatible bucket), and removing or reading one by the path a row holds,
//! never outside its store. Which file to remove when is the engine's.

mod local;
mod s3;
pub mod settings;

use crate::spelling::spelled;

pub use settings::{BucketSettings, S3Credentials, StoreLocation, StoreSettings};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store: {0}")]
    Open(String),
    #[error("no store is named `{0}` in [stores]")]
    Unknown(String),
}

/// What became of a file asked to be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// Not there: removed before (a crash after the removal, by hand), never there.
    AlreadyGone,
    /// Not removed, and never will be: the path leads outside the store.
    Refused(String),
    /// Not removed this time: the store did not answer, or refused the access.
    Failed(String),
}

spelled! {
    /// A removal's outcome as counted and reported.
    pub enum FileOutcome {
        Removed = "removed", AlreadyGone = "already_gone" ("already gone"),
        Refused = "refused", Failed = "failed",
    }
}

impl Removal {
    pub fn outcome(&self) -> FileOutcome {
        match self {
            Removal::Removed => FileOutcome::Removed,
            Removal::AlreadyGone => FileOutcome::AlreadyGone,
            Removal::Refused(_) => FileOutcome::Refused,
            Removal::Failed(_) => FileOutcome::Failed,
        }
    }
}

/// Why a file could not be read (for an export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    Missing,
    Refused(String),
    Failed(String),
}

enum Place {
    Directory(local::Directory),
    Bucket(s3::Bucket),
}

/// A store, open.
pub struct Store {
    pub name: String,
    place: Place,
}

impl Store {
    pub fn open(s: &StoreSettings) -> Result<Store, StoreError> {
        let place = match &s.location {
            StoreLocation::Directory(root) => Place::Directory(local::Directory::open(root)?),
            StoreLocation::Bucket(b) => Place::Bucket(s3::Bucket::open(b)?),
        };
        Ok(Store {
            name: s.name.clone(),
            place,
        })
    }

    /// Removes the file at `path` (as a row holds it).
    pub async fn remove(&self, path: &str) -> Removal {
        match &self.place {
            // Unlinking is quick; it runs on the engine's thread.
            Place::Directory(d) => d.remove(path),
            Place::Bucket(b) => b.remove(path).await,
        }
    }

    /// The bytes of the file at `path`.
    pub async fn read(&self, path: &str) -> Result<Vec<u8>, Unreadable> {
        match &self.place {
            Place::Directory(d) => d.read(path),
            Place::Bucket(b) => b.read(path).await,
        }
    }
}

/// Every store of the config, each opened once. One that cannot be opened (a
/// directory gone) fails only the removals that need it.
#[derive(Default)]
pub struct Stores(Vec<(String, Result<Store, String>)>);

impl Stores {
    pub fn open(settings: &[StoreSettings]) -> Stores {
        Stores(
            settings
                .iter()
                .map(|s| (s.name.clone(), Store::open(s).map_err(|e| e.to_string())))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Result<&Store, StoreError> {
        match self.0.iter().find(|(n, _)| n == name) {
            Some((_, Ok(store))) => Ok(store),
            Some((_, Err(e))) => Err(StoreError::Open(e.clone())),
            None => Err(StoreError::Unknown(name.to_string())),
        }
    }
}
