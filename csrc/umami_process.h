/*
 * umami_process.h -- the UMAMI 1.1 boilerplate shared by the built-in processes.
 *
 * A built-in process is one C file that defines a few macros, includes this
 * header, and then defines four functions:
 *
 *     #define PROCESS_N_EXTERNAL 4        external legs, incoming first
 *     #define PROCESS_N_INCOMING 2
 *     #define PROCESS_N_FLAVORS 1         subprocesses (FLAVOR_INDEX range)
 *     #define PROCESS_N_DIAGRAMS 2        DIAGRAM_AMP2 slots
 *     #define PROCESS_MAX_COLORS 1        largest colour basis over flavours
 *     #define PROCESS_CACHE_WAVES 8       current-cache slots (optional, default 1)
 *     #define PROCESS_FINGERPRINT "madnis-plugin/ee_mumu/1"
 *     #include "umami_process.h"
 *
 *     static void process_masses(const SmParameters* sm, double* masses);
 *     static const ProcessFlavor* process_flavor(int flavor);
 *     static void process_external(const ProcessContext* ctx, int flavor,
 *                                  const double (*p)[4], HelasWave (*ext)[2]);
 *     static void process_amplitudes(const ProcessContext* ctx, int flavor,
 *                                    HelasWave (*ext)[2], ProcessCache* cache,
 *                                    const int* hel, double complex* jamp,
 *                                    double* amp2);
 *
 * process_external computes, once per event, the external wavefunctions of
 * every leg for helicity -1 (ext[i][0]) and +1 (ext[i][1]), applying the gauge
 * probe. process_amplitudes computes, for one helicity configuration (hel[i] =
 * -1 or +1, MadGraph's order), the colour-flow amplitudes JAMP_k and ADDS
 * |amp_d|^2 of every diagram with a channel to amp2[d]. An off-shell current
 * depends only on the helicities of the legs it contains, so the process keeps
 * each one in `cache` (PROCESS_CACHE_WAVES slots, emptied for every event) and
 * computes it once per helicity combination of its legs. This header does
 * the rest: parameters and the param card, the helicity sum (with a filter
 * that skips helicity configurations found identically zero), the colour sum
 * sum_ij conj(JAMP_i) CF_ij JAMP_j, averaging, DIAGRAM_AMP2 normalisation,
 * colour-flow selection by leading-colour |JAMP_k|^2, helicity selection by
 * each configuration's share, and the batch loop over the UMAMI memory layout.
 *
 * Inputs: MOMENTA (required), ALPHA_S or G_STRONG (not both; default: the
 * param card's aS), FLAVOR_INDEX (default 0), RANDOM_COLOR and
 * RANDOM_HELICITY (default 0.5). Outputs: MATRIX_ELEMENT, DIAGRAM_AMP2,
 * COLOR_INDEX, HELICITY_INDEX. Invalid per-event inputs (flavour out of
 * range, negative or non-finite alpha_s) fail the whole call with
 * UMAMI_ERROR before any output is written.
 *
 * Parameters (umami_set_parameter / umami_get_parameter):
 *   "zerowidth_tchannel"  1: drop widths in t-channel propagators (default 0)
 *   "gauge_probe_leg"     k > 0: replace the polarisation vector of external
 *                         vector leg k (1-based) by its momentum (a test of
 *                         gauge invariance; the result should vanish with
 *                         all widths zero). 0 (default): off.
 *   "helicity_filter"     1 (default): skip helicity configurations that
 *                         vanish at two generic points; 0: sum all.
 *   any name known to sm_parameters.h ("MZ", "WT", "aS", "MW", ...): get;
 *   set for the inputs, which re-derives the electroweak parameters.
 */
#ifndef MADNIS_UMAMI_PROCESS_H
#define MADNIS_UMAMI_PROCESS_H

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helas.h"
#include "sm_parameters.h"
#include "umami.h"

/* Complex products and quotients here never meet infinities or NaNs that
 * matter, so use the plain textbook formulas instead of C99 Annex G's
 * library calls (__muldc3), which cost a factor of several in speed. */
#if defined(__clang__)
#pragma STDC CX_LIMITED_RANGE ON
#elif defined(__GNUC__)
#pragma GCC optimize("cx-limited-range")
#endif

#if !defined(PROCESS_N_EXTERNAL) || !defined(PROCESS_N_INCOMING) || !defined(PROCESS_N_FLAVORS) \
    || !defined(PROCESS_N_DIAGRAMS) || !defined(PROCESS_MAX_COLORS) || !defined(PROCESS_FINGERPRINT)
#error "define the PROCESS_* macros before including umami_process.h"
#endif

#define PROCESS_N_HELICITIES (1 << PROCESS_N_EXTERNAL)
#ifndef PROCESS_CACHE_WAVES
#define PROCESS_CACHE_WAVES 1
#endif

/* Off-shell currents of the event being evaluated, one slot per (current,
 * helicities of its legs); valid[k] says whether wave[k] is filled. */
typedef struct {
    HelasWave wave[PROCESS_CACHE_WAVES];
    unsigned char valid[PROCESS_CACHE_WAVES];
} ProcessCache;

/* Colour and averaging data of one subprocess. */
typedef struct {
    int n_colors;               /* colour flows of this subprocess */
    const double* color_matrix; /* n_colors x n_colors, row-major, denominators included */
    double iden;                /* helicity x colour averaging x identical-particle factor */
    const unsigned char* diagram_has_channel; /* [PROCESS_N_DIAGRAMS]: 1 if this subprocess's group uses the slot */
} ProcessFlavor;

/* What process_amplitudes needs besides momenta and helicities. */
typedef struct {
    const SmParameters* sm;
    double gs;              /* strong coupling of this event */
    int zerowidth_tchannel; /* 1: t-channel propagators without width */
    int gauge_probe_leg;    /* 1-based external vector leg replaced by its momentum; 0: none */
} ProcessContext;

static void process_masses(const SmParameters* sm, double* masses);
static const ProcessFlavor* process_flavor(int flavor);
static void process_external(const ProcessContext* ctx, int flavor, const double (*p)[4],
                             HelasWave (*ext)[2]);
static void process_amplitudes(const ProcessContext* ctx, int flavor, HelasWave (*ext)[2],
                               ProcessCache* cache, const int* hel, double complex* jamp,
                               double* amp2);

/* t-channel width as the handle's zerowidth_tchannel setting wants it. */
#define TCHANNEL_WIDTH(ctx, w) ((ctx)->zerowidth_tchannel ? 0.0 : (w))

typedef struct {
    SmParameters sm;
    int zerowidth_tchannel;
    int gauge_probe_leg;
    int helicity_filter;
    int filter_ready[PROCESS_N_FLAVORS];
    int n_good[PROCESS_N_FLAVORS];
    short good[PROCESS_N_FLAVORS][PROCESS_N_HELICITIES];
    ProcessCache cache; /* per handle, so one handle per thread as UMAMI requires */
} ProcessHandle;

/* Helicity of leg i in configuration h: MadGraph's order, last leg fastest, -1 first. */
static void process_helicities(int h, int* hel)
{
    for (int i = 0; i < PROCESS_N_EXTERNAL; ++i)
        hel[i] = ((h >> (PROCESS_N_EXTERNAL - 1 - i)) & 1) ? 1 : -1;
}

/* Colour-summed |M_h|^2 of one helicity configuration (no averaging); adds
 * |JAMP_k|^2 to jamp2 and per-diagram |amp_d|^2 to amp2. */
static double process_helicity_me2(const ProcessContext* ctx, int flavor, HelasWave (*ext)[2],
                                   ProcessCache* cache,
                                   int h, double* jamp2, double* amp2)
{
    const ProcessFlavor* fl = process_flavor(flavor);
    int hel[PROCESS_N_EXTERNAL];
    double complex jamp[PROCESS_MAX_COLORS];
    process_helicities(h, hel);
    for (int k = 0; k < PROCESS_MAX_COLORS; ++k) jamp[k] = 0.0;
    process_amplitudes(ctx, flavor, ext, cache, hel, jamp, amp2);
    double me2 = 0.0;
    for (int i = 0; i < fl->n_colors; ++i) {
        double complex row = 0.0;
        for (int j = 0; j < fl->n_colors; ++j) row += fl->color_matrix[i * fl->n_colors + j] * jamp[j];
        me2 += creal(conj(jamp[i]) * row);
        jamp2[i] += creal(jamp[i]) * creal(jamp[i]) + cimag(jamp[i]) * cimag(jamp[i]);
    }
    return me2;
}

/* A fixed, generic phase-space point (RAMBO with a deterministic sequence,
 * then massive rescaling) for the helicity filter. */
static void process_generic_point(const double* masses, unsigned seed, double (*p)[4])
{
    const int n_out = PROCESS_N_EXTERNAL - PROCESS_N_INCOMING;
    const double pi = 3.14159265358979323846;
    double sum_out = 0.0;
    for (int i = PROCESS_N_INCOMING; i < PROCESS_N_EXTERNAL; ++i) sum_out += masses[i];
    const double sqrt_s = 2.0 * sum_out + 997.0;
    /* incoming */
    if (PROCESS_N_INCOMING == 2) {
        const double m1 = masses[0], m2 = masses[1], s = sqrt_s * sqrt_s;
        const double e1 = (s + m1 * m1 - m2 * m2) / (2.0 * sqrt_s);
        const double pz = sqrt(fmax(e1 * e1 - m1 * m1, 0.0));
        const double in[2][4] = {{e1, 0.0, 0.0, pz}, {sqrt_s - e1, 0.0, 0.0, -pz}};
        memcpy(p[0], in[0], sizeof in[0]);
        memcpy(p[1], in[1], sizeof in[1]);
    } else {
        p[0][0] = sqrt_s;
        p[0][1] = p[0][2] = p[0][3] = 0.0;
    }
    /* massless RAMBO */
    unsigned long long state = 0x9E3779B97F4A7C15ULL ^ seed;
    double q[PROCESS_N_EXTERNAL][4], sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (int i = 0; i < n_out; ++i) {
        double r[4];
        for (int k = 0; k < 4; ++k) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            r[k] = ((state >> 11) + 0.5) / 9007199254740992.0;
        }
        const double c = 2.0 * r[0] - 1.0, s = sqrt(1.0 - c * c), f = 2.0 * pi * r[1];
        q[i][0] = -log(r[2] * r[3]);
        q[i][1] = q[i][0] * s * cos(f);
        q[i][2] = q[i][0] * s * sin(f);
        q[i][3] = q[i][0] * c;
        for (int mu = 0; mu < 4; ++mu) sum[mu] += q[i][mu];
    }
    const double m = sqrt(sum[0] * sum[0] - sum[1] * sum[1] - sum[2] * sum[2] - sum[3] * sum[3]);
    const double b[3] = {-sum[1] / m, -sum[2] / m, -sum[3] / m};
    const double g = sum[0] / m, a = 1.0 / (1.0 + g), x = sqrt_s / m;
    for (int i = 0; i < n_out; ++i) {
        const double bq = b[0] * q[i][1] + b[1] * q[i][2] + b[2] * q[i][3];
        double* out = p[PROCESS_N_INCOMING + i];
        out[0] = x * (g * q[i][0] + bq);
        for (int k = 0; k < 3; ++k) out[k + 1] = x * (q[i][k + 1] + b[k] * q[i][0] + a * bq * b[k]);
    }
    /* massive rescaling: sum_i sqrt(m_i^2 + xi^2 E_i^2) = sqrt_s */
    double xi = 1.0;
    if (sum_out > 0.0) {
        xi = sqrt(1.0 - (sum_out / sqrt_s) * (sum_out / sqrt_s));
        for (int it = 0; it < 50; ++it) {
            double f = -sqrt_s, df = 0.0;
            for (int i = PROCESS_N_INCOMING; i < PROCESS_N_EXTERNAL; ++i) {
                const double e = sqrt(masses[i] * masses[i] + xi * xi * p[i][0] * p[i][0]);
                f += e;
                df += xi * p[i][0] * p[i][0] / e;
            }
            xi -= f / df;
        }
        for (int i = PROCESS_N_INCOMING; i < PROCESS_N_EXTERNAL; ++i) {
            const double e = sqrt(masses[i] * masses[i] + xi * xi * p[i][0] * p[i][0]);
            for (int k = 1; k < 4; ++k) p[i][k] *= xi;
            p[i][0] = e;
        }
    }
    /* Rotate and boost away from the beam axis: helicity configurations that
     * vanish only because momenta are aligned with z (or at rest in the
     * partonic frame) must not be filtered out, since they contribute in other frames. */
    const double axis[3] = {1.0 / sqrt(14.0), 2.0 / sqrt(14.0), 3.0 / sqrt(14.0)};
    const double angle = 0.7 * seed, c = cos(angle), s = sin(angle);
    const double beta[3] = {0.13 * seed, -0.21, 0.17};
    const double b2 = beta[0] * beta[0] + beta[1] * beta[1] + beta[2] * beta[2];
    const double gamma = 1.0 / sqrt(1.0 - b2);
    for (int i = 0; i < PROCESS_N_EXTERNAL; ++i) {
        double v[3] = {p[i][1], p[i][2], p[i][3]}, r[3];
        const double av = axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2];
        const double cross[3] = {axis[1] * v[2] - axis[2] * v[1], axis[2] * v[0] - axis[0] * v[2],
                                 axis[0] * v[1] - axis[1] * v[0]};
        for (int k = 0; k < 3; ++k) r[k] = v[k] * c + cross[k] * s + axis[k] * av * (1.0 - c);
        const double bp = beta[0] * r[0] + beta[1] * r[1] + beta[2] * r[2];
        const double e = p[i][0];
        p[i][0] = gamma * (e + bp);
        for (int k = 0; k < 3; ++k) p[i][k + 1] = r[k] + ((gamma - 1.0) * bp / b2 + gamma * e) * beta[k];
    }
}

/* Finds the helicity configurations of `flavor` that contribute (> 1e-13 of
 * the largest) at either of two generic points. */
static void process_build_filter(ProcessHandle* handle, int flavor)
{
    ProcessContext ctx = {&handle->sm, handle->sm.gs, handle->zerowidth_tchannel, 0};
    double masses[PROCESS_N_EXTERNAL];
    double p[PROCESS_N_EXTERNAL][4];
    double jamp2[PROCESS_MAX_COLORS], amp2[PROCESS_N_DIAGRAMS + 1];
    double best[PROCESS_N_HELICITIES];
    process_masses(&handle->sm, masses);
    for (int h = 0; h < PROCESS_N_HELICITIES; ++h) best[h] = 0.0;
    for (unsigned seed = 1; seed <= 2; ++seed) {
        process_generic_point(masses, seed, p);
        HelasWave ext[PROCESS_N_EXTERNAL][2];
        process_external(&ctx, flavor, (const double(*)[4])p, ext);
        memset(handle->cache.valid, 0, sizeof handle->cache.valid);
        double me[PROCESS_N_HELICITIES], largest = 0.0;
        for (int h = 0; h < PROCESS_N_HELICITIES; ++h) {
            me[h] = fabs(process_helicity_me2(&ctx, flavor, ext, &handle->cache, h, jamp2, amp2));
            if (me[h] > largest) largest = me[h];
        }
        for (int h = 0; h < PROCESS_N_HELICITIES; ++h)
            if (largest > 0.0 && me[h] / largest > best[h]) best[h] = me[h] / largest;
    }
    int n = 0;
    for (int h = 0; h < PROCESS_N_HELICITIES; ++h)
        if (best[h] > 1e-13 || !isfinite(best[h])) handle->good[flavor][n++] = (short)h;
    if (n == 0) /* nothing found (all zero): keep every configuration rather than guess */
        for (int h = 0; h < PROCESS_N_HELICITIES; ++h) handle->good[flavor][n++] = (short)h;
    handle->n_good[flavor] = n;
    handle->filter_ready[flavor] = 1;
}

/* ---- UMAMI 1.1 entry points ------------------------------------------------ */

static const bool process_supported_inputs[UMAMI_IN_COUNT] = {
    [UMAMI_IN_MOMENTA] = true,       [UMAMI_IN_ALPHA_S] = true,        [UMAMI_IN_FLAVOR_INDEX] = true,
    [UMAMI_IN_RANDOM_COLOR] = true,  [UMAMI_IN_RANDOM_HELICITY] = true,  [UMAMI_IN_G_STRONG] = true,
};
static const bool process_required_inputs[UMAMI_IN_COUNT] = {[UMAMI_IN_MOMENTA] = true};
static const bool process_supported_outputs[UMAMI_OUT_COUNT] = {
    [UMAMI_OUT_MATRIX_ELEMENT] = true, [UMAMI_OUT_DIAGRAM_AMP2] = true,
    [UMAMI_OUT_COLOR_INDEX] = true,    [UMAMI_OUT_HELICITY_INDEX] = true,
};

UmamiStatus umami_get_meta(UmamiMetaKey meta_key, void* result)
{
    if (result == NULL) return UMAMI_ERROR;
    switch (meta_key) {
    case UMAMI_META_DEVICE: *(int*)result = UMAMI_DEVICE_CPU; return UMAMI_SUCCESS;
    case UMAMI_META_PARTICLE_COUNT: *(int*)result = PROCESS_N_EXTERNAL; return UMAMI_SUCCESS;
    case UMAMI_META_DIAGRAM_COUNT: *(int*)result = PROCESS_N_DIAGRAMS; return UMAMI_SUCCESS;
    case UMAMI_META_HELICITY_COUNT: *(int*)result = PROCESS_N_HELICITIES; return UMAMI_SUCCESS;
    case UMAMI_META_COLOR_COUNT: *(int*)result = PROCESS_MAX_COLORS; return UMAMI_SUCCESS;
    case UMAMI_META_MASSES: {
        SmParameters sm;
        sm_parameters_default(&sm);
        process_masses(&sm, (double*)result);
        return UMAMI_SUCCESS;
    }
    case UMAMI_META_ABI_MAJOR_VERSION: *(int*)result = UMAMI_MAJOR_VERSION; return UMAMI_SUCCESS;
    case UMAMI_META_ABI_MINOR_VERSION: *(int*)result = UMAMI_MINOR_VERSION; return UMAMI_SUCCESS;
    case UMAMI_META_PROCESS_FINGERPRINT: *(const char**)result = PROCESS_FINGERPRINT; return UMAMI_SUCCESS;
    case UMAMI_META_SQUARED_ORDER_COUNT: *(int*)result = 0; return UMAMI_SUCCESS;
    default: return UMAMI_ERROR_UNSUPPORTED_META;
    }
}

UmamiStatus umami_supported_inputs(bool const** supported, int* count)
{
    if (supported == NULL || count == NULL) return UMAMI_ERROR;
    *supported = process_supported_inputs;
    *count = UMAMI_IN_COUNT;
    return UMAMI_SUCCESS;
}

UmamiStatus umami_required_inputs(bool const** required, int* count)
{
    if (required == NULL || count == NULL) return UMAMI_ERROR;
    *required = process_required_inputs;
    *count = UMAMI_IN_COUNT;
    return UMAMI_SUCCESS;
}

UmamiStatus umami_supported_outputs(bool const** supported, int* count)
{
    if (supported == NULL || count == NULL) return UMAMI_ERROR;
    *supported = process_supported_outputs;
    *count = UMAMI_OUT_COUNT;
    return UMAMI_SUCCESS;
}

UmamiStatus umami_initialize(UmamiHandle* handle, char const* param_card_path)
{
    if (handle == NULL) return UMAMI_ERROR;
    *handle = NULL;
    ProcessHandle* h = calloc(1, sizeof *h);
    if (h == NULL) return UMAMI_ERROR;
    if (sm_parameters_read(&h->sm, param_card_path) != 0) {
        free(h);
        return UMAMI_ERROR;
    }
    h->helicity_filter = 1;
    *handle = h;
    return UMAMI_SUCCESS;
}

static void process_reset_filter(ProcessHandle* h)
{
    for (int f = 0; f < PROCESS_N_FLAVORS; ++f) h->filter_ready[f] = 0;
}

UmamiStatus umami_set_parameter(UmamiHandle handle, char const* name, double parameter_real,
                                double parameter_imag)
{
    ProcessHandle* h = handle;
    (void)parameter_imag;
    if (h == NULL || name == NULL || !isfinite(parameter_real)) return UMAMI_ERROR;
    if (strcmp(name, "zerowidth_tchannel") == 0) {
        h->zerowidth_tchannel = parameter_real != 0.0;
        return UMAMI_SUCCESS;
    }
    if (strcmp(name, "gauge_probe_leg") == 0) {
        const int leg = (int)parameter_real;
        if (leg < 0 || leg > PROCESS_N_EXTERNAL || leg != parameter_real) return UMAMI_ERROR;
        h->gauge_probe_leg = leg;
        return UMAMI_SUCCESS;
    }
    if (strcmp(name, "helicity_filter") == 0) {
        h->helicity_filter = parameter_real != 0.0;
        process_reset_filter(h);
        return UMAMI_SUCCESS;
    }
    if (sm_parameter_is_input(name)) {
        *sm_parameter_by_name(&h->sm, name) = parameter_real;
        sm_parameters_derive(&h->sm);
        process_reset_filter(h);
        return UMAMI_SUCCESS;
    }
    return UMAMI_ERROR;
}

UmamiStatus umami_get_parameter(UmamiHandle handle, char const* name, double* parameter_real,
                                double* parameter_imag)
{
    ProcessHandle* h = handle;
    if (h == NULL || name == NULL || parameter_real == NULL) return UMAMI_ERROR;
    double value;
    if (strcmp(name, "zerowidth_tchannel") == 0) {
        value = h->zerowidth_tchannel;
    } else if (strcmp(name, "gauge_probe_leg") == 0) {
        value = h->gauge_probe_leg;
    } else if (strcmp(name, "helicity_filter") == 0) {
        value = h->helicity_filter;
    } else {
        const double* v = sm_parameter_by_name(&h->sm, name);
        if (v == NULL) return UMAMI_ERROR;
        value = *v;
    }
    *parameter_real = value;
    if (parameter_imag != NULL) *parameter_imag = 0.0;
    return UMAMI_SUCCESS;
}

UmamiStatus umami_free(UmamiHandle handle)
{
    free(handle);
    return UMAMI_SUCCESS;
}

UmamiStatus umami_matrix_element(UmamiHandle handle, size_t count, size_t stride, size_t offset,
                                 size_t input_count, UmamiInputKey const* input_keys,
                                 void const* const* inputs, size_t output_count,
                                 UmamiOutputKey const* output_keys, void* const* outputs)
{
    ProcessHandle* h = handle;
    if (h == NULL) return UMAMI_ERROR;
    if (count == 0) return UMAMI_SUCCESS;
    if (offset + count > stride || offset + count < offset) return UMAMI_ERROR;
    if ((input_count > 0 && (input_keys == NULL || inputs == NULL))
        || (output_count > 0 && (output_keys == NULL || outputs == NULL)))
        return UMAMI_ERROR;

    const double* momenta = NULL;
    const double* alpha_s = NULL;
    const double* g_strong = NULL;
    const int* flavor_index = NULL;
    const double* random_color = NULL;
    const double* random_helicity = NULL;
    for (size_t i = 0; i < input_count; ++i) {
        if (inputs[i] == NULL) return UMAMI_ERROR;
        switch (input_keys[i]) {
        case UMAMI_IN_MOMENTA: momenta = inputs[i]; break;
        case UMAMI_IN_ALPHA_S: alpha_s = inputs[i]; break;
        case UMAMI_IN_G_STRONG: g_strong = inputs[i]; break;
        case UMAMI_IN_FLAVOR_INDEX: flavor_index = inputs[i]; break;
        case UMAMI_IN_RANDOM_COLOR: random_color = inputs[i]; break;
        case UMAMI_IN_RANDOM_HELICITY: random_helicity = inputs[i]; break;
        default: return UMAMI_ERROR_UNSUPPORTED_INPUT;
        }
    }
    if (momenta == NULL) return UMAMI_ERROR_MISSING_INPUT;
    if (alpha_s != NULL && g_strong != NULL) return UMAMI_ERROR; /* ambiguous strong coupling */

    double* me_out = NULL;
    double* amp2_out = NULL;
    int* color_out = NULL;
    int* helicity_out = NULL;
    for (size_t i = 0; i < output_count; ++i) {
        if (outputs[i] == NULL) return UMAMI_ERROR;
        switch (output_keys[i]) {
        case UMAMI_OUT_MATRIX_ELEMENT: me_out = outputs[i]; break;
        case UMAMI_OUT_DIAGRAM_AMP2: amp2_out = outputs[i]; break;
        case UMAMI_OUT_COLOR_INDEX: color_out = outputs[i]; break;
        case UMAMI_OUT_HELICITY_INDEX: helicity_out = outputs[i]; break;
        default: return UMAMI_ERROR_UNSUPPORTED_OUTPUT;
        }
    }

    /* Validate the per-event inputs first, so that an error leaves no partial output. */
    for (size_t e = offset; e < offset + count; ++e) {
        if (flavor_index != NULL && (flavor_index[e] < 0 || flavor_index[e] >= PROCESS_N_FLAVORS))
            return UMAMI_ERROR;
        if (alpha_s != NULL && !(alpha_s[e] >= 0.0 && isfinite(alpha_s[e]))) return UMAMI_ERROR;
        if (g_strong != NULL && !isfinite(g_strong[e])) return UMAMI_ERROR;
    }

    const double pi = 3.14159265358979323846;
    for (size_t e = offset; e < offset + count; ++e) {
        const int flavor = flavor_index != NULL ? flavor_index[e] : 0;
        const ProcessFlavor* fl = process_flavor(flavor);
        const int use_filter = h->helicity_filter && h->gauge_probe_leg == 0;
        if (use_filter && !h->filter_ready[flavor]) process_build_filter(h, flavor);
        const double gs = g_strong != NULL ? g_strong[e]
                        : alpha_s != NULL ? sqrt(4.0 * pi * alpha_s[e]) : h->sm.gs;
        ProcessContext ctx = {&h->sm, gs, h->zerowidth_tchannel, h->gauge_probe_leg};

        double p[PROCESS_N_EXTERNAL][4];
        for (int i = 0; i < PROCESS_N_EXTERNAL; ++i)
            for (int mu = 0; mu < 4; ++mu) p[i][mu] = momenta[stride * (PROCESS_N_EXTERNAL * mu + i) + e];

        HelasWave ext[PROCESS_N_EXTERNAL][2];
        process_external(&ctx, flavor, (const double(*)[4])p, ext);
        memset(h->cache.valid, 0, sizeof h->cache.valid);
        double jamp2[PROCESS_MAX_COLORS], amp2[PROCESS_N_DIAGRAMS + 1];
        double me_hel[PROCESS_N_HELICITIES];
        for (int k = 0; k < PROCESS_MAX_COLORS; ++k) jamp2[k] = 0.0;
        for (int d = 0; d < PROCESS_N_DIAGRAMS; ++d) amp2[d] = 0.0;
        const int n_hel = use_filter ? h->n_good[flavor] : PROCESS_N_HELICITIES;
        double total = 0.0;
        for (int k = 0; k < n_hel; ++k) {
            const int hh = use_filter ? h->good[flavor][k] : k;
            me_hel[k] = process_helicity_me2(&ctx, flavor, ext, &h->cache, hh, jamp2, amp2);
            total += me_hel[k];
        }

        if (me_out != NULL) me_out[e] = total / fl->iden;

        if (amp2_out != NULL) {
            double sum = 0.0;
            for (int d = 0; d < PROCESS_N_DIAGRAMS; ++d) sum += amp2[d];
            if (sum > 0.0 && isfinite(sum)) {
                for (int d = 0; d < PROCESS_N_DIAGRAMS; ++d) amp2_out[stride * d + e] = amp2[d] / sum;
            } else { /* degenerate point: share evenly among the subprocess's channels */
                int n = 0;
                for (int d = 0; d < PROCESS_N_DIAGRAMS; ++d) n += fl->diagram_has_channel[d];
                for (int d = 0; d < PROCESS_N_DIAGRAMS; ++d)
                    amp2_out[stride * d + e] = (n > 0 && fl->diagram_has_channel[d]) ? 1.0 / n : 0.0;
            }
        }

        if (color_out != NULL) {
            const double r = random_color != NULL ? random_color[e] : 0.5;
            double sum = 0.0;
            for (int k = 0; k < fl->n_colors; ++k) sum += jamp2[k];
            int chosen = fl->n_colors - 1;
            double acc = 0.0;
            for (int k = 0; k < fl->n_colors; ++k) {
                acc += jamp2[k];
                if (sum > 0.0 && jamp2[k] > 0.0 && r * sum < acc) {
                    chosen = k;
                    break;
                }
            }
            if (!(sum > 0.0)) chosen = (int)fmin(fmax(r, 0.0) * fl->n_colors, fl->n_colors - 1);
            color_out[e] = chosen;
        }

        if (helicity_out != NULL) {
            const double r = random_helicity != NULL ? random_helicity[e] : 0.5;
            int chosen = -1;
            double acc = 0.0;
            for (int k = 0; k < n_hel; ++k) {
                acc += me_hel[k] > 0.0 ? me_hel[k] : 0.0;
                if (me_hel[k] > 0.0 && r * total < acc) {
                    chosen = use_filter ? h->good[flavor][k] : k;
                    break;
                }
            }
            if (chosen < 0) { /* zero matrix element, or r rounding at the top: last contributing one */
                for (int k = n_hel - 1; k >= 0 && chosen < 0; --k)
                    if (me_hel[k] > 0.0 || k == 0) chosen = use_filter ? h->good[flavor][k] : k;
            }
            helicity_out[e] = chosen;
        }
    }
    return UMAMI_SUCCESS;
}

#endif /* MADNIS_UMAMI_PROCESS_H */
