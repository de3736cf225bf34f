"""Package contract: purity (stdlib + cryptography, no clock), exports, stable error codes."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import healthcode.tlog as tlog
from healthcode.tlog import errors

# Read the sources from the checkout, so the check holds for non-editable installs too.
PACKAGE_DIR = Path(__file__).resolve().parents[3] / "src" / "healthcode" / "tlog"
ALLOWED_THIRD_PARTY = {"cryptography"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "time_ns", "monotonic", "urandom"}


def _modules() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("*.py"))


def test_imports_are_pure() -> None:
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert (
                    top in sys.stdlib_module_names
                    or top in ALLOWED_THIRD_PARTY
                    or name.startswith("healthcode.tlog")
                ), f"{path.name} imports {name}"
                assert top not in {"datetime", "time", "os", "random", "secrets", "io"}, (
                    f"{path.name} imports {name}: the package must stay free of clock and I/O"
                )


def test_no_clock_or_randomness_calls() -> None:
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in FORBIDDEN_CALLS, f"{path.name} calls {node.func.attr}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"open", "print", "input"}, f"{path.name} does I/O"


def test_modules_are_small_and_documented() -> None:
    for path in _modules():
        source = path.read_text()
        assert len(source.splitlines()) <= 400, path.name
        assert ast.get_docstring(ast.parse(source)), f"{path.name} lacks a module docstring"
    assert (PACKAGE_DIR / "README.md").is_file()


def test_all_is_curated() -> None:
    assert len(tlog.__all__) == len(set(tlog.__all__))
    for name in tlog.__all__:
        assert hasattr(tlog, name), name


def test_error_codes_are_stable_and_unique() -> None:
    classes = [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.TlogError)
    ]
    codes = {cls.__name__: cls.code for cls in classes}
    assert codes == {
        "BundleError": "tlog.bundle_invalid",
        "CheckpointError": "tlog.checkpoint_invalid",
        "CosignatureError": "tlog.cosignature_invalid",
        "KeyFormatError": "tlog.key_invalid",
        "NoteError": "tlog.note_malformed",
        "NoteSignatureError": "tlog.note_signature_invalid",
        "NoteUnverifiedError": "tlog.note_unverified",
        "ProofError": "tlog.proof_invalid",
        "ProofReceiptError": "tlog.receipt_malformed",
        "TileError": "tlog.tile_invalid",
        "TilePathError": "tlog.tile_path_invalid",
        "TlogError": "tlog.error",
        "TreeRangeError": "tlog.out_of_range",
    }
    assert issubclass(errors.NoteSignatureError, errors.NoteError)
    assert issubclass(errors.NoteUnverifiedError, errors.NoteError)
    err = errors.ProofError("bad path")
    assert err.message == "bad path" and str(err) == "tlog.proof_invalid: bad path"
