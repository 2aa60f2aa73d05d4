"""The S3 backend Depot serves with: django-storages' S3Storage with one boto3 connection per
process instead of one per thread.

Django runs each request's sync code in a thread of its own, and S3Storage keeps its boto3
resource per thread, so every request that touched S3 built a boto3 session and resource from
scratch: 93-288 ms of CPU and about 6 MiB each, measured under the sustained-load benchmark
(1.3 requests/s, RSS growing 16% in two minutes). One resource, made once under a lock, brings
that to nothing. The S3 calls themselves go through the resource's client, which boto3
documents as thread-safe; the resource objects Depot makes from it (`Object`, `Bucket`) are
made per call, as S3Storage already does with the bucket it caches for every thread.
"""

import threading
from typing import Any

from storages.backends.s3 import S3Storage

_lock = threading.Lock()
_shared: dict[tuple[Any, ...], Any] = {}


class SharedS3Storage(S3Storage):
    @property
    def connection(self) -> Any:
        # The connection's settings: storages made with other options get their own.
        key = (self.region_name, self.use_ssl, self.endpoint_url, self.verify, self.access_key)
        connection = _shared.get(key)
        if connection is None:
            with _lock:
                connection = _shared.get(key)
                if connection is None:
                    connection = self._create_session().resource(
                        "s3",
                        region_name=self.region_name,
                        use_ssl=self.use_ssl,
                        endpoint_url=self.endpoint_url,
                        config=self.client_config,
                        verify=self.verify,
                    )
                    _shared[key] = connection
        return connection
