/*
 * umami.h -- the Unified MAtrix eleMent Interface, ABI 1.1.
 *
 * Written for madnis-plugin from the published facts of the interface
 * (key and status values, function signatures, memory layout); any library
 * exporting these symbols with C linkage can be loaded by the bridge.
 *
 * Layout: double precision, batch dimension contiguous, component outermost.
 * Momentum component mu (E, px, py, pz) of particle p for event i lives at
 *     momenta[stride * (n_particles * mu + p) + offset + i]
 * per-diagram output d at amp2[stride * d + offset + i], per-event scalars at
 * x[offset + i]. A call evaluates events [offset, offset + count).
 */
#ifndef UMAMI_H
#define UMAMI_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UMAMI_MAJOR_VERSION 1
#define UMAMI_MINOR_VERSION 1

typedef enum {
    UMAMI_SUCCESS = 0,
    UMAMI_ERROR = 1,
    UMAMI_ERROR_NOT_IMPLEMENTED = 2,
    UMAMI_ERROR_UNSUPPORTED_INPUT = 3,
    UMAMI_ERROR_UNSUPPORTED_OUTPUT = 4,
    UMAMI_ERROR_UNINITIALIZED_META = 5,
    UMAMI_ERROR_UNSUPPORTED_META = 6,
    UMAMI_ERROR_MISSING_INPUT = 7
} UmamiStatus;

typedef enum {
    UMAMI_DEVICE_CPU = 0,
    UMAMI_DEVICE_CUDA = 1,
    UMAMI_DEVICE_HIP = 2
} UmamiDevice;

typedef enum {
    UMAMI_META_DEVICE = 0,
    UMAMI_META_PARTICLE_COUNT = 1,
    UMAMI_META_DIAGRAM_COUNT = 2,
    UMAMI_META_HELICITY_COUNT = 3,
    UMAMI_META_COLOR_COUNT = 4,
    UMAMI_META_MASSES = 5,            /* double[PARTICLE_COUNT] */
    UMAMI_META_ABI_MAJOR_VERSION = 6,
    UMAMI_META_ABI_MINOR_VERSION = 7,
    UMAMI_META_PROCESS_FINGERPRINT = 8, /* const char* */
    UMAMI_META_SQUARED_ORDER_COUNT = 9
} UmamiMetaKey;

typedef enum {
    UMAMI_IN_MOMENTA = 0,          /* double */
    UMAMI_IN_ALPHA_S = 1,          /* double */
    UMAMI_IN_FLAVOR_INDEX = 2,     /* int */
    UMAMI_IN_RANDOM_COLOR = 3,     /* double in [0, 1) */
    UMAMI_IN_RANDOM_HELICITY = 4,  /* double in [0, 1) */
    UMAMI_IN_RANDOM_DIAGRAM = 5,   /* double in [0, 1) */
    UMAMI_IN_HELICITY_INDEX = 6,   /* int */
    UMAMI_IN_DIAGRAM_INDEX = 7,    /* int */
    UMAMI_IN_CHANNEL_INDEX = 8,    /* unsigned */
    UMAMI_IN_G_STRONG = 9,         /* double */
    UMAMI_IN_COUNT = 10
} UmamiInputKey;

typedef enum {
    UMAMI_OUT_MATRIX_ELEMENT = 0,  /* double */
    UMAMI_OUT_DIAGRAM_AMP2 = 1,    /* double[DIAGRAM_COUNT], normalised to sum 1 */
    UMAMI_OUT_COLOR_INDEX = 2,     /* int, 0-based */
    UMAMI_OUT_HELICITY_INDEX = 3,  /* int, 0-based */
    UMAMI_OUT_DIAGRAM_INDEX = 4,   /* int, 0-based */
    UMAMI_OUT_GPU_STREAM = 5,
    UMAMI_OUT_SQUARED_ORDERS = 6,
    UMAMI_OUT_COUNT = 7
} UmamiOutputKey;

typedef void* UmamiHandle;

UmamiStatus umami_get_meta(UmamiMetaKey meta_key, void* result);
UmamiStatus umami_supported_inputs(bool const** supported, int* count);
UmamiStatus umami_required_inputs(bool const** required, int* count);
UmamiStatus umami_supported_outputs(bool const** supported, int* count);
UmamiStatus umami_initialize(UmamiHandle* handle, char const* param_card_path);
UmamiStatus umami_set_parameter(UmamiHandle handle, char const* name,
                                double parameter_real, double parameter_imag);
UmamiStatus umami_get_parameter(UmamiHandle handle, char const* name,
                                double* parameter_real, double* parameter_imag);
UmamiStatus umami_matrix_element(UmamiHandle handle, size_t count, size_t stride,
                                 size_t offset, size_t input_count,
                                 UmamiInputKey const* input_keys,
                                 void const* const* inputs, size_t output_count,
                                 UmamiOutputKey const* output_keys,
                                 void* const* outputs);
UmamiStatus umami_free(UmamiHandle handle);

#ifdef __cplusplus
}
#endif

#endif /* UMAMI_H */
