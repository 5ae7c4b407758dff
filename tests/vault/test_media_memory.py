"""The decoding budget matches real memory: for every format and colour mode we accept, what cleaning
a photo really takes (the process's peak, VmHWM) stays within what vault/media/budget.py counts.

The measurements run in one child process, each from a clean start: Python's garbage collected, freed
memory handed back to the system (``malloc_trim``), the peak reset (``clear_refs``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
SIDE = 2000
# Allocator and interpreter noise that does not grow with the picture (a few MiB measured).
SLACK = 4 * 1024 * 1024
# With glibc's default, the mmap threshold rises after large frees and freed pictures then stay resident
# in the heap for a while: what is measured depends on the order of earlier allocations. A fixed
# threshold (MALLOC_MMAP_THRESHOLD_, which production should set too) gives every picture its own
# mapping, returned when freed. The budget also covers the default: up to 10.5 bytes a pixel measured.
FIXED_MMAP_THRESHOLD = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
CASES = [("JPEG", "RGB", {"orientation": 6}), ("JPEG", "L", {}), ("JPEG", "CMYK", {}),
         ("JPEG", "RGB", {"progressive": True}), ("PNG", "RGBA", {}), ("PNG", "L", {}), ("PNG", "I;16", {}),
         ("PNG", "P", {}), ("WEBP", "RGBA", {}), ("HEIF", "RGB", {}), ("HEIF", "RGBA", {"orientation": 6})]

MEASURE = r'''
import ctypes, gc, io, json, random, sys
from pathlib import Path
from PIL import Image
from tests.vault import media_samples as samples
from vault.media import MediaLimits, UploadedFile, normalise_document
from vault.media.budget import plan_decoding
from vault.media.sniffing import sniff_kind

libc = ctypes.CDLL("libc.so.6")
side = int(sys.argv[1])
results = []

def resident(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

def picture(file_format, mode, options):
    # A quarter of noise (what compresses worst), the rest flat, like a photo of a paper on a table.
    image = Image.new(mode, (side, side), 128 if mode in ("L", "I;16", "P", "LA") else "red")
    noise = Image.frombytes("L", (side, side // 4), random.Random(1).randbytes(side * (side // 4)))
    image.paste(noise.convert("I").convert("I;16") if mode == "I;16" else noise.convert(mode), (0, 0))
    extra = {"JPEG": {"quality": 80}, "WEBP": {"quality": 80}, "PNG": {"compress_level": 1},
             "HEIF": {"quality": 80, "enc_params": {"preset": "ultrafast"}}}[file_format]
    if options.get("progressive"):
        extra["progressive"] = True
    if options.get("orientation"):
        extra["exif"] = samples.gps_exif(orientation=options["orientation"]).tobytes()
    output = io.BytesIO()
    image.save(output, format=file_format, **extra)
    return output.getvalue()

for file_format, mode, options in json.loads(sys.argv[2]):
    data = picture(file_format, mode, options)
    plan = plan_decoding(Image.open(io.BytesIO(data)), sniff_kind(data), data, 1 << 40)
    gc.collect()
    libc.malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = resident("VmRSS")
    result = normalise_document([UploadedFile(data)], limits=MediaLimits(max_decoded_bytes=1 << 40))
    results.append({"case": f"{file_format} {mode} {options}", "measured": resident("VmHWM") - before,
                    "counted": plan.cost})
    del result
print(json.dumps(results))
'''


def test_the_budget_counts_at_least_what_decoding_and_cleaning_really_take():
    completed = subprocess.run([sys.executable, "-c", MEASURE, str(SIDE), json.dumps(CASES)], cwd=REPOSITORY,
                               env=os.environ | FIXED_MMAP_THRESHOLD, capture_output=True, text=True,
                               timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    pixels = SIDE * SIDE
    print()
    for result in results:
        print(f"{result['case']:36} measured {result['measured'] / pixels:5.2f} B/pixel, "
              f"counted {result['counted'] / pixels:5.2f}")
    over = [result for result in results if result["measured"] > result["counted"] + SLACK]
    assert over == []
