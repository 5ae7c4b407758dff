"""Interoperability with the reference `age` tool (Debian package `age`), both directions.

Passphrase mode reads the passphrase from the terminal only, so those tests give `age` a pseudo-terminal.
"""

import io
import os
import pty
import select
import subprocess
import time

import pytest

from crypto import age
from tests.lanes import require_program

pytestmark = pytest.mark.lane("age")

KIB = 1024
SIZES = [0, 1, 64 * KIB, 64 * KIB + 1, 1024 * KIB]
PROMPT_WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def tools():
    return require_program("age", "age"), require_program("age-keygen", "age")


@pytest.fixture(scope="module")
def keyfile(tools, tmp_path_factory):
    path = tmp_path_factory.mktemp("age-keys") / "key.txt"
    subprocess.run([tools[1], "-o", str(path)], check=True, capture_output=True)
    return path


def identity_in(keyfile) -> age.X25519Identity:
    (line,) = [line for line in keyfile.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-1")]
    return age.X25519Identity.from_string(line)


def run_with_terminal(argv: list[str], answers: list[str]) -> tuple[int, bytes]:
    """Run ``argv`` on a pseudo-terminal, typing one answer after each passphrase prompt."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: `age` opens /dev/tty, which is now this pseudo-terminal
        os.execv(argv[0], argv)
    transcript, since_answer, pending = b"", b"", list(answers)
    deadline = time.monotonic() + PROMPT_WAIT_SECONDS
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 1)
            if not ready:
                continue
            try:
                output = os.read(terminal, 1024)
            except OSError:  # the child closed the terminal when it exited
                break
            if not output:
                break
            transcript += output
            since_answer += output
            if pending and b"passphrase" in since_answer.lower() and since_answer.rstrip().endswith(b":"):
                os.write(terminal, pending.pop(0).encode() + b"\n")
                since_answer = b""
    finally:
        if time.monotonic() >= deadline:
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    return os.waitstatus_to_exitcode(status), transcript


def test_keygen_identity_parses_to_the_same_recipient(tools, keyfile):
    printed = subprocess.run([tools[1], "-y", str(keyfile)], check=True, capture_output=True, text=True)
    assert identity_in(keyfile).recipient.to_string() == printed.stdout.strip()


@pytest.mark.parametrize("size", SIZES)
def test_age_decrypts_our_files(tools, keyfile, tmp_path, size):
    plaintext = os.urandom(size)
    other = age.X25519Identity.generate()
    recipients = [other.recipient, identity_in(keyfile).recipient]
    (tmp_path / "in.age").write_bytes(age.encrypt_bytes(plaintext, recipients))
    result = subprocess.run([tools[0], "-d", "-i", str(keyfile), str(tmp_path / "in.age")], check=True,
                            capture_output=True)
    assert result.stdout == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_files_from_age(tools, keyfile, tmp_path, size):
    plaintext = os.urandom(size)
    (tmp_path / "in").write_bytes(plaintext)
    other = age.X25519Identity.generate()
    subprocess.run([tools[0], "-r", other.recipient.to_string(), "-r", str(identity_in(keyfile).recipient),
                    "-o", str(tmp_path / "out.age"), str(tmp_path / "in")], check=True, capture_output=True)
    with open(tmp_path / "out.age", "rb") as source:
        reader = age.decrypting_reader(source, identities=[identity_in(keyfile)])
        assert reader.read() == plaintext


def test_age_rejects_our_file_for_another_key(tools, keyfile, tmp_path):
    (tmp_path / "in.age").write_bytes(age.encrypt_bytes(b"x", [age.X25519Identity.generate().recipient]))
    result = subprocess.run([tools[0], "-d", "-i", str(keyfile), str(tmp_path / "in.age")],
                            capture_output=True)
    assert result.returncode != 0


def test_age_decrypts_our_passphrase_files(tools, tmp_path):
    plaintext = os.urandom(64 * KIB + 1)
    (tmp_path / "in.age").write_bytes(age.encrypt_bytes(plaintext, [age.ScryptRecipient("pont neuf", 10)]))
    command = [tools[0], "-d", "-o", str(tmp_path / "out"), str(tmp_path / "in.age")]
    status, transcript = run_with_terminal(command, ["pont neuf"])
    assert status == 0, transcript
    assert (tmp_path / "out").read_bytes() == plaintext


def test_we_decrypt_passphrase_files_from_age(tools, tmp_path):
    plaintext = os.urandom(64 * KIB)
    (tmp_path / "in").write_bytes(plaintext)
    command = [tools[0], "-p", "-o", str(tmp_path / "out.age"), str(tmp_path / "in")]
    status, transcript = run_with_terminal(command, ["quai de seine", "quai de seine"])
    assert status == 0, transcript
    data = (tmp_path / "out.age").read_bytes()
    assert age.read_header(io.BytesIO(data)).stanzas[0].type == "scrypt"
    assert age.decrypt_bytes(data, passphrase="quai de seine") == plaintext
