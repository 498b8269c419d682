//! A real S3-compatible server (s3s-fs) on loopback, in a thread of its own,
//! keeping each bucket as a directory: for the file tests and `bench files`.

use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

pub const ACCESS_KEY: &str = "AKIDRETENTIOND";
pub const SECRET_KEY: &str = "retentiond-secret-key";

pub struct S3 {
    pub port: u16,
    pub root: tempfile::TempDir,
}

impl S3 {
    /// A server with one user, `ACCESS_KEY` / `SECRET_KEY`.
    pub fn start() -> S3 {
        let root = tempfile::tempdir().unwrap();
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut b = S3ServiceBuilder::new(fs);
        b.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = b.build();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap().port()).unwrap();
                loop {
                    let (socket, _) = listener.accept().await.unwrap();
                    let conn = ConnBuilder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service.clone())
                        .into_owned();
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
            });
        });
        let port = rx.recv().unwrap();
        S3 { port, root }
    }

    /// Where s3s-fs keeps `bucket`'s objects.
    pub fn bucket(&self, bucket: &str) -> std::path::PathBuf {
        self.root.path().join(bucket)
    }

    /// An object, written where s3s-fs keeps it: `root/bucket/key`.
    pub fn put(&self, bucket: &str, key: &str) {
        let p = self.bucket(bucket).join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("object {key}")).unwrap();
    }

    pub fn has(&self, bucket: &str, key: &str) -> bool {
        self.bucket(bucket).join(key).exists()
    }

    /// A credentials file for this server at `path`, mode 0600.
    pub fn write_credentials(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(
            path,
            format!("access_key_id = \"{ACCESS_KEY}\"\nsecret_access_key = \"{SECRET_KEY}\"\n"),
        )
        .unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// `[stores.NAME]` for `bucket` (and `prefix`) on this server.
    pub fn store(name: &str, port: u16, bucket_and_prefix: &str) -> String {
        format!(
            "[stores.{name}]\nurl = \"s3://{bucket_and_prefix}\"\nendpoint = \"http://127.0.0.1:{port}\"\ncredentials_file = \"s3.credentials\"\n"
        )
    }
}
