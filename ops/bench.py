"""Benchmarks that print JSON: each figure is a ratio against a baseline measured in the same run.

    .venv/bin/python -m ops.bench [--quick] [--s3 http://127.0.0.1:9000 --access-key … --secret-key …]

Without ``--s3`` a moto S3 server in a child process on 127.0.0.1 is started (``moto[server]``, a test
dependency). Aims (from the issues): age stream ≥ 0.8 of one-shot ChaCha20-Poly1305; encrypted S3
put+get ≥ 0.7 of the plain minio client; peak memory growth < 64 MiB while encrypting 500 MiB; HTTP API
upload+download of a 20 MiB PDF ≥ 0.5 of the plain minio client; p50/p95 of listing 200 documents.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto import age

MIB = 1024 * 1024


def best_of(runs: int, function) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


class Drain(io.RawIOBase):
    """A sink that counts bytes (so the benchmark measures encryption, not copying into a buffer)."""

    def __init__(self):
        self.count = 0

    def writable(self):
        return True

    def write(self, data):
        self.count += len(data)
        return len(data)


def bench_age_stream(size: int) -> dict:
    data = secrets.token_bytes(size)
    recipient = age.X25519Identity.generate().recipient
    aead = ChaCha20Poly1305(ChaCha20Poly1305.generate_key())
    nonce = b"\0" * 12
    baseline = best_of(3, lambda: aead.encrypt(nonce, data, None))
    ours = best_of(3, lambda: age.encrypt(io.BytesIO(data), Drain(), [recipient]))
    return {"bytes": size, "one_shot_chacha20poly1305_s": round(baseline, 4), "age_stream_s": round(ours, 4),
            "ratio": round(baseline / ours, 3), "aim": ">= 0.8"}


def bench_memory(size: int) -> dict:
    """Peak RSS growth of a child process encrypting ``size`` bytes from a generator-backed stream."""
    code = f"""
import io, resource, os
from crypto import age
class Zeros(io.RawIOBase):
    def __init__(self, n): self.left = n
    def readable(self): return True
    def readinto(self, b):
        n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
class Drain(io.RawIOBase):
    def writable(self): return True
    def write(self, d): return len(d)
import tracemalloc
recipient = age.X25519Identity.generate().recipient
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
age.encrypt(io.BufferedReader(Zeros({size})), Drain(), [recipient])
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024, traced_peak)
"""
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    rss_growth, traced_peak = (int(value) for value in output.split())
    return {"bytes_encrypted": size, "peak_rss_growth_mib": round(rss_growth / MIB, 2),
            "peak_python_allocations_mib": round(traced_peak / MIB, 2), "aim": "< 64"}


@contextmanager
def s3_endpoint(arguments):
    """The S3 server given, or moto's server in its own process on 127.0.0.1 (not in this process, so
    the server's work does not compete with the client's for the interpreter lock)."""
    if arguments.s3:
        yield arguments.s3, arguments.access_key, arguments.secret_key
        return
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", "bench", "bench-secret"
    finally:
        server.terminate()
        server.wait(timeout=10)


def plain_minio(endpoint: str, access_key: str, secret_key: str, bucket: str):
    from minio import Minio
    from urllib.parse import urlparse

    parsed = urlparse(endpoint)
    client = Minio(parsed.netloc, access_key=access_key, secret_key=secret_key, secure=parsed.scheme == "https",
                   region="us-east-1")
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    return client


def bench_s3(endpoint, access_key, secret_key, size: int) -> dict:
    from storage.s3 import S3BlobStore

    data = secrets.token_bytes(size)
    client = plain_minio(endpoint, access_key, secret_key, "bench-plain")
    store = S3BlobStore(endpoint, access_key, secret_key, "bench-store")
    recipient_identity = age.X25519Identity.generate()

    def plain():
        client.put_object("bench-plain", "object", io.BytesIO(data), length=-1, part_size=8 * MIB)
        response = client.get_object("bench-plain", "object")
        try:
            while response.read(1 * MIB):
                pass
        finally:
            response.close()
            response.release_conn()

    def encrypted():
        store.put("blobs/bench", age.encrypting_reader(io.BytesIO(data), [recipient_identity.recipient]))
        with store.open("blobs/bench") as source:
            reader = age.decrypting_reader(source, identities=[recipient_identity])
            while reader.read(1 * MIB):
                pass

    baseline = best_of(3, plain)
    ours = best_of(3, encrypted)
    return {"bytes": size, "plain_minio_put_get_s": round(baseline, 3), "encrypted_store_put_get_s": round(ours, 3),
            "ratio": round(baseline / ours, 3), "aim": ">= 0.7"}


def pdf_of_size(size: int) -> bytes:
    """A one-page PDF holding one JPEG of about ``size`` bytes, like a scanned paper."""
    import pikepdf
    from PIL import Image

    side = max(int((size / 1.05) ** 0.5), 16)  # noisy pictures at quality 95 take ≈1 byte a pixel
    noise = Image.frombytes("L", (side, side), secrets.token_bytes(side * side)).convert("RGB")
    jpeg = io.BytesIO()
    noise.save(jpeg, format="JPEG", quality=95)
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, jpeg.getvalue(), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                           Width=side, Height=side, ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                           Filter=pikepdf.Name.DCTDecode)
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pikepdf.Stream(pdf, b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    output = io.BytesIO()
    pdf.save(output)
    return output.getvalue()


def bench_api(endpoint, access_key, secret_key, size: int, listing_documents: int) -> dict:
    """The HTTP API (Flask test client, WSGI in-process) against the plain minio client."""
    from ops.cli import web_application
    from storage.s3 import S3BlobStore
    from vault.db import make_engine, migrate
    from vault.settings import load_settings

    pdf = pdf_of_size(size)
    client = plain_minio(endpoint, access_key, secret_key, "bench-plain")
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({"CONSIGNE_DATA_DIR": folder})
        migrate(make_engine(settings.database_url))
        app = web_application(settings, store=S3BlobStore(endpoint, access_key, secret_key, "bench-api"))
        http = app.test_client()
        password = "banc-essai-mesure-77"
        http.post("/api/v1/people", json={"username": "bench", "password": password})
        token = http.post("/api/v1/sessions", json={"username": "bench", "password": password}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        def plain():
            client.put_object("bench-plain", "pdf", io.BytesIO(pdf), length=-1, part_size=8 * MIB)
            response = client.get_object("bench-plain", "pdf")
            response.read()
            response.close()
            response.release_conn()

        def through_api():
            created = http.post("/api/v1/documents", headers=headers, content_type="multipart/form-data",
                                data={"kind": "autre", "file": (io.BytesIO(pdf), "bench.pdf")})
            assert created.status_code == 201, created.get_json()
            document_id = created.get_json()["id"]
            content = http.get(f"/api/v1/documents/{document_id}/content", headers=headers)
            assert len(content.data) > 0
            http.delete(f"/api/v1/documents/{document_id}", headers=headers)

        baseline = best_of(3, plain)
        ours = best_of(3, through_api)
        small = pdf_of_size(20_000)
        for _ in range(listing_documents):
            http.post("/api/v1/documents", headers=headers, content_type="multipart/form-data",
                      data={"kind": "autre", "title": "Document de mesure", "file": (io.BytesIO(small), "p.pdf")})
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            listed = http.get("/api/v1/documents", headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(listed.get_json()["items"]) == listing_documents
        timings.sort()
    return {
        "upload_download_pdf": {"bytes": len(pdf), "plain_minio_put_get_s": round(baseline, 3),
                                "api_upload_download_s": round(ours, 3), "ratio": round(baseline / ours, 3),
                                "aim": ">= 0.5"},
        "list_documents": {"documents": listing_documents, "p50_ms": round(statistics.median(timings), 1),
                           "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--s3", help="S3 endpoint URL (default: an in-process moto server)")
    parser.add_argument("--access-key", default=os.environ.get("BENCH_S3_ACCESS_KEY", ""))
    parser.add_argument("--secret-key", default=os.environ.get("BENCH_S3_SECRET_KEY", ""))
    arguments = parser.parse_args(argv)
    scale = 1 if not arguments.quick else 0
    results = {"age_stream": bench_age_stream(64 * MIB if scale else 4 * MIB),
               "encrypt_memory": bench_memory(500 * MIB if scale else 50 * MIB)}
    with s3_endpoint(arguments) as (endpoint, access_key, secret_key):
        results["s3_put_get"] = bench_s3(endpoint, access_key, secret_key, 50 * MIB if scale else 5 * MIB)
        results.update(bench_api(endpoint, access_key, secret_key, 20 * MIB if scale else 2 * MIB,
                                 200 if scale else 20))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
