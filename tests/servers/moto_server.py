"""An in-process moto S3 server on 127.0.0.1 (proves the wire protocol; it accepts any signature)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tests.servers.s3_endpoint import S3Endpoint

ACCESS_KEY = "moto-access"
SECRET_KEY = "moto-secret"
REGION = "us-east-1"


@contextlib.contextmanager
def running_moto() -> Iterator[S3Endpoint]:
    """Start ``ThreadedMotoServer`` on a free local port, yield its endpoint, stop it afterwards."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Endpoint(f"http://{host}:{port}", ACCESS_KEY, SECRET_KEY, REGION)
    finally:
        server.stop()
