/* slha.c -- SLHA param-card reader; see slha.h. */
#include "slha.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lower_copy(char* dst, size_t size, const char* src)
{
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < size; ++i) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static int push_entry(SlhaCard* card, const char* block, int n_index, const int* index, double value)
{
    if (card->count == card->capacity) {
        size_t capacity = card->capacity ? 2 * card->capacity : 64;
        SlhaEntry* grown = realloc(card->entries, capacity * sizeof(SlhaEntry));
        if (grown == NULL) return SLHA_ERROR_MEMORY;
        card->entries = grown;
        card->capacity = capacity;
    }
    SlhaEntry* e = &card->entries[card->count++];
    lower_copy(e->block, sizeof(e->block), block);
    e->n_index = n_index;
    e->index[0] = n_index > 0 ? index[0] : 0;
    e->index[1] = n_index > 1 ? index[1] : 0;
    e->value = value;
    return SLHA_OK;
}

/* Parses a whitespace-separated token as a number; 1 on success. */
static int parse_double(const char* token, double* out)
{
    char* end = NULL;
    errno = 0;
    double v = strtod(token, &end);
    if (end == token || *end != '\0' || errno == ERANGE) return 0;
    *out = v;
    return 1;
}

static int parse_int(const char* token, int* out)
{
    char* end = NULL;
    errno = 0;
    long v = strtol(token, &end, 10);
    if (end == token || *end != '\0' || errno == ERANGE) return 0;
    *out = (int)v;
    return 1;
}

int slha_read(const char* path, SlhaCard* card)
{
    card->entries = NULL;
    card->count = 0;
    card->capacity = 0;
    if (path == NULL) return SLHA_ERROR_OPEN;
    FILE* f = fopen(path, "r");
    if (f == NULL) return SLHA_ERROR_OPEN;
    char line[1024];
    char block[32] = "";
    int status = SLHA_OK;
    int in_numeric_block = 0;
    while (status == SLHA_OK && fgets(line, sizeof line, f) != NULL) {
        char* hash = strchr(line, '#');
        if (hash != NULL) *hash = '\0';
        char* tokens[8];
        int n = 0;
        for (char* t = strtok(line, " \t\r\n"); t != NULL && n < 8; t = strtok(NULL, " \t\r\n")) tokens[n++] = t;
        if (n == 0) continue;
        char head[32];
        lower_copy(head, sizeof head, tokens[0]);
        if (strcmp(head, "block") == 0) {
            if (n < 2) { status = SLHA_ERROR_SYNTAX; break; }
            lower_copy(block, sizeof block, tokens[1]);
            in_numeric_block = strcmp(block, "qnumbers") != 0;
            continue;
        }
        if (strcmp(head, "decay") == 0) {
            int pdg;
            double width;
            if (n < 3 || !parse_int(tokens[1], &pdg) || !parse_double(tokens[2], &width)) {
                status = SLHA_ERROR_SYNTAX;
                break;
            }
            if (pdg < 0) pdg = -pdg;
            status = push_entry(card, "decay", 1, &pdg, width);
            block[0] = '\0';
            in_numeric_block = 0; /* branching-ratio lines follow: skipped */
            continue;
        }
        if (!in_numeric_block || block[0] == '\0') continue;
        /* entry: index [index] value */
        int index[2];
        double value;
        if (n >= 3 && parse_int(tokens[0], &index[0]) && parse_int(tokens[1], &index[1])
            && parse_double(tokens[2], &value)) {
            status = push_entry(card, block, 2, index, value);
        } else if (n >= 2 && parse_int(tokens[0], &index[0]) && parse_double(tokens[1], &value)) {
            status = push_entry(card, block, 1, index, value);
        } else {
            status = SLHA_ERROR_SYNTAX;
        }
    }
    fclose(f);
    if (status != SLHA_OK) slha_free(card);
    return status;
}

int slha_get(const SlhaCard* card, const char* block, int index, double* value)
{
    char name[32];
    lower_copy(name, sizeof name, block);
    /* the last occurrence wins, as in MadGraph's reader */
    for (size_t i = card->count; i-- > 0;) {
        const SlhaEntry* e = &card->entries[i];
        if (e->n_index == 1 && e->index[0] == index && strcmp(e->block, name) == 0) {
            *value = e->value;
            return 1;
        }
    }
    return 0;
}

int slha_get_decay(const SlhaCard* card, int pdg, double* width)
{
    return slha_get(card, "decay", pdg < 0 ? -pdg : pdg, width);
}

void slha_free(SlhaCard* card)
{
    free(card->entries);
    card->entries = NULL;
    card->count = 0;
    card->capacity = 0;
}
