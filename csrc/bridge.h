/*
 * bridge.h -- load a UMAMI 1.1 matrix-element library at run time and
 * evaluate batches of events in the natural (event, particle, component)
 * layout of C, Fortran (transposed) and numpy.
 *
 * One mp_library holds one dlopen'ed library and one UMAMI handle; it is not
 * thread-safe (UMAMI: one handle per thread), so open one per thread or
 * process. Every function returns an mp_status: the UMAMI status of the
 * failing UMAMI call (1..7) or a bridge error (>= 100); mp_error() then names
 * the status and the call that failed.
 *
 * Example (C):
 *     mp_library* lib;
 *     char err[512];
 *     if (mp_open("libee_mumu.so", NULL, &lib, err, sizeof err)) puts(err);
 *     double p[4][4] = {...};  double me2;
 *     mp_evaluate(lib, 1, &p[0][0], NULL, NULL, NULL, NULL, &me2, NULL, NULL, NULL);
 *     mp_close(lib);
 */
#ifndef MADNIS_BRIDGE_H
#define MADNIS_BRIDGE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int mp_status;

enum {
    MP_SUCCESS = 0,
    /* 1..7 are the UMAMI statuses, passed through unchanged */
    MP_ERROR_LOAD = 100,       /* dlopen failed */
    MP_ERROR_SYMBOL = 101,     /* a required umami_* symbol is missing */
    MP_ERROR_ABI = 102,        /* the library's ABI major version is not 1 */
    MP_ERROR_MEMORY = 103,     /* allocation failed */
    MP_ERROR_ARGUMENT = 104    /* a bad argument from the caller */
};

typedef struct mp_library mp_library;

/* Open the library at `path` and initialise it with the SLHA param card at
 * `param_card` (NULL: the library's defaults). On failure *out is NULL and
 * `error` (may be NULL) receives a message naming the status and the call. */
mp_status mp_open(const char* path, const char* param_card, mp_library** out,
                  char* error, size_t error_size);
void mp_close(mp_library* lib);

/* The message of the last failure on `lib` ("" if none). */
const char* mp_error(const mp_library* lib);
/* The name of a status, e.g. "UMAMI_ERROR_UNSUPPORTED_INPUT". */
const char* mp_status_name(mp_status status);

int mp_particle_count(const mp_library* lib);
int mp_diagram_count(const mp_library* lib);   /* 0 if the library has none */
int mp_helicity_count(const mp_library* lib);  /* 0 if not reported */
int mp_color_count(const mp_library* lib);     /* 0 if not reported */
/* Masses of the external particles (library defaults), n = particle count. */
mp_status mp_masses(mp_library* lib, double* masses);
/* The library's fingerprint string ("" if it reports none). */
const char* mp_fingerprint(const mp_library* lib);
/* Whether UMAMI input / output `key` is supported by the library. */
int mp_supports_input(const mp_library* lib, int key);
int mp_supports_output(const mp_library* lib, int key);

mp_status mp_set_parameter(mp_library* lib, const char* name, double re, double im);
mp_status mp_get_parameter(mp_library* lib, const char* name, double* re, double* im);

/* Evaluate `count` events.
 *   momenta          [count][particles][4] (E, px, py, pz), required
 *   alpha_s          [count] or NULL (library default)
 *   flavor_index     [count] or NULL (0)
 *   random_color     [count] in [0,1) or NULL
 *   random_helicity  [count] in [0,1) or NULL
 * Outputs (NULL: not requested):
 *   me2              [count]
 *   amp2             [count][diagrams]  (normalised per-diagram weights)
 *   color_index      [count]
 *   helicity_index   [count]
 */
mp_status mp_evaluate(mp_library* lib, size_t count, const double* momenta,
                      const double* alpha_s, const int* flavor_index,
                      const double* random_color, const double* random_helicity,
                      double* me2, double* amp2, int* color_index,
                      int* helicity_index);

/* As mp_evaluate, with momenta and amp2 in UMAMI's own column layout:
 *   momenta  [4][particles][count]   (component, particle, event)
 *   amp2     [diagrams][count]
 * The arrays go to the library as they are, in one call, without copies:
 * the fast path for callers that hold their momenta that way. */
mp_status mp_evaluate_columns(mp_library* lib, size_t count, const double* momenta,
                              const double* alpha_s, const int* flavor_index,
                              const double* random_color, const double* random_helicity,
                              double* me2, double* amp2, int* color_index,
                              int* helicity_index);

#ifdef __cplusplus
}
#endif

#endif /* MADNIS_BRIDGE_H */
