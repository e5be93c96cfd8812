/* sm_parameters.c -- MadGraph `sm` model parameters; see sm_parameters.h. */
#include "sm_parameters.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "slha.h"

void sm_parameters_derive(SmParameters* sm)
{
    const double pi = 3.14159265358979323846;
    sm->aEW = 1.0 / sm->aEWM1;
    const double mz2 = sm->MZ * sm->MZ;
    sm->MW = sqrt(mz2 / 2.0 + sqrt(mz2 * mz2 / 4.0 - (sm->aEW * pi * mz2) / (sm->Gf * sqrt(2.0))));
    sm->ee = 2.0 * sqrt(sm->aEW) * sqrt(pi);
    sm->sw2 = 1.0 - (sm->MW * sm->MW) / mz2;
    sm->cw = sm->MW / sm->MZ;
    sm->sw = sqrt(sm->sw2);
    sm->gw = sm->ee / sm->sw;
    sm->g1 = sm->ee / sm->cw;
    sm->gz = sm->ee / (sm->sw * sm->cw);
    sm->vev = 2.0 * sm->MW * sm->sw / sm->ee;
    sm->gs = 2.0 * sqrt(sm->aS) * sqrt(pi);
}

void sm_parameters_default(SmParameters* sm)
{
    memset(sm, 0, sizeof *sm);
    sm->aEWM1 = 132.507;
    sm->Gf = 1.16639e-05;
    sm->aS = 0.118;
    sm->MZ = 91.188;
    sm->MT = 173.0;
    sm->MB = 4.7;
    sm->MH = 125.0;
    sm->MTA = 1.777;
    sm->ymb = 4.7;
    sm->ymt = 173.0;
    sm->ymtau = 1.777;
    sm->WZ = 2.441404;
    sm->WW = 2.0476;
    sm->WT = 1.4915;
    sm->WH = 0.006382339;
    sm->WTA = 0.0;
    sm_parameters_derive(sm);
}

int sm_parameters_read(SmParameters* sm, const char* path)
{
    SmParameters out;
    sm_parameters_default(&out);
    if (path != NULL) {
        SlhaCard card;
        int status = slha_read(path, &card);
        if (status != SLHA_OK) return status;
        slha_get(&card, "sminputs", 1, &out.aEWM1);
        slha_get(&card, "sminputs", 2, &out.Gf);
        slha_get(&card, "sminputs", 3, &out.aS);
        slha_get(&card, "mass", 23, &out.MZ);
        slha_get(&card, "mass", 6, &out.MT);
        slha_get(&card, "mass", 5, &out.MB);
        slha_get(&card, "mass", 25, &out.MH);
        slha_get(&card, "mass", 15, &out.MTA);
        slha_get(&card, "yukawa", 5, &out.ymb);
        slha_get(&card, "yukawa", 6, &out.ymt);
        slha_get(&card, "yukawa", 15, &out.ymtau);
        slha_get_decay(&card, 23, &out.WZ);
        slha_get_decay(&card, 24, &out.WW);
        slha_get_decay(&card, 6, &out.WT);
        slha_get_decay(&card, 25, &out.WH);
        slha_get_decay(&card, 15, &out.WTA);
        slha_free(&card);
    }
    sm_parameters_derive(&out);
    *sm = out;
    return 0;
}

double sm_mass(const SmParameters* sm, int pdg)
{
    switch (pdg < 0 ? -pdg : pdg) {
    case 5: return sm->MB;
    case 6: return sm->MT;
    case 15: return sm->MTA;
    case 23: return sm->MZ;
    case 24: return sm->MW;
    case 25: return sm->MH;
    default: return 0.0;
    }
}

double sm_width(const SmParameters* sm, int pdg)
{
    switch (pdg < 0 ? -pdg : pdg) {
    case 6: return sm->WT;
    case 15: return sm->WTA;
    case 23: return sm->WZ;
    case 24: return sm->WW;
    case 25: return sm->WH;
    default: return 0.0;
    }
}

typedef struct {
    const char* name;
    size_t offset;
    int is_input;
} NamedParameter;

#define SM_FIELD(f, input) {#f, offsetof(SmParameters, f), input}
static const NamedParameter named_parameters[] = {
    SM_FIELD(aEWM1, 1), SM_FIELD(Gf, 1), SM_FIELD(aS, 1), SM_FIELD(MZ, 1), SM_FIELD(MT, 1),
    SM_FIELD(MB, 1), SM_FIELD(MH, 1), SM_FIELD(MTA, 1), SM_FIELD(ymb, 1), SM_FIELD(ymt, 1),
    SM_FIELD(ymtau, 1), SM_FIELD(WZ, 1), SM_FIELD(WW, 1), SM_FIELD(WT, 1), SM_FIELD(WH, 1),
    SM_FIELD(WTA, 1), SM_FIELD(aEW, 0), SM_FIELD(MW, 0), SM_FIELD(sw2, 0), SM_FIELD(sw, 0),
    SM_FIELD(cw, 0), SM_FIELD(ee, 0), SM_FIELD(gw, 0), SM_FIELD(g1, 0), SM_FIELD(gz, 0),
    SM_FIELD(vev, 0), SM_FIELD(gs, 0),
};
#undef SM_FIELD

double* sm_parameter_by_name(SmParameters* sm, const char* name)
{
    if (name == NULL) return NULL;
    for (size_t i = 0; i < sizeof named_parameters / sizeof named_parameters[0]; ++i)
        if (strcmp(named_parameters[i].name, name) == 0)
            return (double*)((char*)sm + named_parameters[i].offset);
    return NULL;
}

int sm_parameter_is_input(const char* name)
{
    if (name == NULL) return 0;
    for (size_t i = 0; i < sizeof named_parameters / sizeof named_parameters[0]; ++i)
        if (strcmp(named_parameters[i].name, name) == 0) return named_parameters[i].is_input;
    return 0;
}

/* Electric charge and weak isospin of the left-handed fermion |pdg|. */
static void fermion_quantum_numbers(int pdg, double* charge, double* t3)
{
    switch (pdg < 0 ? -pdg : pdg) {
    case 1: case 3: case 5: *charge = -1.0 / 3.0; *t3 = -0.5; return;
    case 2: case 4: case 6: *charge = 2.0 / 3.0; *t3 = 0.5; return;
    case 11: case 13: case 15: *charge = -1.0; *t3 = -0.5; return;
    case 12: case 14: case 16: *charge = 0.0; *t3 = 0.5; return;
    default: *charge = 0.0; *t3 = 0.0; return;
    }
}

void sm_photon_coupling(const SmParameters* sm, int pdg, double* gl, double* gr)
{
    double q, t3;
    fermion_quantum_numbers(pdg, &q, &t3);
    *gl = -sm->ee * q;
    *gr = -sm->ee * q;
}

void sm_z_coupling(const SmParameters* sm, int pdg, double* gl, double* gr)
{
    double q, t3;
    fermion_quantum_numbers(pdg, &q, &t3);
    *gl = -sm->gz * (t3 - q * sm->sw2);
    *gr = sm->gz * q * sm->sw2;
}

void sm_w_coupling(const SmParameters* sm, double* gl, double* gr)
{
    *gl = -sm->gw / sqrt(2.0);
    *gr = 0.0;
}
