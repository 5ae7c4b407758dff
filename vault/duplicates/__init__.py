"""Duplicates: watermarked, signed, verifiable copies of a paper (issue 8, §7 and §8)."""
