"""Build and install madnis-plugin.

At install time this builds, from ``csrc/``:
  * the cffi extension ``madnis_plugin._bridge`` (Python's way into the bridge);
  * the plain shared library ``madnis_plugin/lib/libmadnis_bridge.so`` with its
    headers and Fortran module source in ``madnis_plugin/include/``, for C and
    Fortran callers (``madnis-plugin config --libdir/--includedir`` prints them);
and copies ``processes/``, ``cards/`` and ``csrc/`` into the package as
``madnis_plugin/_data/`` so a regular install finds them. Built-in process
libraries are compiled on first use into the per-user cache.
"""

import shutil
import sys
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_FOLDERS = ("processes", "cards", "csrc")
PUBLIC_HEADERS = ("bridge.h", "umami.h", "madnis_bridge.f90")


class BuildPyWithData(build_py):
    """Also copy the top-level data folders into the package (regular installs)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the source tree
        target = Path(self.build_lib) / "madnis_plugin" / "_data"
        for folder in DATA_FOLDERS:
            destination = target / folder
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(ROOT / folder, destination,
                            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.o", "*.mod"))


class BuildExtWithBridgeLibrary(build_ext):
    """Also build the plain C shared library of the bridge for C/Fortran users."""

    def run(self):
        super().run()
        package_dir = Path("madnis_plugin") if self.inplace else Path(self.build_lib) / "madnis_plugin"
        libdir = package_dir / "lib"
        includedir = package_dir / "include"
        libdir.mkdir(parents=True, exist_ok=True)
        includedir.mkdir(parents=True, exist_ok=True)
        objects = self.compiler.compile(
            ["csrc/bridge.c"], output_dir=self.build_temp, include_dirs=["csrc"],
            extra_postargs=["-O2", "-fPIC", "-std=c99"])
        self.compiler.link_shared_object(
            objects, "libmadnis_bridge.so", output_dir=str(libdir), libraries=["dl"])
        for header in PUBLIC_HEADERS:
            shutil.copy(ROOT / "csrc" / header, includedir / header)


setup(
    name="madnis-plugin",
    version="0.1.0",
    description="MadNIS-style neural importance sampling plugin for LHC event generators",
    long_description=(ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["madnis_plugin", "madnis_plugin.*"]),
    package_data={"madnis_plugin": ["data/**/*", "lib/*", "include/*"]},
    include_package_data=False,
    cffi_modules=["madnis_plugin/_bridge_build.py:ffibuilder"],
    setup_requires=["cffi>=1.16"],
    install_requires=[
        "numpy>=1.24",
        "torch>=2.6",
        "vegas>=6.0",
        "pylhe>=0.9",
        "cffi>=1.16",
        "scipy>=1.10",
        "matplotlib>=3.5",  # the run report's figures
    ],
    extras_require={
        # ufoamp + ufo-sm: independent tree-level amplitudes the matrix elements are checked against;
        # pythia8mc: showers the LHE files; dask: the distributed executor's tests;
        # selenium: drives headless chromium to render the run report.
        "test": ["pytest>=7", "ufoamp==1.0.0", "ufo-sm==1.0.0", "pythia8mc==8.317.2", "dask[distributed]",
                 "selenium>=4"],
    },
    entry_points={"console_scripts": ["madnis-plugin=madnis_plugin.cli:main"]},
    cmdclass={"build_py": BuildPyWithData, "build_ext": BuildExtWithBridgeLibrary},
    zip_safe=False,
)
