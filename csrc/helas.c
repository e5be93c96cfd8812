/*
 * helas.c -- helicity-amplitude building blocks; conventions in helas.h.
 *
 * The external wavefunctions follow the HELAS spinor and polarisation-vector
 * formulas (Murayama, Watanabe, Hagiwara, KEK-91-11) in the chiral
 * representation; the vertices and propagators are written out component by
 * component from the Feynman rules stated in helas.h.
 */
#include "helas.h"

#include <math.h>

/* Complex products and quotients here never meet infinities or NaNs that
 * matter, so use the plain textbook formulas instead of C99 Annex G's
 * library calls (__muldc3), which cost a factor of several in speed. */
#if defined(__clang__)
#pragma STDC CX_LIMITED_RANGE ON
#elif defined(__GNUC__)
#pragma GCC optimize("cx-limited-range")
#endif

static void set_momentum(HelasWave* w, const double p[4], double sign)
{
    for (int mu = 0; mu < 4; ++mu) w->p[mu] = sign * p[mu];
}

void ixxxxx(const double p[4], double mass, int hel, int nsf, HelasWave* out)
{
    const int nh = hel * nsf;
    set_momentum(out, p, (double)nsf);
    if (mass != 0.0) {
        const double pp = fmin(p[0], sqrt(p[1] * p[1] + p[2] * p[2] + p[3] * p[3]));
        if (pp == 0.0) {
            const double sqm0 = sqrt(fabs(mass));
            const double sqm1 = copysign(sqm0, mass);
            const double ip = (1 + nh) / 2, im = (1 - nh) / 2;
            out->c[0] = ip * sqm0;
            out->c[1] = im * nsf * sqm0;
            out->c[2] = ip * nsf * sqm1;
            out->c[3] = im * sqm1;
        } else {
            const double sf[2] = {(1 + nsf + (1 - nsf) * nh) * 0.5, (1 + nsf - (1 - nsf) * nh) * 0.5};
            const double omega[2] = {sqrt(p[0] + pp), mass / sqrt(p[0] + pp)};
            const int ip = (1 + nh) / 2, im = (1 - nh) / 2; /* 0-based */
            const double sfomega0 = sf[0] * omega[ip];
            const double sfomega1 = sf[1] * omega[im];
            const double pp3 = fmax(pp + p[3], 0.0);
            double complex chi[2];
            chi[0] = sqrt(pp3 * 0.5 / pp);
            chi[1] = (pp3 == 0.0) ? (double complex)(-nh)
                                  : (nh * p[1] + I * p[2]) / sqrt(2.0 * pp * pp3);
            out->c[0] = sfomega0 * chi[im];
            out->c[1] = sfomega0 * chi[ip];
            out->c[2] = sfomega1 * chi[im];
            out->c[3] = sfomega1 * chi[ip];
        }
    } else {
        double sqp0p3;
        if (p[1] == 0.0 && p[2] == 0.0 && p[3] < 0.0)
            sqp0p3 = 0.0;
        else
            sqp0p3 = sqrt(fmax(p[0] + p[3], 0.0)) * nsf;
        const double complex chi0 = sqp0p3;
        const double complex chi1 = (sqp0p3 == 0.0) ? (double complex)(-hel * sqrt(2.0 * p[0]))
                                                    : (nh * p[1] + I * p[2]) / sqp0p3;
        if (nh == 1) {
            out->c[0] = 0.0;
            out->c[1] = 0.0;
            out->c[2] = chi0;
            out->c[3] = chi1;
        } else {
            out->c[0] = chi1;
            out->c[1] = chi0;
            out->c[2] = 0.0;
            out->c[3] = 0.0;
        }
    }
}

void oxxxxx(const double p[4], double mass, int hel, int nsf, HelasWave* out)
{
    const int nh = hel * nsf;
    set_momentum(out, p, (double)(-nsf));
    if (mass != 0.0) {
        const double pp = fmin(p[0], sqrt(p[1] * p[1] + p[2] * p[2] + p[3] * p[3]));
        if (pp == 0.0) {
            const double sqm0 = sqrt(fabs(mass));
            const double sqm1 = copysign(sqm0, mass);
            const double ip = -((1 - nh) / 2) * hel, im = (1 + nh) / 2 * hel;
            out->c[0] = im * sqm1;
            out->c[1] = ip * nsf * sqm1;
            out->c[2] = im * nsf * sqm0;
            out->c[3] = ip * sqm0;
        } else {
            const double sf[2] = {(1 + nsf + (1 - nsf) * nh) * 0.5, (1 + nsf - (1 - nsf) * nh) * 0.5};
            const double omega[2] = {sqrt(p[0] + pp), mass / sqrt(p[0] + pp)};
            const int ip = (1 + nh) / 2, im = (1 - nh) / 2;
            const double sfomega0 = sf[0] * omega[ip];
            const double sfomega1 = sf[1] * omega[im];
            const double pp3 = fmax(pp + p[3], 0.0);
            double complex chi[2];
            chi[0] = sqrt(pp3 * 0.5 / pp);
            chi[1] = (pp3 == 0.0) ? (double complex)(-nh)
                                  : (nh * p[1] - I * p[2]) / sqrt(2.0 * pp * pp3);
            out->c[0] = sfomega1 * chi[im];
            out->c[1] = sfomega1 * chi[ip];
            out->c[2] = sfomega0 * chi[im];
            out->c[3] = sfomega0 * chi[ip];
        }
    } else {
        double sqp0p3;
        if (p[1] == 0.0 && p[2] == 0.0 && p[3] < 0.0)
            sqp0p3 = 0.0;
        else
            sqp0p3 = sqrt(fmax(p[0] + p[3], 0.0)) * nsf;
        const double complex chi0 = sqp0p3;
        const double complex chi1 = (sqp0p3 == 0.0) ? (double complex)(-hel * sqrt(2.0 * p[0]))
                                                    : (nh * p[1] - I * p[2]) / sqp0p3;
        if (nh == 1) {
            out->c[0] = chi0;
            out->c[1] = chi1;
            out->c[2] = 0.0;
            out->c[3] = 0.0;
        } else {
            out->c[0] = 0.0;
            out->c[1] = 0.0;
            out->c[2] = chi1;
            out->c[3] = chi0;
        }
    }
}

void vxxxxx(const double p[4], double mass, int hel, int nsv, HelasWave* out)
{
    const double sqh = sqrt(0.5);
    const double hel_d = hel;
    const double nsvahl = nsv * fabs(hel_d);
    const double pt2 = p[1] * p[1] + p[2] * p[2];
    set_momentum(out, p, (double)(-nsv));
    if (mass != 0.0) {
        const double pp = fmin(p[0], sqrt(pt2 + p[3] * p[3]));
        const double pt = fmin(pp, sqrt(pt2));
        const double hel0 = 1.0 - fabs(hel_d);
        if (pp == 0.0) {
            out->c[0] = 0.0;
            out->c[1] = -hel_d * sqh;
            out->c[2] = I * nsvahl * sqh;
            out->c[3] = hel0;
        } else {
            const double emp = p[0] / (mass * pp);
            out->c[0] = hel0 * pp / mass;
            out->c[3] = hel0 * p[3] * emp + hel_d * pt / pp * sqh;
            if (pt != 0.0) {
                const double pzpt = p[3] / (pp * pt) * sqh * hel_d;
                out->c[1] = hel0 * p[1] * emp - p[1] * pzpt - I * nsvahl * p[2] / pt * sqh;
                out->c[2] = hel0 * p[2] * emp - p[2] * pzpt + I * nsvahl * p[1] / pt * sqh;
            } else {
                out->c[1] = -hel_d * sqh;
                out->c[2] = I * nsvahl * copysign(sqh, p[3]);
            }
        }
    } else {
        const double pp = p[0];
        const double pt = sqrt(pt2);
        out->c[0] = 0.0;
        out->c[3] = hel_d * pt / pp * sqh;
        if (pt != 0.0) {
            const double pzpt = p[3] / (pp * pt) * sqh * hel_d;
            out->c[1] = -p[1] * pzpt - I * nsv * p[2] / pt * sqh;
            out->c[2] = -p[2] * pzpt + I * nsv * p[1] / pt * sqh;
        } else {
            out->c[1] = -hel_d * sqh;
            out->c[2] = I * nsv * copysign(sqh, p[3]);
        }
    }
}

void helas_gauge_probe(HelasWave* v)
{
    for (int mu = 0; mu < 4; ++mu) v->c[mu] = v->p[mu];
}

/* Minkowski product of two complex four-vectors (upper indices), no conjugation. */
static double complex dot_cc(const double complex a[4], const double complex b[4])
{
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
}

static double complex dot_cr(const double complex a[4], const double b[4])
{
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
}

static double dot_rr(const double a[4], const double b[4])
{
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
}

/* sigma-bar . v = v^0 + sigma.v (2x2, row-major) and sigma . v = v^0 - sigma.v. */
static void sigma_bar_dot(const double complex v[4], double complex m[4])
{
    m[0] = v[0] + v[3];
    m[1] = v[1] - I * v[2];
    m[2] = v[1] + I * v[2];
    m[3] = v[0] - v[3];
}

static void sigma_dot(const double complex v[4], double complex m[4])
{
    m[0] = v[0] - v[3];
    m[1] = -(v[1] - I * v[2]);
    m[2] = -(v[1] + I * v[2]);
    m[3] = v[0] + v[3];
}

double complex ffv_amplitude(const HelasWave* fo, const HelasWave* fi, const HelasWave* v,
                             double complex gl, double complex gr)
{
    double complex sb[4], s[4];
    sigma_bar_dot(v->c, sb);
    sigma_dot(v->c, s);
    double complex left = 0.0, right = 0.0;
    if (gl != 0.0) {
        /* fo_R (sigma-bar.v) fi_L */
        left = fo->c[2] * (sb[0] * fi->c[0] + sb[1] * fi->c[1])
             + fo->c[3] * (sb[2] * fi->c[0] + sb[3] * fi->c[1]);
    }
    if (gr != 0.0) {
        /* fo_L (sigma.v) fi_R */
        right = fo->c[0] * (s[0] * fi->c[2] + s[1] * fi->c[3])
              + fo->c[1] * (s[2] * fi->c[2] + s[3] * fi->c[3]);
    }
    return I * (gl * left + gr * right);
}

static double complex propagator_denominator(const double q[4], double mass, double width)
{
    return dot_rr(q, q) - mass * mass + I * mass * width;
}

void ffv_in_current(const HelasWave* fi, const HelasWave* v, double complex gl, double complex gr,
                    double mass, double width, HelasWave* out)
{
    double q[4];
    for (int mu = 0; mu < 4; ++mu) q[mu] = fi->p[mu] + v->p[mu];
    double complex sb[4], s[4];
    sigma_bar_dot(v->c, sb);
    sigma_dot(v->c, s);
    /* chi = gamma^mu (gl P_L + gr P_R) fi v_mu: upper from the P_R part, lower from P_L. */
    const double complex chi_u0 = gr * (s[0] * fi->c[2] + s[1] * fi->c[3]);
    const double complex chi_u1 = gr * (s[2] * fi->c[2] + s[3] * fi->c[3]);
    const double complex chi_l0 = gl * (sb[0] * fi->c[0] + sb[1] * fi->c[1]);
    const double complex chi_l1 = gl * (sb[2] * fi->c[0] + sb[3] * fi->c[1]);
    /* (q-slash + m) chi; q-slash = [[0, sigma.q], [sigma-bar.q, 0]] */
    const double complex sq0 = q[0] - q[3], sq1 = -(q[1] - I * q[2]);
    const double complex sq2 = -(q[1] + I * q[2]), sq3 = q[0] + q[3];
    const double complex sbq0 = q[0] + q[3], sbq1 = q[1] - I * q[2];
    const double complex sbq2 = q[1] + I * q[2], sbq3 = q[0] - q[3];
    /* i (vertex) * i (propagator) = -1 */
    const double complex factor = -1.0 / propagator_denominator(q, mass, width);
    out->c[0] = factor * (sq0 * chi_l0 + sq1 * chi_l1 + mass * chi_u0);
    out->c[1] = factor * (sq2 * chi_l0 + sq3 * chi_l1 + mass * chi_u1);
    out->c[2] = factor * (sbq0 * chi_u0 + sbq1 * chi_u1 + mass * chi_l0);
    out->c[3] = factor * (sbq2 * chi_u0 + sbq3 * chi_u1 + mass * chi_l1);
    for (int mu = 0; mu < 4; ++mu) out->p[mu] = q[mu];
}

void ffv_out_current(const HelasWave* fo, const HelasWave* v, double complex gl, double complex gr,
                     double mass, double width, HelasWave* out)
{
    double q[4], k[4];
    for (int mu = 0; mu < 4; ++mu) {
        q[mu] = fo->p[mu] + v->p[mu];
        k[mu] = -q[mu]; /* momentum along the fermion arrow of a row-spinor line */
    }
    double complex sb[4], s[4];
    sigma_bar_dot(v->c, sb);
    sigma_dot(v->c, s);
    /* rho = fo gamma^mu (gl P_L + gr P_R) v_mu as a row: (gl fo_R sb, gr fo_L s) */
    const double complex rho_u0 = gl * (fo->c[2] * sb[0] + fo->c[3] * sb[2]);
    const double complex rho_u1 = gl * (fo->c[2] * sb[1] + fo->c[3] * sb[3]);
    const double complex rho_l0 = gr * (fo->c[0] * s[0] + fo->c[1] * s[2]);
    const double complex rho_l1 = gr * (fo->c[0] * s[1] + fo->c[1] * s[3]);
    /* rho (k-slash + m) = (rho_l sigma-bar.k + m rho_u, rho_u sigma.k + m rho_l) */
    const double complex sk0 = k[0] - k[3], sk1 = -(k[1] - I * k[2]);
    const double complex sk2 = -(k[1] + I * k[2]), sk3 = k[0] + k[3];
    const double complex sbk0 = k[0] + k[3], sbk1 = k[1] - I * k[2];
    const double complex sbk2 = k[1] + I * k[2], sbk3 = k[0] - k[3];
    const double complex factor = -1.0 / propagator_denominator(q, mass, width);
    out->c[0] = factor * (rho_l0 * sbk0 + rho_l1 * sbk2 + mass * rho_u0);
    out->c[1] = factor * (rho_l0 * sbk1 + rho_l1 * sbk3 + mass * rho_u1);
    out->c[2] = factor * (rho_u0 * sk0 + rho_u1 * sk2 + mass * rho_l0);
    out->c[3] = factor * (rho_u0 * sk1 + rho_u1 * sk3 + mass * rho_l1);
    for (int mu = 0; mu < 4; ++mu) out->p[mu] = q[mu];
}

/* Applies the vector propagator to a current J^mu that already carries the
 * vertex factor: out = -i (J - q (q.J)/M^2) / (q^2 - M^2 + i M w). */
static void vector_propagate(const double complex j[4], const double q[4], double mass,
                             double width, HelasWave* out)
{
    const double complex factor = -I / propagator_denominator(q, mass, width);
    if (mass != 0.0) {
        const double complex qj = dot_cr(j, q) / (mass * mass);
        for (int mu = 0; mu < 4; ++mu) out->c[mu] = factor * (j[mu] - q[mu] * qj);
    } else {
        for (int mu = 0; mu < 4; ++mu) out->c[mu] = factor * j[mu];
    }
    for (int mu = 0; mu < 4; ++mu) out->p[mu] = q[mu];
}

void ffv_vector_current(const HelasWave* fo, const HelasWave* fi, double complex gl,
                        double complex gr, double mass, double width, HelasWave* out)
{
    double q[4];
    for (int mu = 0; mu < 4; ++mu) q[mu] = fo->p[mu] + fi->p[mu];
    double complex j[4] = {0.0, 0.0, 0.0, 0.0};
    if (gl != 0.0) {
        /* fo_R sigma-bar^nu fi_L, sigma-bar^nu = (1, -sigma) */
        const double complex a0 = fo->c[2], a1 = fo->c[3], b0 = fi->c[0], b1 = fi->c[1];
        j[0] += gl * (a0 * b0 + a1 * b1);
        j[1] += gl * (-(a0 * b1 + a1 * b0));
        j[2] += gl * (I * (a0 * b1 - a1 * b0));
        j[3] += gl * (-(a0 * b0 - a1 * b1));
    }
    if (gr != 0.0) {
        /* fo_L sigma^nu fi_R, sigma^nu = (1, sigma) */
        const double complex c0 = fo->c[0], c1 = fo->c[1], d0 = fi->c[2], d1 = fi->c[3];
        j[0] += gr * (c0 * d0 + c1 * d1);
        j[1] += gr * (c0 * d1 + c1 * d0);
        j[2] += gr * (-I * (c0 * d1 - c1 * d0));
        j[3] += gr * (c0 * d0 - c1 * d1);
    }
    /* vertex factor i */
    for (int mu = 0; mu < 4; ++mu) j[mu] *= I;
    vector_propagate(j, q, mass, width, out);
}

double complex vvv_amplitude(const HelasWave* v1, const HelasWave* v2, const HelasWave* v3,
                             double complex g)
{
    double k12[4], k23[4], k31[4];
    for (int mu = 0; mu < 4; ++mu) {
        k12[mu] = v1->p[mu] - v2->p[mu];
        k23[mu] = v2->p[mu] - v3->p[mu];
        k31[mu] = v3->p[mu] - v1->p[mu];
    }
    return g * (dot_cc(v1->c, v2->c) * dot_cr(v3->c, k12) + dot_cc(v2->c, v3->c) * dot_cr(v1->c, k23)
                + dot_cc(v3->c, v1->c) * dot_cr(v2->c, k31));
}

void vvv_current(const HelasWave* v1, const HelasWave* v2, double complex g, double mass,
                 double width, HelasWave* out)
{
    double q[4], k3[4], k12[4], k23[4], k31[4];
    for (int mu = 0; mu < 4; ++mu) {
        q[mu] = v1->p[mu] + v2->p[mu];
        k3[mu] = -q[mu];
        k12[mu] = v1->p[mu] - v2->p[mu];
        k23[mu] = v2->p[mu] - k3[mu];
        k31[mu] = k3[mu] - v1->p[mu];
    }
    const double complex e12 = dot_cc(v1->c, v2->c);
    const double complex e1k23 = dot_cr(v1->c, k23);
    const double complex e2k31 = dot_cr(v2->c, k31);
    double complex j[4];
    for (int mu = 0; mu < 4; ++mu)
        j[mu] = g * (e12 * k12[mu] + v2->c[mu] * e1k23 + v1->c[mu] * e2k31);
    vector_propagate(j, q, mass, width, out);
}

double complex vvvv_amplitude(const HelasWave* va, const HelasWave* vb, const HelasWave* vc,
                              const HelasWave* vd, double complex g)
{
    return -I * g * g
         * (dot_cc(va->c, vc->c) * dot_cc(vb->c, vd->c) - dot_cc(va->c, vd->c) * dot_cc(vb->c, vc->c));
}

void vvvv_current(const HelasWave* va, const HelasWave* vb, const HelasWave* vc, double complex g,
                  double mass, double width, HelasWave* out)
{
    double q[4];
    for (int mu = 0; mu < 4; ++mu) q[mu] = va->p[mu] + vb->p[mu] + vc->p[mu];
    const double complex ac = dot_cc(va->c, vc->c);
    const double complex bc = dot_cc(vb->c, vc->c);
    double complex j[4];
    for (int mu = 0; mu < 4; ++mu) j[mu] = -I * g * g * (ac * vb->c[mu] - va->c[mu] * bc);
    vector_propagate(j, q, mass, width, out);
}
