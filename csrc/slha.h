/*
 * slha.h -- a small reader for SLHA param cards (MadGraph's param_card.dat).
 *
 * Reads every numeric entry of every BLOCK (one or two integer indices and a
 * value) and the DECAY lines (pdg, width). Block names are case-insensitive;
 * QNUMBERS blocks and anything after '#' are ignored.
 *
 * Example:
 *     SlhaCard card;
 *     if (slha_read("cards/param_card.dat", &card) == SLHA_OK) {
 *         double mz, wz;
 *         slha_get(&card, "MASS", 23, &mz);
 *         slha_get_decay(&card, 23, &wz);
 *         slha_free(&card);
 *     }
 */
#ifndef MADNIS_SLHA_H
#define MADNIS_SLHA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { SLHA_OK = 0, SLHA_ERROR_OPEN = 1, SLHA_ERROR_SYNTAX = 2, SLHA_ERROR_MEMORY = 3 };

/* One value: block name (lower case; "decay" for DECAY lines), indices, value. */
typedef struct {
    char block[32];
    int n_index;
    int index[2];
    double value;
} SlhaEntry;

typedef struct {
    SlhaEntry* entries;
    size_t count;
    size_t capacity;
} SlhaCard;

/* Reads the card at `path` into `card` (which must be freed with slha_free on
 * SLHA_OK). Returns an SLHA_* code; on error `card` holds nothing. */
int slha_read(const char* path, SlhaCard* card);

/* 1 and *value set if BLOCK `block` has an entry with the single index `index`, else 0. */
int slha_get(const SlhaCard* card, const char* block, int index, double* value);

/* 1 and *width set if the card has a DECAY line for |pdg|, else 0. */
int slha_get_decay(const SlhaCard* card, int pdg, double* width);

void slha_free(SlhaCard* card);

#ifdef __cplusplus
}
#endif

#endif /* MADNIS_SLHA_H */
