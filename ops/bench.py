"""Benchmarks that print JSON: each figure is a ratio against a baseline measured in the same run.

    .venv/bin/python -m ops.bench [--quick] [--s3 http://127.0.0.1:9000 --access-key … --secret-key …]
                                  [--workers N --threads N --kdf-slots N --media-slots N]
                                  [--gunicorn "--worker-class sync"] [--database-url URL]

Without ``--s3`` a moto S3 server in a child process on 127.0.0.1 is started (``moto[server]``, a test
dependency). The API figures go through the production server: gunicorn with ops/serving/gunicorn.conf.py
behind Debian's nginx with ops/serving/nginx.conf.template, on 127.0.0.1 (ops/serving/benchmark.py); the
serving options override the production defaults, to compare settings on the same machine.

Aims (from the issues): age stream ≥ 0.8 of one-shot ChaCha20-Poly1305; encrypted S3 put+get ≥ 0.7 of the
plain minio client; peak memory growth < 64 MiB while encrypting 500 MiB; HTTP API upload+download of a
20 MiB PDF ≥ 0.5 of the plain minio client; a worker's peak memory during that upload ≤ 2× the document;
listing 200 documents under a sustained sign-in load ≤ 3× its idle p50/p95; sign-ins per second against
what the cores could do with Argon2id alone.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shlex
import subprocess
import sys
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--s3", help="S3 endpoint URL (default: an in-process moto server)")
    parser.add_argument("--access-key", default=os.environ.get("BENCH_S3_ACCESS_KEY", ""))
    parser.add_argument("--secret-key", default=os.environ.get("BENCH_S3_SECRET_KEY", ""))
    serving = parser.add_argument_group("serving (default: the production settings)")
    serving.add_argument("--workers", type=int, help="gunicorn worker processes (CONSIGNE_WORKERS)")
    serving.add_argument("--threads", type=int, help="threads per worker (CONSIGNE_THREADS)")
    serving.add_argument("--kdf-slots", type=int, help="Argon2id computations at once per worker")
    serving.add_argument("--media-slots", type=int, help="decodings at once per worker")
    serving.add_argument("--gunicorn", default="", help="more gunicorn arguments, e.g. \"--worker-class sync\"")
    serving.add_argument("--database-url", help="default: SQLite in a temporary folder")
    serving.add_argument("--sign-in-clients", type=int, default=8, help="connections of the sign-in load")
    serving.add_argument("--serving-only", action="store_true", help="only the figures through the server")
    arguments = parser.parse_args(argv)
    from ops.serving import benchmark as serving_benchmark
    from ops.serving.loopback import find_nginx

    nginx = find_nginx()
    if nginx is None:
        print("ops.bench: the API figures go through nginx: apt-get install nginx", file=sys.stderr)
        return 2
    options = serving_benchmark.ServingOptions(
        workers=arguments.workers, threads=arguments.threads, kdf_slots=arguments.kdf_slots,
        media_slots=arguments.media_slots, gunicorn_arguments=tuple(shlex.split(arguments.gunicorn)),
        sign_in_clients=arguments.sign_in_clients)
    scale = 1 if not arguments.quick else 0
    results = {}
    if not arguments.serving_only:
        results["age_stream"] = bench_age_stream(64 * MIB if scale else 4 * MIB)
        results["encrypt_memory"] = bench_memory(500 * MIB if scale else 50 * MIB)
    with s3_endpoint(arguments) as (endpoint, access_key, secret_key):
        if not arguments.serving_only:
            results["s3_put_get"] = bench_s3(endpoint, access_key, secret_key, 50 * MIB if scale else 5 * MIB)
        results.update(serving_benchmark.run(endpoint=endpoint, access_key=access_key, secret_key=secret_key,
                                             nginx=nginx, quick=arguments.quick, options=options,
                                             database_url=arguments.database_url))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
