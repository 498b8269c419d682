//! `[stores.NAME]`: where the files a row points to live, a local directory
//! (`file:///var/lib/shop/uploads`) or an S3-compatible bucket
//! (`s3://bucket/prefix`, credentials from a file or the environment).

use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::private::check_private;
use super::walk::{Cx, Item, get, resolve};
use crate::files::{BucketSettings, S3Credentials, StoreLocation, StoreSettings};
use crate::secret::Secret;

const STORE_KEYS: &[&str] = &["url", "endpoint", "region", "credentials_file"];
const EXAMPLE: &str = "[stores.uploads]\nurl = \"file:///var/lib/shop/uploads\"";

/// Every `[stores.NAME]`, in the order written.
pub(super) fn stores(cx: &mut Cx, root: &DeTable, base_dir: &Path) -> Vec<StoreSettings> {
    let Some(item) = get(root, "stores") else {
        return Vec::new();
    };
    let Some(t) = cx.table(item, "[stores]") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, v) in t.iter() {
        let name = name.get_ref().to_string();
        if let Some(s) = store(cx, &name, v, base_dir) {
            out.push(s);
        }
    }
    out
}

fn store(cx: &mut Cx, name: &str, v: &Item, base_dir: &Path) -> Option<StoreSettings> {
    let what = format!("[stores.{name}]");
    let t = cx.table(v, &what)?;
    cx.check_keys(t, STORE_KEYS, &format!("in {what}"));
    let Some(url_item) = get(t, "url") else {
        cx.problem(
            v.span(),
            format!("{what} has no `url`"),
            Some(EXAMPLE.into()),
        );
        return None;
    };
    let url = cx.string(url_item, "url")?;
    let location = if let Some(dir) = url.strip_prefix("file://") {
        if dir.is_empty() {
            cx.problem(
                url_item.span(),
                format!("{what} names no directory: {url}"),
                Some("file:///var/lib/shop/uploads (three slashes)".into()),
            );
            return None;
        }
        // Like a SQLite path: relative to the config file's directory.
        let dir = resolve(base_dir, dir);
        for key in ["endpoint", "region", "credentials_file"] {
            if let Some(k) = get(t, key) {
                cx.problem(
                    k.span(),
                    format!("`{key}` is for buckets; {what} is a directory"),
                    Some(format!("remove {key}")),
                );
            }
        }
        StoreLocation::Directory(dir)
    } else if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            cx.problem(
                url_item.span(),
                format!("{what} names no bucket: {url}"),
                Some("s3://bucket/prefix".into()),
            );
            return None;
        }
        StoreLocation::Bucket(BucketSettings {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: get(t, "endpoint").and_then(|e| cx.string(e, "endpoint")),
            region: get(t, "region").and_then(|r| cx.string(r, "region")),
            credentials: match get(t, "credentials_file") {
                Some(f) => Some(credentials(cx, f, base_dir)?),
                None => None,
            },
        })
    } else {
        cx.problem(
            url_item.span(),
            format!("{what}: `{url}` is neither a directory nor a bucket"),
            Some("file:///var/lib/shop/uploads or s3://bucket/prefix".into()),
        );
        return None;
    };
    Some(StoreSettings {
        name: name.to_string(),
        location,
    })
}

/// `credentials_file`: `access_key_id = "..."` and `secret_access_key = "..."`,
/// mode 0600 or stricter.
fn credentials(cx: &mut Cx, item: &Item, base_dir: &Path) -> Option<S3Credentials> {
    let file = cx.string(item, "credentials_file")?;
    let path = resolve(base_dir, &file);
    check_private(cx, "credentials_file", &path, item.span())?;
    let help = "two lines: access_key_id = \"...\" and secret_access_key = \"...\" (mode 0600)";
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            cx.problem(
                item.span(),
                format!("cannot read credentials_file {}: {e}", path.display()),
                Some(help.into()),
            );
            return None;
        }
    };
    let parsed: Option<toml::Table> = text.parse().ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|t| t.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match (field("access_key_id"), field("secret_access_key")) {
        (Some(id), Some(secret)) => Some(S3Credentials {
            access_key_id: id,
            secret_access_key: Secret(secret),
        }),
        // The file's text is never quoted: it holds the secret.
        _ => {
            cx.problem(
                item.span(),
                format!(
                    "credentials_file {} does not hold both keys",
                    path.display()
                ),
                Some(help.into()),
            );
            None
        }
    }
}

/// The `files` of a policy or cascade entry: `{ column = "store" }`, each store
/// one of `names`.
pub(super) fn files(
    cx: &mut Cx,
    v: &Item,
    names: &[String],
) -> Option<Vec<crate::policy::FileColumn>> {
    let DeValue::Table(t) = v.get_ref() else {
        cx.type_error(v, "files", "a table of column = \"store\"");
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (k, val) in t.iter() {
        let column = cx.ident_text(k.get_ref(), k.span(), "files column", false);
        let store = cx.string(val, "store");
        if let Some(s) = &store
            && !names.contains(s)
        {
            let known = if names.is_empty() {
                "no [stores.NAME] is defined".to_string()
            } else {
                format!("stores: {}", names.join(", "))
            };
            cx.problem(
                val.span(),
                format!("no store is named `{s}`"),
                Some(format!("{known}; for example {EXAMPLE}")),
            );
            ok = false;
            continue;
        }
        match (column, store) {
            (Some(column), Some(store)) => out.push(crate::policy::FileColumn { column, store }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}
