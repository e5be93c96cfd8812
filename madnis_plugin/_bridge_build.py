"""cffi build script of the bridge extension ``madnis_plugin._bridge``.

setup.py runs it at install time (``cffi_modules``); it compiles the same
``csrc/bridge.c`` that is also installed as the plain shared library
``libmadnis_bridge.so`` for C and Fortran callers.
"""

from cffi import FFI

# Relative to the project root, where setup.py runs (setuptools wants relative sources).
CSRC = "csrc"

ffibuilder = FFI()
ffibuilder.cdef(
    """
    typedef int mp_status;
    typedef struct mp_library mp_library;
    mp_status mp_open(const char* path, const char* param_card, mp_library** out,
                      char* error, size_t error_size);
    void mp_close(mp_library* lib);
    const char* mp_error(const mp_library* lib);
    const char* mp_status_name(mp_status status);
    int mp_particle_count(const mp_library* lib);
    int mp_diagram_count(const mp_library* lib);
    int mp_helicity_count(const mp_library* lib);
    int mp_color_count(const mp_library* lib);
    mp_status mp_masses(mp_library* lib, double* masses);
    const char* mp_fingerprint(const mp_library* lib);
    int mp_supports_input(const mp_library* lib, int key);
    int mp_supports_output(const mp_library* lib, int key);
    mp_status mp_set_parameter(mp_library* lib, const char* name, double re, double im);
    mp_status mp_get_parameter(mp_library* lib, const char* name, double* re, double* im);
    mp_status mp_evaluate(mp_library* lib, size_t count, const double* momenta,
                          const double* alpha_s, const int* flavor_index,
                          const double* random_color, const double* random_helicity,
                          double* me2, double* amp2, int* color_index, int* helicity_index);
    mp_status mp_evaluate_columns(mp_library* lib, size_t count, const double* momenta,
                                  const double* alpha_s, const int* flavor_index,
                                  const double* random_color, const double* random_helicity,
                                  double* me2, double* amp2, int* color_index, int* helicity_index);
    """
)
ffibuilder.set_source(
    "madnis_plugin._bridge",
    '#include "bridge.h"',
    sources=[f"{CSRC}/bridge.c"],
    include_dirs=[CSRC],
    libraries=["dl"],
    extra_compile_args=["-O2", "-std=c99"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
