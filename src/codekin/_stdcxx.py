"""Load the C++ runtime into the global symbol scope before usearch's extension is loaded.

usearch's extension carries its own copies of libstdc++'s locale facet ids as unique
(STB_GNU_UNIQUE) symbols. When it is the first library in the process to define them, a C++
library loaded after it (onnxruntime, torch's ONNX exporter) binds to those copies and crashes
initialising ``std::locale`` (a segmentation fault on ``import onnxruntime``). Loading the system
libstdc++ globally first makes its own definitions the ones everything binds to, as importing
torch first does. Linux only; elsewhere (or without that library) this does nothing."""

from __future__ import annotations

import contextlib
import ctypes
import sys


def load_cxx_runtime() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):  # no system libstdc++ (static or musl builds): nothing to order
        ctypes.CDLL("libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)


load_cxx_runtime()
