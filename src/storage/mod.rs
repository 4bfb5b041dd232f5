//! Where jobs keep their files: a folder on this machine (`file:DIR`, the default) or an
//! S3-compatible bucket (`s3://BUCKET/PREFIX`, endpoint and credentials from the standard AWS
//! environment variables), through the `object_store` crate, so that any replica can accept an
//! upload and any other can process or serve it. Large files go up in parts; downloads are
//! streamed, a byte range at a time when asked; ffmpeg reads a bucket's objects through
//! presigned URLs, fetching only the ranges it needs.

mod error;
mod url;

use std::{
    ops::Range,
    path::{Path as FsPath, PathBuf},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use futures_util::{stream::BoxStream, StreamExt, TryStreamExt};
use object_store::{
    aws::{AmazonS3, AmazonS3Builder},
    local::LocalFileSystem,
    path::Path,
    signer::Signer,
    GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart,
};
use tokio::io::AsyncReadExt;

pub use error::{OpenCause, StorageError};
pub use url::StorageUrl;

/// Files up to this size go up in one request; larger ones in parts of this size.
const PART_BYTES: usize = 16 << 20;
/// Parts in flight at once during an upload.
const UPLOAD_CONCURRENCY: usize = 4;
/// How long a presigned URL handed to ffmpeg stays valid: longer than any one task.
const PRESIGNED_FOR: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Clone)]
enum Backend {
    Local { root: PathBuf },
    S3 { s3: Arc<AmazonS3> },
}

/// A bucket or folder of job files, addressed by keys such as `jobs/<id>/input.mp4`.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
    prefix: Option<Path>,
    url: StorageUrl,
}

/// An object's size and when it was last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    /// Unix milliseconds.
    pub modified_ms: i64,
}

impl From<&ObjectMeta> for ObjectInfo {
    fn from(meta: &ObjectMeta) -> Self {
        Self { size: meta.size, modified_ms: meta.last_modified.timestamp_millis() }
    }
}

/// A download: the object's size, the bytes asked for, and the stream of them.
pub struct Download {
    pub info: ObjectInfo,
    pub range: Range<u64>,
    pub body: BoxStream<'static, Result<Bytes, StorageError>>,
}

impl Storage {
    /// Opens the storage `url` names and checks it answers (a folder is created when missing).
    ///
    /// # Errors
    /// [`StorageError::Open`] saying what is wrong: a folder that cannot be made, a bucket
    /// that does not answer or refuses the credentials.
    pub async fn open(url: &StorageUrl) -> Result<Self, StorageError> {
        let open_error = |source: OpenCause| StorageError::Open { url: url.to_string(), source };
        let store_error = |e: object_store::Error| open_error(OpenCause::Store(Box::new(e)));
        let storage = match url {
            StorageUrl::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| open_error(OpenCause::Folder(e)))?;
                let root = dir.canonicalize().map_err(|e| open_error(OpenCause::Folder(e)))?;
                let local = LocalFileSystem::new_with_prefix(&root).map_err(store_error)?.with_automatic_cleanup(true);
                Self { store: Arc::new(local), backend: Backend::Local { root }, prefix: None, url: url.clone() }
            }
            StorageUrl::S3 { bucket, prefix } => {
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                // An endpoint given as http:// (a server on the same host or network, such as
                // a test server) is the operator's explicit choice of plain HTTP.
                let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
                    .iter()
                    .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
                if let Some(endpoint) = endpoint {
                    builder = builder.with_allow_http(endpoint.starts_with("http://"));
                }
                let s3 = Arc::new(builder.build().map_err(store_error)?);
                let prefix = (!prefix.is_empty()).then(|| Path::from(prefix.as_str()));
                Self { store: s3.clone(), backend: Backend::S3 { s3 }, prefix, url: url.clone() }
            }
        };
        // One listing call: a wrong endpoint, bucket or key is an error at start, not at the
        // first upload.
        storage.store.list_with_delimiter(storage.prefix.as_ref()).await.map_err(store_error)?;
        Ok(storage)
    }

    /// The storage's URL (no secrets: credentials come from the environment).
    pub fn url(&self) -> &StorageUrl {
        &self.url
    }

    /// Whether the files are on this machine's disk.
    pub fn is_local(&self) -> bool {
        matches!(self.backend, Backend::Local { .. })
    }

    fn location(&self, key: &str) -> Path {
        match &self.prefix {
            Some(prefix) => Path::from_iter(prefix.parts().chain(Path::from(key).parts())),
            None => Path::from(key),
        }
    }

    fn fail(&self, key: &str) -> impl FnOnce(object_store::Error) -> StorageError + '_ {
        let key = key.to_string();
        move |source| match source {
            object_store::Error::NotFound { .. } => StorageError::NotFound { key },
            source => StorageError::Object { url: self.url.to_string(), key, source: Box::new(source) },
        }
    }

    /// Stores the local file `from` as `key` and removes `from`: on a local disk a rename (a
    /// copy across file systems), on a bucket one request or, when large, parts sent
    /// `UPLOAD_CONCURRENCY` at a time. Either way the object appears whole or not at all.
    ///
    /// # Errors
    /// [`StorageError`] when reading the file or writing the object fails.
    pub async fn put_file(&self, key: &str, from: &FsPath) -> Result<(), StorageError> {
        let local = |source: std::io::Error| StorageError::Local { path: from.to_path_buf(), source };
        if let Backend::Local { root } = &self.backend {
            let to = root.join(key);
            if let Some(folder) = to.parent() {
                tokio::fs::create_dir_all(folder).await.map_err(local)?;
            }
            if tokio::fs::rename(from, &to).await.is_ok() {
                return Ok(());
            }
        }
        let location = self.location(key);
        let mut file = tokio::fs::File::open(from).await.map_err(local)?;
        let size = file.metadata().await.map_err(local)?.len();
        if size <= PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.read_to_end(&mut bytes).await.map_err(local)?;
            self.store.put(&location, PutPayload::from(bytes)).await.map_err(self.fail(key))?;
        } else {
            let upload = self.store.put_multipart(&location).await.map_err(self.fail(key))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                let read = match file.read(&mut buffer).await {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(local(e));
                    }
                };
                if let Err(e) = writer.wait_for_capacity(UPLOAD_CONCURRENCY).await {
                    return Err(self.fail(key)(e));
                }
                writer.write(&buffer[..read]);
            }
            writer.finish().await.map_err(self.fail(key))?;
        }
        tokio::fs::remove_file(from).await.map_err(local)?;
        Ok(())
    }

    /// Stores `bytes` as `key`.
    ///
    /// # Errors
    /// [`StorageError`].
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&self.location(key), PutPayload::from(bytes)).await.map_err(self.fail(key))?;
        Ok(())
    }

    /// The whole object `key`, refused when over `limit` bytes.
    ///
    /// # Errors
    /// [`StorageError::NotFound`], [`StorageError::TooLarge`], [`StorageError::Object`].
    pub async fn get_bytes(&self, key: &str, limit: u64) -> Result<Bytes, StorageError> {
        let location = self.location(key);
        let result = self.store.get(&location).await.map_err(self.fail(key))?;
        if result.meta.size > limit {
            return Err(StorageError::TooLarge { key: key.to_string(), size: result.meta.size, limit });
        }
        result.bytes().await.map_err(self.fail(key))
    }

    /// The object's size and age, or `None` when there is none.
    ///
    /// # Errors
    /// [`StorageError::Object`].
    pub async fn info(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        match self.store.head(&self.location(key)).await {
            Ok(meta) => Ok(Some(ObjectInfo::from(&meta))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail(key)(e)),
        }
    }

    /// Streams `key`, all of it or the byte `range` (its end clipped to the object's size).
    ///
    /// # Errors
    /// [`StorageError::NotFound`], [`StorageError::Object`].
    pub async fn download(&self, key: &str, range: Option<Range<u64>>) -> Result<Download, StorageError> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = self.store.get_opts(&self.location(key), options).await.map_err(self.fail(key))?;
        let (info, range) = (ObjectInfo::from(&result.meta), result.range.clone());
        let (url, key) = (self.url.to_string(), key.to_string());
        let body = result
            .into_stream()
            .map_err(move |source| StorageError::Object {
                url: url.clone(),
                key: key.clone(),
                source: Box::new(source),
            })
            .boxed();
        Ok(Download { info, range, body })
    }

    /// What ffmpeg opens to read `key`: the file itself on a local disk, else a presigned URL.
    ///
    /// # Errors
    /// [`StorageError::Object`] when the URL cannot be signed.
    pub async fn locator(&self, key: &str) -> Result<PathBuf, StorageError> {
        match &self.backend {
            Backend::Local { root } => Ok(root.join(key)),
            Backend::S3 { s3 } => {
                let url = s3
                    .signed_url(axum::http::Method::GET, &self.location(key), PRESIGNED_FOR)
                    .await
                    .map_err(self.fail(key))?;
                Ok(PathBuf::from(url.to_string()))
            }
        }
    }

    /// Removes every object under `prefix` (`jobs/<id>/`); nothing there is not an error.
    ///
    /// # Errors
    /// [`StorageError::Object`].
    pub async fn remove_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        let location = self.location(prefix);
        let locations = self.store.list(Some(&location)).map_ok(|meta| meta.location).boxed();
        let mut deleted = self.store.delete_stream(locations);
        let mut count = 0;
        while let Some(outcome) = deleted.next().await {
            match outcome {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => count += 1,
                Err(e) => return Err(self.fail(prefix)(e)),
            }
        }
        if let Backend::Local { root } = &self.backend {
            // Empty folders are left by the store's clean-up only up to the first level; a
            // folder tree is removed off the async threads.
            let folder = root.join(prefix);
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(folder)).await;
        }
        Ok(count)
    }

    /// The names one level under `prefix` (`jobs` → the job ids), each with its newest
    /// object's time.
    ///
    /// # Errors
    /// [`StorageError::Object`].
    pub async fn children(&self, prefix: &str) -> Result<Vec<(String, i64)>, StorageError> {
        let location = self.location(prefix);
        let listing = self.store.list_with_delimiter(Some(&location)).await.map_err(self.fail(prefix))?;
        let mut children = Vec::new();
        for child in listing.common_prefixes {
            let Some(name) = child.filename().map(str::to_string) else { continue };
            let newest = self
                .store
                .list(Some(&child))
                .try_fold(0i64, |newest, meta| async move { Ok(newest.max(meta.last_modified.timestamp_millis())) })
                .await
                .map_err(self.fail(prefix))?;
            children.push((name, newest));
        }
        Ok(children)
    }
}
