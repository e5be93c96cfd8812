/*
 * ee_mumu.c -- e+ e- -> mu+ mu- through photon and Z (MadGraph `sm` model),
 * exported through UMAMI 1.1 (see csrc/umami_process.h).
 *
 * Legs: 1 e+, 2 e-, 3 mu+, 4 mu-. Diagrams: 1 s-channel photon, 2 s-channel Z.
 * One colour flow (no coloured legs). Average 1/4 over the e+ e- helicities.
 */
#define PROCESS_N_EXTERNAL 4
#define PROCESS_N_INCOMING 2
#define PROCESS_N_FLAVORS 1
#define PROCESS_N_DIAGRAMS 2
#define PROCESS_MAX_COLORS 1
#define PROCESS_FINGERPRINT "madnis-plugin/ee_mumu/1.0"
#include "umami_process.h"

static void process_masses(const SmParameters* sm, double* masses)
{
    (void)sm;
    for (int i = 0; i < PROCESS_N_EXTERNAL; ++i) masses[i] = 0.0;
}

static const double color_matrix[1] = {1.0};
static const unsigned char diagram_has_channel[PROCESS_N_DIAGRAMS] = {1, 1};
static const ProcessFlavor flavors[PROCESS_N_FLAVORS] = {{1, color_matrix, 4.0, diagram_has_channel}};

static const ProcessFlavor* process_flavor(int flavor)
{
    return &flavors[flavor];
}

static void process_amplitudes(const ProcessContext* ctx, int flavor, const double (*p)[4],
                               const int* hel, double complex* jamp, double* amp2)
{
    (void)flavor;
    const SmParameters* sm = ctx->sm;
    HelasWave w[4], photon, z;
    oxxxxx(p[0], 0.0, hel[0], -1, &w[0]); /* e+ in: vbar */
    ixxxxx(p[1], 0.0, hel[1], +1, &w[1]); /* e- in: u */
    ixxxxx(p[2], 0.0, hel[2], -1, &w[2]); /* mu+ out: v */
    oxxxxx(p[3], 0.0, hel[3], +1, &w[3]); /* mu- out: ubar */
    double gal_e, gar_e, gzl_e, gzr_e, gal_m, gar_m, gzl_m, gzr_m;
    sm_photon_coupling(sm, 11, &gal_e, &gar_e);
    sm_z_coupling(sm, 11, &gzl_e, &gzr_e);
    sm_photon_coupling(sm, 13, &gal_m, &gar_m);
    sm_z_coupling(sm, 13, &gzl_m, &gzr_m);

    ffv_vector_current(&w[0], &w[1], gal_e, gar_e, 0.0, 0.0, &photon);
    const double complex amp1 = ffv_amplitude(&w[3], &w[2], &photon, gal_m, gar_m);
    ffv_vector_current(&w[0], &w[1], gzl_e, gzr_e, sm->MZ, sm->WZ, &z);
    const double complex amp2_z = ffv_amplitude(&w[3], &w[2], &z, gzl_m, gzr_m);

    jamp[0] = amp1 + amp2_z;
    amp2[0] += creal(amp1 * conj(amp1));
    amp2[1] += creal(amp2_z * conj(amp2_z));
}
