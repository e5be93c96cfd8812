/*
 * mg5_umami_shim.c -- the UMAMI 1.1 ABI on top of MadGraph5_aMC@NLO
 * Fortran output (standalone, madevent, or standalone --prefix=int).
 *
 * madnis_plugin.madgraph compiles this file together with the output's
 * Fortran. It generates "mg5_shim_config.h", which selects the variant with
 * one of the macros below and lists what the Fortran exports:
 *
 *   MG5_VARIANT_STANDALONE  SMATRIX(P, ANS) of each P* folder, one entry per
 *                           FLAVOR_INDEX in MG5_SMATRIX_TABLE (the adapter
 *                           renames each folder's symbols, so several P*
 *                           folders live in one library).
 *   MG5_VARIANT_MADEVENT    as standalone, and after each call the per-diagram
 *                           weights AMP2(1..MG5_NDIAG_TABLE[flavour]) are read
 *                           from COMMON/TO_AMPS/ AMP2(MAXAMPS), JAMP2(0:MAXFLOW).
 *   MG5_VARIANT_PREFIX      SMATRIXHEL(PDGS, PROCID, NPDG, P, ALPHAS, SCALE2,
 *                           NHEL, ANS) of SubProcesses/all_matrix.f, with the
 *                           PDG tuple and process id of each FLAVOR_INDEX in
 *                           MG5_PDG_TABLE and MG5_PROCID_TABLE (NHEL = -1 sums
 *                           the helicities; it sets G from ALPHAS itself).
 *
 * Common to all: MG5_NEXTERNAL, MG5_NFLAVORS, MG5_NDIAGRAMS, MG5_MASSES,
 * MG5_FINGERPRINT, MG5_DEFAULT_PARAM_CARD and MG5_CARDS_DIR. The parameters come from SETPARA(PARAM_CARD) of the model
 * library; the strong coupling is G in COMMON/STRONG/, and couplings follow
 * it only after UPDATE_AS_PARAM(). MadGraph's card reader looks for
 * ident_card.dat relative to the working directory, so SETPARA runs with the
 * output's Cards/ folder as working directory (restored afterwards).
 *
 * The Fortran keeps global state (COMMON blocks, SAVEd helicity filters):
 * every handle of a loaded library shares it. Handles re-read their own
 * param card when they take over from another handle, but calls through
 * different handles must never run concurrently (one process per worker).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "umami.h"
#include "mg5_shim_config.h"

#if defined(MG5_VARIANT_STANDALONE) + defined(MG5_VARIANT_MADEVENT) + defined(MG5_VARIANT_PREFIX) != 1
#error "mg5_shim_config.h must define exactly one MG5_VARIANT_* macro"
#endif

/* Model library: gfortran symbols, hidden CHARACTER length last. */
extern void setpara_(const char* path, size_t path_length);
extern void update_as_param_(void);
extern struct { double g; } strong_;

#ifdef MG5_VARIANT_PREFIX
extern void smatrixhel_(const int* pdgs, const int* procid, const int* npdg, const double* p,
                        const double* alphas, const double* scale2, const int* nhel, double* ans);
static const int mg5_pdg_table[MG5_NFLAVORS][MG5_NEXTERNAL] = MG5_PDG_TABLE;
static const int mg5_procid_table[MG5_NFLAVORS] = MG5_PROCID_TABLE;
#else
typedef void (*mg5_smatrix_fn)(const double* p, double* ans);
static const mg5_smatrix_fn mg5_smatrix_table[MG5_NFLAVORS] = MG5_SMATRIX_TABLE;
#endif

#ifdef MG5_VARIANT_MADEVENT
/* COMMON/TO_AMPS/ AMP2(MAXAMPS), JAMP2(0:MAXFLOW): only AMP2 is read. */
extern double to_amps_[];
static const int mg5_ndiag_table[MG5_NFLAVORS] = MG5_NDIAG_TABLE;
#endif

static const double mg5_masses[MG5_NEXTERNAL] = MG5_MASSES;
static const double mg5_pi = 3.14159265358979323846;

typedef struct {
    char* param_card;   /* this handle's card, re-read when it takes over */
    double alpha_s;     /* used when the call passes no ALPHA_S */
} Mg5Handle;

/* The handle whose parameters the Fortran COMMON blocks hold now. */
static Mg5Handle* mg5_active = NULL;

static const bool mg5_supported_inputs[UMAMI_IN_COUNT] = {
    [UMAMI_IN_MOMENTA] = true, [UMAMI_IN_ALPHA_S] = true, [UMAMI_IN_FLAVOR_INDEX] = true,
    [UMAMI_IN_G_STRONG] = true,
};
static const bool mg5_required_inputs[UMAMI_IN_COUNT] = {[UMAMI_IN_MOMENTA] = true};
static const bool mg5_supported_outputs[UMAMI_OUT_COUNT] = {
    [UMAMI_OUT_MATRIX_ELEMENT] = true,
#ifdef MG5_VARIANT_MADEVENT
    [UMAMI_OUT_DIAGRAM_AMP2] = true,
#endif
};

UmamiStatus umami_get_meta(UmamiMetaKey key, void* result) {
    if (!result) return UMAMI_ERROR;
    switch (key) {
    case UMAMI_META_DEVICE: *(int*)result = UMAMI_DEVICE_CPU; return UMAMI_SUCCESS;
    case UMAMI_META_PARTICLE_COUNT: *(int*)result = MG5_NEXTERNAL; return UMAMI_SUCCESS;
    case UMAMI_META_DIAGRAM_COUNT: *(int*)result = MG5_NDIAGRAMS; return UMAMI_SUCCESS;
    case UMAMI_META_HELICITY_COUNT: *(int*)result = 0; return UMAMI_SUCCESS;
    case UMAMI_META_COLOR_COUNT: *(int*)result = 0; return UMAMI_SUCCESS;
    case UMAMI_META_MASSES: memcpy(result, mg5_masses, sizeof mg5_masses); return UMAMI_SUCCESS;
    case UMAMI_META_ABI_MAJOR_VERSION: *(int*)result = UMAMI_MAJOR_VERSION; return UMAMI_SUCCESS;
    case UMAMI_META_ABI_MINOR_VERSION: *(int*)result = UMAMI_MINOR_VERSION; return UMAMI_SUCCESS;
    case UMAMI_META_PROCESS_FINGERPRINT: *(const char**)result = MG5_FINGERPRINT; return UMAMI_SUCCESS;
    case UMAMI_META_SQUARED_ORDER_COUNT: *(int*)result = 0; return UMAMI_SUCCESS;
    }
    return UMAMI_ERROR_UNSUPPORTED_META;
}

UmamiStatus umami_supported_inputs(bool const** supported, int* count) {
    *supported = mg5_supported_inputs;
    *count = UMAMI_IN_COUNT;
    return UMAMI_SUCCESS;
}

UmamiStatus umami_required_inputs(bool const** required, int* count) {
    *required = mg5_required_inputs;
    *count = UMAMI_IN_COUNT;
    return UMAMI_SUCCESS;
}

UmamiStatus umami_supported_outputs(bool const** supported, int* count) {
    *supported = mg5_supported_outputs;
    *count = UMAMI_OUT_COUNT;
    return UMAMI_SUCCESS;
}

/* Load the handle's parameters into the Fortran COMMON blocks. */
static void mg5_activate(Mg5Handle* h) {
    if (mg5_active == h) return;
    char cwd[PATH_MAX];
    int moved = getcwd(cwd, sizeof cwd) != NULL && chdir(MG5_CARDS_DIR) == 0;
    setpara_(h->param_card, strlen(h->param_card));
    if (moved && chdir(cwd) != 0) { /* the old directory vanished: nothing to restore */ }
    mg5_active = h;
}

UmamiStatus umami_initialize(UmamiHandle* handle, char const* param_card_path) {
    if (!handle) return UMAMI_ERROR;
    /* NULL: the output's own Cards/param_card.dat, recorded at build time. */
    if (!param_card_path) param_card_path = MG5_DEFAULT_PARAM_CARD;
    Mg5Handle* h = calloc(1, sizeof *h);
    if (!h) return UMAMI_ERROR;
    /* Absolute, since SETPARA runs in another working directory. */
    h->param_card = realpath(param_card_path, NULL);
    if (!h->param_card) {
        free(h);
        return UMAMI_ERROR_MISSING_INPUT;
    }
    mg5_active = NULL;
    mg5_activate(h);
    h->alpha_s = strong_.g * strong_.g / (4.0 * mg5_pi);
    *handle = h;
    return UMAMI_SUCCESS;
}

UmamiStatus umami_set_parameter(UmamiHandle handle, char const* name, double re, double im) {
    Mg5Handle* h = handle;
    if (!h || !name) return UMAMI_ERROR;
    if (im != 0.0) return UMAMI_ERROR_UNSUPPORTED_INPUT;
    if (strcmp(name, "alpha_s") == 0 || strcmp(name, "aS") == 0) {
        h->alpha_s = re;
        return UMAMI_SUCCESS;
    }
    /* The output fixed its t-channel width treatment when it was generated. */
    if (strcmp(name, "zerowidth_tchannel") == 0) return re == 0.0 ? UMAMI_SUCCESS : UMAMI_ERROR_NOT_IMPLEMENTED;
    return UMAMI_ERROR_NOT_IMPLEMENTED;
}

UmamiStatus umami_get_parameter(UmamiHandle handle, char const* name, double* re, double* im) {
    Mg5Handle* h = handle;
    if (!h || !name || !re || !im) return UMAMI_ERROR;
    *im = 0.0;
    if (strcmp(name, "alpha_s") == 0 || strcmp(name, "aS") == 0) {
        *re = h->alpha_s;
        return UMAMI_SUCCESS;
    }
    if (strcmp(name, "G") == 0) {   /* the Fortran's current strong coupling */
        *re = strong_.g;
        return UMAMI_SUCCESS;
    }
    return UMAMI_ERROR_NOT_IMPLEMENTED;
}

#ifndef MG5_VARIANT_PREFIX
/* Set G and refresh the couplings, skipping the refresh when G is unchanged. */
static void mg5_set_g(double g) {
    if (strong_.g == g) return;
    strong_.g = g;
    update_as_param_();
}
#endif

UmamiStatus umami_matrix_element(UmamiHandle handle, size_t count, size_t stride, size_t offset,
                                 size_t input_count, UmamiInputKey const* input_keys,
                                 void const* const* inputs, size_t output_count,
                                 UmamiOutputKey const* output_keys, void* const* outputs) {
    Mg5Handle* h = handle;
    if (!h) return UMAMI_ERROR;
    const double* momenta = NULL;
    const double* alpha_s = NULL;
    const double* g_strong = NULL;
    const int* flavor = NULL;
    for (size_t k = 0; k < input_count; ++k) {
        switch (input_keys[k]) {
        case UMAMI_IN_MOMENTA: momenta = inputs[k]; break;
        case UMAMI_IN_ALPHA_S: alpha_s = inputs[k]; break;
        case UMAMI_IN_G_STRONG: g_strong = inputs[k]; break;
        case UMAMI_IN_FLAVOR_INDEX: flavor = inputs[k]; break;
        default: return UMAMI_ERROR_UNSUPPORTED_INPUT;
        }
    }
    if (!momenta) return UMAMI_ERROR_MISSING_INPUT;
    double* me2 = NULL;
    double* amp2 = NULL;
    for (size_t k = 0; k < output_count; ++k) {
        switch (output_keys[k]) {
        case UMAMI_OUT_MATRIX_ELEMENT: me2 = outputs[k]; break;
#ifdef MG5_VARIANT_MADEVENT
        case UMAMI_OUT_DIAGRAM_AMP2: amp2 = outputs[k]; break;
#endif
        default: return UMAMI_ERROR_UNSUPPORTED_OUTPUT;
        }
    }
    (void)amp2;
    mg5_activate(h);

    double p[4 * MG5_NEXTERNAL];
    for (size_t i = offset; i < offset + count; ++i) {
        int f = flavor ? flavor[i] : 0;
        if (f < 0 || f >= MG5_NFLAVORS) return UMAMI_ERROR_UNSUPPORTED_INPUT;
        /* UMAMI: component outermost, batch innermost; Fortran P(0:3, NEXTERNAL). */
        for (int n = 0; n < MG5_NEXTERNAL; ++n)
            for (int mu = 0; mu < 4; ++mu)
                p[4 * n + mu] = momenta[stride * (MG5_NEXTERNAL * mu + n) + i];
        double a_s = h->alpha_s;
        if (g_strong) a_s = g_strong[i] * g_strong[i] / (4.0 * mg5_pi);
        if (alpha_s) a_s = alpha_s[i];
        double ans = 0.0;
#ifdef MG5_VARIANT_PREFIX
        const int npdg = MG5_NEXTERNAL, nhel = -1;
        const double scale2 = 0.0;
        smatrixhel_(mg5_pdg_table[f], &mg5_procid_table[f], &npdg, p, &a_s, &scale2, &nhel, &ans);
#else
        mg5_set_g(2.0 * sqrt(mg5_pi * a_s));
        mg5_smatrix_table[f](p, &ans);
#endif
        if (me2) me2[i] = ans;
#ifdef MG5_VARIANT_MADEVENT
        if (amp2) {
            int nd = mg5_ndiag_table[f];
            double total = 0.0;
            for (int d = 0; d < nd; ++d) total += to_amps_[d];
            for (int d = 0; d < MG5_NDIAGRAMS; ++d)
                amp2[stride * d + i] = (d < nd && total > 0.0) ? to_amps_[d] / total : 0.0;
        }
#endif
    }
    return UMAMI_SUCCESS;
}

UmamiStatus umami_free(UmamiHandle handle) {
    Mg5Handle* h = handle;
    if (!h) return UMAMI_ERROR;
    if (mg5_active == h) mg5_active = NULL;
    free(h->param_card);
    free(h);
    return UMAMI_SUCCESS;
}
