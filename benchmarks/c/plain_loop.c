/* The reference for the bridge-overhead benchmark: call a UMAMI library's
 * umami_matrix_element directly on arrays already in UMAMI's layout, in the
 * same chunks the bridge uses, and time it.
 * Usage: plain_loop LIBRARY PARAM_CARD MOMENTA.bin N_EVENTS N_PARTICLES FLAVOR REPEATS
 * MOMENTA.bin holds N_EVENTS*N_PARTICLES*4 doubles in [event][particle][mu] order.
 * Prints the best events-per-second over REPEATS passes. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "umami.h"

typedef UmamiStatus (*init_fn)(UmamiHandle*, char const*);
typedef UmamiStatus (*me_fn)(UmamiHandle, size_t, size_t, size_t, size_t, UmamiInputKey const*,
                             void const* const*, size_t, UmamiOutputKey const*, void* const*);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char** argv) {
    if (argc != 8) return 2;
    size_t n = strtoul(argv[4], NULL, 10), np = strtoul(argv[5], NULL, 10);
    int flavor = atoi(argv[6]), repeats = atoi(argv[7]);
    void* dl = dlopen(argv[1], RTLD_NOW);
    if (!dl) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    init_fn init = (init_fn)dlsym(dl, "umami_initialize");
    me_fn me = (me_fn)dlsym(dl, "umami_matrix_element");
    UmamiHandle h;
    if (init(&h, argv[2]) != UMAMI_SUCCESS) return 1;
    double* p = malloc(sizeof(double) * n * np * 4);
    FILE* f = fopen(argv[3], "rb");
    if (!f || fread(p, sizeof(double), n * np * 4, f) != n * np * 4) return 1;
    fclose(f);
    enum { CHUNK = 512 };
    /* Pre-transpose every chunk into UMAMI's layout: the loop below times only the library. */
    double* t = malloc(sizeof(double) * n * np * 4);
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t m = n - start < CHUNK ? n - start : CHUNK;
        for (size_t i = 0; i < m; ++i)
            for (size_t k = 0; k < np; ++k)
                for (size_t mu = 0; mu < 4; ++mu)
                    t[start * np * 4 + m * (np * mu + k) + i] = p[((start + i) * np + k) * 4 + mu];
    }
    double* out = malloc(sizeof(double) * n);
    int* flavors = malloc(sizeof(int) * n);
    for (size_t i = 0; i < n; ++i) flavors[i] = flavor;
    double best = 0;
    for (int r = 0; r < repeats; ++r) {
        double t0 = now();
        for (size_t start = 0; start < n; start += CHUNK) {
            size_t m = n - start < CHUNK ? n - start : CHUNK;
            UmamiInputKey keys[2] = {UMAMI_IN_MOMENTA, UMAMI_IN_FLAVOR_INDEX};
            void const* inputs[2] = {t + start * np * 4, flavors + start};
            UmamiOutputKey okeys[1] = {UMAMI_OUT_MATRIX_ELEMENT};
            void* outputs[1] = {out + start};
            if (me(h, m, m, 0, 2, keys, inputs, 1, okeys, outputs) != UMAMI_SUCCESS) return 1;
        }
        double rate = n / (now() - t0);
        if (rate > best) best = rate;
    }
    printf("%.6e\n", best);
    return 0;
}
