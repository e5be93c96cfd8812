/*
 * helas.h -- helicity-amplitude building blocks for the built-in processes.
 *
 * A small HELAS-style library: external spinors and polarisation vectors,
 * fermion-fermion-vector (FFV) vertices with general chiral couplings, the
 * three- and four-gluon vertices, and off-shell currents that include their
 * propagator (with a fixed width).
 *
 * Conventions
 *   - Metric (+,-,-,-); momenta (E, px, py, pz); chiral (Weyl) representation
 *     of the Dirac matrices, gamma5 = diag(-1,-1,1,1), psi = (psi_L, psi_R).
 *   - Every wavefunction carries the momentum flowing INTO the vertex that
 *     consumes it: +p for an incoming particle, -p for an outgoing one, and
 *     the sum of the inputs for an off-shell current.
 *   - Feynman rules (all factors of i included, so that diagrams with
 *     different numbers of vertices interfere correctly):
 *       FFV vertex        i gamma^mu (gl P_L + gr P_R)
 *       VVV vertex        g [g^{mn}(k1-k2)^r + g^{nr}(k2-k3)^m + g^{rm}(k3-k1)^n]
 *                         (colour f^{abc} stripped, all momenta incoming)
 *       VVVV vertex       -i g^2 [(e_a.e_c)(e_b.e_d) - (e_a.e_d)(e_b.e_c)]
 *                         for the colour structure f^{abe} f^{cde}
 *       fermion propagator i (q-slash + m) / (q^2 - m^2 + i m w)
 *       vector propagator  -i (g^{mn} - q^m q^n / M^2) / (q^2 - M^2 + i M w)
 *                          (massless: -i g^{mn} / q^2)
 *   - Fermion wavefunctions are either column spinors ("in" type: u, v, and
 *     currents built from them) or row spinors ("out" type: ubar, vbar, ...).
 *
 * Example (e+ e- -> mu+ mu- through a photon, one helicity):
 *     HelasWave eb, em, mp, mm, a;
 *     oxxxxx(p1, 0.0, -1, -1, &eb);   incoming e+  (vbar)
 *     ixxxxx(p2, 0.0, +1, +1, &em);   incoming e-  (u)
 *     ixxxxx(p3, 0.0, +1, -1, &mp);   outgoing mu+ (v)
 *     oxxxxx(p4, 0.0, -1, +1, &mm);   outgoing mu- (ubar)
 *     ffv_vector_current(&eb, &em, ee, ee, 0.0, 0.0, &a);    photon: gl = gr = -ee Q
 *     double complex amp = ffv_amplitude(&mm, &mp, &a, ee, ee);
 */
#ifndef MADNIS_HELAS_H
#define MADNIS_HELAS_H

#include <complex.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A spinor or polarisation vector with the momentum it carries into its vertex. */
typedef struct {
    double complex c[4]; /* spinor components (L0, L1, R0, R1) or vector components (upper index) */
    double p[4];         /* momentum flowing into the consuming vertex */
} HelasWave;

/* Column spinor: u(p, hel) for nsf = +1 (incoming fermion), v(p, hel) for
 * nsf = -1 (outgoing antifermion). hel = +1 or -1 (physical helicity). */
void ixxxxx(const double p[4], double mass, int hel, int nsf, HelasWave* out);

/* Row spinor: ubar(p, hel) for nsf = +1 (outgoing fermion), vbar(p, hel) for
 * nsf = -1 (incoming antifermion). */
void oxxxxx(const double p[4], double mass, int hel, int nsf, HelasWave* out);

/* Polarisation vector: epsilon(p, hel) for nsv = -1 (incoming), epsilon*(p, hel)
 * for nsv = +1 (outgoing). hel in {-1, 0, +1} (0 only for massive vectors). */
void vxxxxx(const double p[4], double mass, int hel, int nsv, HelasWave* out);

/* Replaces the polarisation vector of `v` by the momentum it carries (+k for an
 * incoming, -k for an outgoing vector): the gauge-invariance probe, after
 * which a gauge-invariant amplitude vanishes. */
void helas_gauge_probe(HelasWave* v);

/* Amplitude of a closed FFV vertex: i * fo gamma^mu (gl P_L + gr P_R) fi v_mu. */
double complex ffv_amplitude(const HelasWave* fo, const HelasWave* fi, const HelasWave* v,
                             double complex gl, double complex gr);

/* Off-shell column spinor (propagator included) from an in-type fermion and a vector. */
void ffv_in_current(const HelasWave* fi, const HelasWave* v, double complex gl, double complex gr,
                    double mass, double width, HelasWave* out);

/* Off-shell row spinor (propagator included) from an out-type fermion and a vector. */
void ffv_out_current(const HelasWave* fo, const HelasWave* v, double complex gl, double complex gr,
                     double mass, double width, HelasWave* out);

/* Off-shell vector (propagator included; unitary gauge if mass > 0). */
void ffv_vector_current(const HelasWave* fo, const HelasWave* fi, double complex gl,
                        double complex gr, double mass, double width, HelasWave* out);

/* Three-gluon vertex amplitude for legs in the order of f^{abc}. */
double complex vvv_amplitude(const HelasWave* v1, const HelasWave* v2, const HelasWave* v3,
                             double complex g);

/* Off-shell third leg of the three-vector vertex (colour f^{a b c}, c off-shell),
 * massless propagator included. */
void vvv_current(const HelasWave* v1, const HelasWave* v2, double complex g, double mass,
                 double width, HelasWave* out);

/* Four-gluon vertex amplitude, colour structure f^{a b e} f^{c d e}. */
double complex vvvv_amplitude(const HelasWave* va, const HelasWave* vb, const HelasWave* vc,
                              const HelasWave* vd, double complex g);

/* Off-shell leg d of the four-gluon vertex term f^{a b e} f^{c d e}. */
void vvvv_current(const HelasWave* va, const HelasWave* vb, const HelasWave* vc, double complex g,
                  double mass, double width, HelasWave* out);

#ifdef __cplusplus
}
#endif

#endif /* MADNIS_HELAS_H */
