/*
 * sm_parameters.h -- parameters of MadGraph's `sm` model (restrict_default).
 *
 * Inputs come from an SLHA param card (SMINPUTS aEWM1, Gf, aS; MASS; YUKAWA;
 * DECAY); the electroweak sector is derived at tree level exactly as the UFO
 * model does: MW from (aEWM1, Gf, MZ), sw2 = 1 - MW^2/MZ^2, ee = sqrt(4 pi aEW),
 * gw = ee/sw, g_s = sqrt(4 pi aS). Without a card, the values are those of
 * MadGraph's default param card (cards/param_card.dat).
 *
 * Example:
 *     SmParameters sm;
 *     sm_parameters_default(&sm);                  MW = 80.419002...
 *     int status = sm_parameters_read(&sm, "cards/param_card.dat");
 */
#ifndef MADNIS_SM_PARAMETERS_H
#define MADNIS_SM_PARAMETERS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* inputs */
    double aEWM1, Gf, aS;
    double MZ, MT, MB, MH, MTA;
    double ymb, ymt, ymtau;
    double WZ, WW, WT, WH, WTA;
    /* derived (tree level) */
    double aEW, MW, sw2, sw, cw, ee, gw, g1, gz, vev, gs;
} SmParameters;

/* Fills `sm` with MadGraph's default `sm` param-card values and derives the rest. */
void sm_parameters_default(SmParameters* sm);

/* Starts from the defaults and overrides every input the card at `path`
 * defines, then derives. Returns 0, or the slha.h error code (sm untouched
 * on error). A NULL path gives the defaults. */
int sm_parameters_read(SmParameters* sm, const char* path);

/* Recomputes the derived parameters from the inputs; call after changing one. */
void sm_parameters_derive(SmParameters* sm);

/* Pole mass and width of the particle |pdg| (0 for massless / stable ones). */
double sm_mass(const SmParameters* sm, int pdg);
double sm_width(const SmParameters* sm, int pdg);

/* Chiral couplings (gl, gr) of the fermion |pdg| to the photon, the Z and the
 * W, for the vertex i gamma^mu (gl P_L + gr P_R) of helas.h: photon -ee Q,
 * Z -gz (T3 - Q sw2) and gz Q sw2, W -gw/sqrt(2) (left only, CKM = 1). */
void sm_photon_coupling(const SmParameters* sm, int pdg, double* gl, double* gr);
void sm_z_coupling(const SmParameters* sm, int pdg, double* gl, double* gr);
void sm_w_coupling(const SmParameters* sm, double* gl, double* gr);

/* Pointer to the named parameter ("MZ", "aS", "MW", "sw2", ...), or NULL. */
double* sm_parameter_by_name(SmParameters* sm, const char* name);

/* 1 if `name` is an input that sm_parameters_derive depends on. */
int sm_parameter_is_input(const char* name);

#ifdef __cplusplus
}
#endif

#endif /* MADNIS_SM_PARAMETERS_H */
