"""The storage error family. Backend-specific exceptions (OSError, minio's S3Error, urllib3 errors)
are translated into these at the boundary of ``storage/`` so callers never see them."""


class StorageError(Exception):
    """Base of every failure raised by ``storage/``."""


class BlobNotFound(StorageError):
    """No blob exists under that name."""


class InvalidBlobName(StorageError):
    """A blob name that is not of the allowed shape (would escape the store, or is empty)."""


class StorageUnavailable(StorageError):
    """The backend could not be reached or refused the request (network, credentials, permissions)."""


class InvalidStorageConfig(StorageError, ValueError):
    """A storage URL or option that cannot work (unknown scheme, endpoint with a path, part size too small).

    Its message never repeats the URL: a storage URL may carry credentials.
    """
