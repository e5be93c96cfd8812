/*
 * bridge.c -- see bridge.h. Plain C99 + dlopen.
 *
 * Events are handed to the library in chunks: the caller's event-major
 * arrays are transposed into UMAMI's component-outermost layout in a scratch
 * buffer of CHUNK events, which keeps memory flat in the batch size and the
 * transposition in cache.
 */
#define _POSIX_C_SOURCE 200809L
#include "bridge.h"
#include "umami.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 512 };

typedef UmamiStatus (*get_meta_fn)(UmamiMetaKey, void*);
typedef UmamiStatus (*flags_fn)(bool const**, int*);
typedef UmamiStatus (*initialize_fn)(UmamiHandle*, char const*);
typedef UmamiStatus (*set_parameter_fn)(UmamiHandle, char const*, double, double);
typedef UmamiStatus (*get_parameter_fn)(UmamiHandle, char const*, double*, double*);
typedef UmamiStatus (*matrix_element_fn)(UmamiHandle, size_t, size_t, size_t, size_t,
                                         UmamiInputKey const*, void const* const*,
                                         size_t, UmamiOutputKey const*, void* const*);
typedef UmamiStatus (*free_fn)(UmamiHandle);

struct mp_library {
    void* dl;
    UmamiHandle handle;
    get_meta_fn get_meta;
    initialize_fn initialize;
    set_parameter_fn set_parameter;
    get_parameter_fn get_parameter;
    matrix_element_fn matrix_element;
    free_fn free_handle;
    int particles, diagrams, helicities, colors;
    bool inputs[UMAMI_IN_COUNT];
    bool outputs[UMAMI_OUT_COUNT];
    char fingerprint[256];
    char error[512];
    double* scratch; /* CHUNK * (4 * particles + diagrams) doubles */
};

const char* mp_status_name(mp_status status) {
    switch (status) {
    case MP_SUCCESS: return "UMAMI_SUCCESS";
    case UMAMI_ERROR: return "UMAMI_ERROR";
    case UMAMI_ERROR_NOT_IMPLEMENTED: return "UMAMI_ERROR_NOT_IMPLEMENTED";
    case UMAMI_ERROR_UNSUPPORTED_INPUT: return "UMAMI_ERROR_UNSUPPORTED_INPUT";
    case UMAMI_ERROR_UNSUPPORTED_OUTPUT: return "UMAMI_ERROR_UNSUPPORTED_OUTPUT";
    case UMAMI_ERROR_UNINITIALIZED_META: return "UMAMI_ERROR_UNINITIALIZED_META";
    case UMAMI_ERROR_UNSUPPORTED_META: return "UMAMI_ERROR_UNSUPPORTED_META";
    case UMAMI_ERROR_MISSING_INPUT: return "UMAMI_ERROR_MISSING_INPUT";
    case MP_ERROR_LOAD: return "MP_ERROR_LOAD";
    case MP_ERROR_SYMBOL: return "MP_ERROR_SYMBOL";
    case MP_ERROR_ABI: return "MP_ERROR_ABI";
    case MP_ERROR_MEMORY: return "MP_ERROR_MEMORY";
    case MP_ERROR_ARGUMENT: return "MP_ERROR_ARGUMENT";
    default: return "UNKNOWN_STATUS";
    }
}

static mp_status fail(char* buffer, size_t size, mp_status status, const char* format, ...) {
    if (buffer && size) {
        int used = snprintf(buffer, size, "%s in ", mp_status_name(status));
        if (used >= 0 && (size_t)used < size) {
            va_list args;
            va_start(args, format);
            vsnprintf(buffer + used, size - (size_t)used, format, args);
            va_end(args);
        }
    }
    return status;
}

static void* symbol(void* dl, const char* name) { return dlsym(dl, name); }

static int meta_int(mp_library* lib, UmamiMetaKey key) {
    int value = 0;
    if (lib->get_meta(key, &value) != UMAMI_SUCCESS) return 0;
    return value;
}

static void read_flags(void* dl, const char* name, bool* flags, int capacity) {
    flags_fn fn = (flags_fn)symbol(dl, name);
    const bool* values = NULL;
    int count = 0;
    memset(flags, 0, sizeof(bool) * (size_t)capacity);
    if (!fn || fn(&values, &count) != UMAMI_SUCCESS || !values) return;
    for (int i = 0; i < count && i < capacity; ++i) flags[i] = values[i];
}

mp_status mp_open(const char* path, const char* param_card, mp_library** out,
                  char* error, size_t error_size) {
    if (error && error_size) error[0] = '\0';
    if (!out) return fail(error, error_size, MP_ERROR_ARGUMENT, "mp_open: out is NULL");
    *out = NULL;
    if (!path) return fail(error, error_size, MP_ERROR_ARGUMENT, "mp_open: path is NULL");

    void* dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) return fail(error, error_size, MP_ERROR_LOAD, "dlopen(%s): %s", path, dlerror());

    mp_library* lib = calloc(1, sizeof *lib);
    if (!lib) {
        dlclose(dl);
        return fail(error, error_size, MP_ERROR_MEMORY, "mp_open");
    }
    lib->dl = dl;
    lib->get_meta = (get_meta_fn)symbol(dl, "umami_get_meta");
    lib->initialize = (initialize_fn)symbol(dl, "umami_initialize");
    lib->set_parameter = (set_parameter_fn)symbol(dl, "umami_set_parameter");
    lib->get_parameter = (get_parameter_fn)symbol(dl, "umami_get_parameter");
    lib->matrix_element = (matrix_element_fn)symbol(dl, "umami_matrix_element");
    lib->free_handle = (free_fn)symbol(dl, "umami_free");
    const char* missing = !lib->get_meta         ? "umami_get_meta"
                          : !lib->initialize     ? "umami_initialize"
                          : !lib->matrix_element ? "umami_matrix_element"
                          : !lib->free_handle    ? "umami_free"
                                                 : NULL;
    if (missing) {
        mp_close(lib);
        return fail(error, error_size, MP_ERROR_SYMBOL, "dlsym(%s): %s not exported", path, missing);
    }

    int major = meta_int(lib, UMAMI_META_ABI_MAJOR_VERSION);
    if (major != UMAMI_MAJOR_VERSION) {
        mp_close(lib);
        return fail(error, error_size, MP_ERROR_ABI,
                    "umami_get_meta(ABI_MAJOR_VERSION) of %s: version %d, expected %d", path,
                    major, UMAMI_MAJOR_VERSION);
    }
    lib->particles = meta_int(lib, UMAMI_META_PARTICLE_COUNT);
    lib->diagrams = meta_int(lib, UMAMI_META_DIAGRAM_COUNT);
    lib->helicities = meta_int(lib, UMAMI_META_HELICITY_COUNT);
    lib->colors = meta_int(lib, UMAMI_META_COLOR_COUNT);
    if (lib->particles <= 0) {
        mp_close(lib);
        return fail(error, error_size, UMAMI_ERROR,
                    "umami_get_meta(PARTICLE_COUNT) of %s: no particle count", path);
    }
    const char* fingerprint = NULL;
    if (lib->get_meta(UMAMI_META_PROCESS_FINGERPRINT, &fingerprint) == UMAMI_SUCCESS && fingerprint)
        snprintf(lib->fingerprint, sizeof lib->fingerprint, "%s", fingerprint);
    read_flags(dl, "umami_supported_inputs", lib->inputs, UMAMI_IN_COUNT);
    read_flags(dl, "umami_supported_outputs", lib->outputs, UMAMI_OUT_COUNT);
    if (!lib->inputs[UMAMI_IN_MOMENTA]) lib->inputs[UMAMI_IN_MOMENTA] = true;
    if (!lib->outputs[UMAMI_OUT_MATRIX_ELEMENT]) lib->outputs[UMAMI_OUT_MATRIX_ELEMENT] = true;

    size_t per_event = 4 * (size_t)lib->particles + (size_t)(lib->diagrams > 0 ? lib->diagrams : 0);
    lib->scratch = malloc(sizeof(double) * CHUNK * per_event);
    if (!lib->scratch) {
        mp_close(lib);
        return fail(error, error_size, MP_ERROR_MEMORY, "mp_open(%s)", path);
    }

    UmamiStatus status = lib->initialize(&lib->handle, param_card);
    if (status != UMAMI_SUCCESS) {
        lib->handle = NULL;
        mp_close(lib);
        return fail(error, error_size, (mp_status)status, "umami_initialize(%s, %s)", path,
                    param_card ? param_card : "NULL");
    }
    *out = lib;
    return MP_SUCCESS;
}

void mp_close(mp_library* lib) {
    if (!lib) return;
    if (lib->handle && lib->free_handle) lib->free_handle(lib->handle);
    free(lib->scratch);
    if (lib->dl) dlclose(lib->dl);
    free(lib);
}

const char* mp_error(const mp_library* lib) { return lib ? lib->error : ""; }
int mp_particle_count(const mp_library* lib) { return lib->particles; }
int mp_diagram_count(const mp_library* lib) { return lib->diagrams; }
int mp_helicity_count(const mp_library* lib) { return lib->helicities; }
int mp_color_count(const mp_library* lib) { return lib->colors; }
const char* mp_fingerprint(const mp_library* lib) { return lib->fingerprint; }

int mp_supports_input(const mp_library* lib, int key) {
    return key >= 0 && key < UMAMI_IN_COUNT && lib->inputs[key];
}

int mp_supports_output(const mp_library* lib, int key) {
    return key >= 0 && key < UMAMI_OUT_COUNT && lib->outputs[key];
}

mp_status mp_masses(mp_library* lib, double* masses) {
    UmamiStatus status = lib->get_meta(UMAMI_META_MASSES, masses);
    if (status != UMAMI_SUCCESS)
        return fail(lib->error, sizeof lib->error, (mp_status)status, "umami_get_meta(MASSES)");
    return MP_SUCCESS;
}

mp_status mp_set_parameter(mp_library* lib, const char* name, double re, double im) {
    if (!lib->set_parameter)
        return fail(lib->error, sizeof lib->error, UMAMI_ERROR_NOT_IMPLEMENTED,
                    "umami_set_parameter(%s): not exported", name);
    UmamiStatus status = lib->set_parameter(lib->handle, name, re, im);
    if (status != UMAMI_SUCCESS)
        return fail(lib->error, sizeof lib->error, (mp_status)status, "umami_set_parameter(%s)", name);
    return MP_SUCCESS;
}

mp_status mp_get_parameter(mp_library* lib, const char* name, double* re, double* im) {
    if (!lib->get_parameter)
        return fail(lib->error, sizeof lib->error, UMAMI_ERROR_NOT_IMPLEMENTED,
                    "umami_get_parameter(%s): not exported", name);
    UmamiStatus status = lib->get_parameter(lib->handle, name, re, im);
    if (status != UMAMI_SUCCESS)
        return fail(lib->error, sizeof lib->error, (mp_status)status, "umami_get_parameter(%s)", name);
    return MP_SUCCESS;
}

/* Report an optional input or output the caller asked for but the library lacks. */
static mp_status unsupported(mp_library* lib, mp_status status, const char* what) {
    return fail(lib->error, sizeof lib->error, status,
                "umami_matrix_element: the library does not support %s", what);
}

/* Shared by both layouts. `columns`: momenta [4][particles][count] and amp2
 * [diagrams][count], UMAMI's own layout, handed over in one call without
 * copies; otherwise event-major arrays, transposed chunk by chunk. */
static mp_status evaluate(mp_library* lib, size_t count, const double* momenta, bool columns,
                          const double* alpha_s, const int* flavor_index,
                          const double* random_color, const double* random_helicity,
                          double* me2, double* amp2, int* color_index,
                          int* helicity_index) {
    if (!lib || !momenta)
        return lib ? fail(lib->error, sizeof lib->error, MP_ERROR_ARGUMENT,
                          "mp_evaluate: momenta is NULL")
                   : MP_ERROR_ARGUMENT;
    if (alpha_s && !lib->inputs[UMAMI_IN_ALPHA_S])
        return unsupported(lib, UMAMI_ERROR_UNSUPPORTED_INPUT, "input ALPHA_S");
    if (flavor_index && !lib->inputs[UMAMI_IN_FLAVOR_INDEX])
        return unsupported(lib, UMAMI_ERROR_UNSUPPORTED_INPUT, "input FLAVOR_INDEX");
    if (amp2 && (!lib->outputs[UMAMI_OUT_DIAGRAM_AMP2] || lib->diagrams <= 0))
        return unsupported(lib, UMAMI_ERROR_UNSUPPORTED_OUTPUT, "output DIAGRAM_AMP2");
    if (color_index && !lib->outputs[UMAMI_OUT_COLOR_INDEX])
        return unsupported(lib, UMAMI_ERROR_UNSUPPORTED_OUTPUT, "output COLOR_INDEX");
    if (helicity_index && !lib->outputs[UMAMI_OUT_HELICITY_INDEX])
        return unsupported(lib, UMAMI_ERROR_UNSUPPORTED_OUTPUT, "output HELICITY_INDEX");
    /* Random numbers only drive colour and helicity selection: silently not
     * passing them to a library that cannot select is harmless. */
    bool pass_color = random_color && lib->inputs[UMAMI_IN_RANDOM_COLOR];
    bool pass_helicity = random_helicity && lib->inputs[UMAMI_IN_RANDOM_HELICITY];

    const size_t n = (size_t)lib->particles;
    const size_t diagrams = (size_t)(lib->diagrams > 0 ? lib->diagrams : 0);
    double* p_chunk = lib->scratch;
    /* Column layout: one chunk spanning the batch, read and written in place. */
    double* amp2_chunk = columns ? amp2 : lib->scratch + CHUNK * 4 * n;
    const double* p_in = columns ? momenta : p_chunk;
    const size_t chunk = columns ? count : CHUNK;
    for (size_t start = 0; start < count; start += chunk) {
        size_t m = count - start < chunk ? count - start : chunk;
        if (!columns) {
            const double* p = momenta + start * n * 4;
            /* Contiguous writes, strided reads: one output row per (component, particle). */
            for (size_t mu = 0; mu < 4; ++mu)
                for (size_t k = 0; k < n; ++k) {
                    double* row = p_chunk + m * (n * mu + k);
                    const double* column = p + k * 4 + mu;
                    for (size_t i = 0; i < m; ++i) row[i] = column[i * n * 4];
                }
        }

        UmamiInputKey in_keys[5];
        void const* inputs[5];
        size_t n_in = 0;
        in_keys[n_in] = UMAMI_IN_MOMENTA;
        inputs[n_in++] = p_in;
        if (alpha_s) {
            in_keys[n_in] = UMAMI_IN_ALPHA_S;
            inputs[n_in++] = alpha_s + start;
        }
        if (flavor_index) {
            in_keys[n_in] = UMAMI_IN_FLAVOR_INDEX;
            inputs[n_in++] = flavor_index + start;
        }
        if (pass_color) {
            in_keys[n_in] = UMAMI_IN_RANDOM_COLOR;
            inputs[n_in++] = random_color + start;
        }
        if (pass_helicity) {
            in_keys[n_in] = UMAMI_IN_RANDOM_HELICITY;
            inputs[n_in++] = random_helicity + start;
        }

        UmamiOutputKey out_keys[4];
        void* outputs[4];
        size_t n_out = 0;
        if (me2) {
            out_keys[n_out] = UMAMI_OUT_MATRIX_ELEMENT;
            outputs[n_out++] = me2 + start;
        }
        if (amp2) {
            out_keys[n_out] = UMAMI_OUT_DIAGRAM_AMP2;
            outputs[n_out++] = amp2_chunk;
        }
        if (color_index) {
            out_keys[n_out] = UMAMI_OUT_COLOR_INDEX;
            outputs[n_out++] = color_index + start;
        }
        if (helicity_index) {
            out_keys[n_out] = UMAMI_OUT_HELICITY_INDEX;
            outputs[n_out++] = helicity_index + start;
        }

        UmamiStatus status = lib->matrix_element(lib->handle, m, m, 0, n_in, in_keys, inputs,
                                                 n_out, out_keys, (void* const*)outputs);
        if (status != UMAMI_SUCCESS)
            return fail(lib->error, sizeof lib->error, (mp_status)status,
                        "umami_matrix_element(events %zu..%zu)", start, start + m);
        if (amp2 && !columns)
            for (size_t i = 0; i < m; ++i)
                for (size_t d = 0; d < diagrams; ++d)
                    amp2[(start + i) * diagrams + d] = amp2_chunk[m * d + i];
    }
    return MP_SUCCESS;
}

mp_status mp_evaluate(mp_library* lib, size_t count, const double* momenta,
                      const double* alpha_s, const int* flavor_index,
                      const double* random_color, const double* random_helicity,
                      double* me2, double* amp2, int* color_index,
                      int* helicity_index) {
    return evaluate(lib, count, momenta, false, alpha_s, flavor_index, random_color,
                    random_helicity, me2, amp2, color_index, helicity_index);
}

mp_status mp_evaluate_columns(mp_library* lib, size_t count, const double* momenta,
                              const double* alpha_s, const int* flavor_index,
                              const double* random_color, const double* random_helicity,
                              double* me2, double* amp2, int* color_index,
                              int* helicity_index) {
    return evaluate(lib, count, momenta, true, alpha_s, flavor_index, random_color,
                    random_helicity, me2, amp2, color_index, helicity_index);
}
