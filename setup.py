"""The one compiled part of healthcode: batch SHA-256 for the transparency log (``tlog/batch.py``).

Everything else is declared in pyproject.toml. The extension is optional: without a C compiler or
OpenSSL's headers the install still succeeds, with a warning, and ``tlog/batch.py`` hashes with
hashlib instead (the same bytes, several times slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "healthcode.tlog._sha256batch",
            ["src/healthcode/tlog/_sha256batch.c"],
            libraries=["crypto"],  # OpenSSL's libcrypto does the SHA-256
            optional=True,
        )
    ]
)
