/* SPDX-License-Identifier: MIT
 *
 * llama2.c interoperability: a GPT with a character or a byte-pair vocabulary is exported to
 * model.bin + tokenizer.bin and imported back with the same weights, the same tokenizer (the
 * byte-pair merge table rebuilt from the pieces encodes a real text identically) and the same
 * greedy continuation; the tokenizer.bin scores order merges as ours; bad files are refused with
 * a message naming the file.
 */
#include "aigc-test-support.h"
#include "models/gpt/aigc-gpt.h"
#include "models/gpt/aigc-llama2c.h"
#include "tensor/aigc-params.h"

#include <glib/gstdio.h>
#include <string.h>

static const char text[] =
    "A fool and his money are soon parted. The early bird catches the worm, but the second "
    "mouse gets the cheese. In the beginning God created the heaven and the earth. And the "
    "earth was without form, and void; and darkness was upon the face of the deep. Money is "
    "the root of all evil, and a fool and his folly are never parted. Birds of a feather flock "
    "together; the worm that turns is the early worm.\n";

static AigcGpt *random_gpt(int vocab)
{
    AigcGptConfig c = aigc_gpt_default_config();
    c.vocab_size = vocab;
    c.dim = 32;
    c.n_layers = 2;
    c.n_heads = 4;
    c.hidden_dim = 48;
    c.max_seq_len = 64;
    AigcGpt *gpt = aigc_gpt_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 7);
    aigc_gpt_init_weights(gpt, &rng);
    AigcParams *p = aigc_gpt_get_params(gpt);
    aigc_rng_fill_normal(&rng, aigc_params_get_data(p), aigc_params_get_n_elements(p), 0, 0.2f);
    return gpt;
}

/* Greedy continuation of `ids` for n tokens. */
static void greedy(AigcGpt *gpt, const gint32 *ids, int n_ids, gint32 *out, int n)
{
    int V = aigc_gpt_get_config(gpt)->vocab_size;
    g_autoptr(AigcGptState) s = aigc_gpt_state_new(gpt);
    g_autofree float *logits = g_new(float, V);
    for (int i = 0; i < n_ids; i++)
        g_assert_true(aigc_gpt_decode(gpt, s, ids[i], logits));
    for (int k = 0; k < n; k++) {
        int best = 0;
        for (int v = 1; v < V; v++)
            if (logits[v] > logits[best])
                best = v;
        out[k] = best;
        g_assert_true(aigc_gpt_decode(gpt, s, best, logits));
    }
}

static void roundtrip(AigcTokenizer *tok)
{
    int V = aigc_tokenizer_get_vocab_size(tok);
    g_autoptr(AigcGpt) gpt = random_gpt(V);
    g_autofree char *dir = g_dir_make_tmp("aigc-llama2c-XXXXXX", NULL);
    g_autofree char *model = g_build_filename(dir, "model.bin", NULL);
    g_autofree char *tokenizer = g_build_filename(dir, "tokenizer.bin", NULL);
    GError *error = NULL;
    g_assert_true(aigc_llama2c_export(gpt, tok, model, tokenizer, &error));
    g_assert_no_error(error);

    AigcTokenizer *tok2 = NULL;
    g_autoptr(AigcGpt) back = aigc_llama2c_import(model, tokenizer, &tok2, &error);
    g_assert_no_error(error);
    g_assert_nonnull(back);
    g_autoptr(AigcTokenizer) tok2_owned = tok2;
    AigcParams *a = aigc_gpt_get_params(gpt), *b = aigc_gpt_get_params(back);
    g_assert_cmpint(aigc_params_get_n_elements(a), ==, aigc_params_get_n_elements(b));
    g_assert_cmpmem(aigc_params_get_data(a), aigc_params_get_n_elements(a) * sizeof(float),
                    aigc_params_get_data(b), aigc_params_get_n_elements(b) * sizeof(float));

    /* The same tokenizer: same kind, same size, the same ids for a real text. */
    g_assert_cmpint(aigc_tokenizer_get_kind(tok2), ==, aigc_tokenizer_get_kind(tok));
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(tok2), ==, V);
    int n = aigc_tokenizer_encode(tok, text, -1, NULL, 0);
    g_autofree gint32 *ids = g_new(gint32, n), *ids2 = g_new(gint32, n);
    g_assert_cmpint(aigc_tokenizer_encode(tok, text, -1, ids, n), ==, n);
    g_assert_cmpint(aigc_tokenizer_encode(tok2, text, -1, ids2, n), ==, n);
    g_assert_cmpmem(ids, n * sizeof(gint32), ids2, n * sizeof(gint32));

    /* The same greedy continuation from both. */
    gint32 out[24], out2[24];
    greedy(gpt, ids, 16, out, 24);
    greedy(back, ids2, 16, out2, 24);
    g_assert_cmpmem(out, sizeof out, out2, sizeof out2);
    g_remove(model);
    g_remove(tokenizer);
    g_rmdir(dir);
}

static void test_char(void)
{
    GError *error = NULL;
    g_autoptr(AigcTokenizer) tok = aigc_tokenizer_train_char(text, strlen(text), 1, &error);
    g_assert_no_error(error);
    roundtrip(tok);
}

static void test_bpe(void)
{
    GError *error = NULL;
    g_autoptr(AigcTokenizer) tok =
        aigc_tokenizer_train_bpe(text, strlen(text), 320, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(tok), >, 300); /* the text runs out of pairs */
    roundtrip(tok);
}

/* tokenizer.bin: a piece per id with its score — merges in our order, the separator never. */
static void test_bpe_scores(void)
{
    g_autoptr(AigcTokenizer) tok =
        aigc_tokenizer_train_bpe(text, strlen(text), 300, NULL, NULL, NULL);
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(tok), ==, 300);
    g_autoptr(AigcGpt) gpt = random_gpt(300);
    g_autofree char *dir = g_dir_make_tmp("aigc-llama2c-XXXXXX", NULL);
    g_autofree char *model = g_build_filename(dir, "model.bin", NULL);
    g_autofree char *tokenizer = g_build_filename(dir, "tokenizer.bin", NULL);
    g_assert_true(aigc_llama2c_export(gpt, tok, model, tokenizer, NULL));
    g_autofree char *tb = NULL;
    gsize tl;
    g_assert_true(g_file_get_contents(tokenizer, &tb, &tl, NULL));
    gsize off = 4;
    for (gint32 id = 0; id < 300; id++) {
        float score;
        gint32 n;
        memcpy(&score, tb + off, 4);
        memcpy(&n, tb + off + 4, 4);
        gsize len;
        const char *piece = aigc_tokenizer_token_text(tok, id, &len);
        g_assert_cmpint(n, ==, (gint32)len);
        g_assert_cmpmem(tb + off + 8, n, piece, len);
        if (id >= 256 && id < 299)
            g_assert_cmpfloat(score, ==, -(float)(id - 256));
        else if (id == 299)
            g_assert_cmpfloat(score, <, -1e6f);
        off += 8 + (gsize)n;
    }
    g_assert_cmpuint(off, ==, tl);
    g_remove(model);
    g_remove(tokenizer);
    g_rmdir(dir);
}

static void expect_refused(const char *model, const char *tokenizer, const char *what)
{
    GError *error = NULL;
    AigcTokenizer *tok = NULL;
    AigcGpt *gpt = aigc_llama2c_import(model, tokenizer, &tok, &error);
    g_assert_null(gpt);
    g_assert_null(tok);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, what));
    g_error_free(error);
}

static void test_bad_files(void)
{
    g_autoptr(AigcTokenizer) tok = aigc_tokenizer_train_char(text, strlen(text), 1, NULL);
    int V = aigc_tokenizer_get_vocab_size(tok);
    g_autoptr(AigcGpt) gpt = random_gpt(V);
    g_autofree char *dir = g_dir_make_tmp("aigc-llama2c-XXXXXX", NULL);
    g_autofree char *model = g_build_filename(dir, "model.bin", NULL);
    g_autofree char *tokenizer = g_build_filename(dir, "tokenizer.bin", NULL);
    g_autofree char *bad = g_build_filename(dir, "bad.bin", NULL);
    g_assert_true(aigc_llama2c_export(gpt, tok, model, tokenizer, NULL));
    g_autofree char *m = NULL, *t = NULL;
    gsize ml, tl;
    g_assert_true(g_file_get_contents(model, &m, &ml, NULL));
    g_assert_true(g_file_get_contents(tokenizer, &t, &tl, NULL));

    g_assert_true(g_file_set_contents(bad, m, 20, NULL));
    expect_refused(bad, NULL, "too short");
    g_assert_true(g_file_set_contents(bad, m, (gssize)ml - 4, NULL));
    expect_refused(bad, NULL, "bad.bin");
    gint32 h[7];
    memcpy(h, m, sizeof h);
    h[4] = 1; /* grouped-query attention */
    g_autofree char *m2 = g_memdup2(m, ml);
    memcpy(m2, h, sizeof h);
    g_assert_true(g_file_set_contents(bad, m2, (gssize)ml, NULL));
    expect_refused(bad, NULL, "grouped-query");
    h[4] = h[3];
    h[3] = 5; /* 32 is not a multiple of 5 heads */
    memcpy(m2, h, sizeof h);
    g_assert_true(g_file_set_contents(bad, m2, (gssize)ml, NULL));
    expect_refused(bad, NULL, "bad.bin");
    /* tokenizer: truncated, or a piece that is not a character of this kind */
    g_assert_true(g_file_set_contents(bad, t, (gssize)tl / 2, NULL));
    expect_refused(model, bad, "truncated");
    g_autofree char *t2 = g_memdup2(t, tl);
    /* the third piece (id 2, one byte) becomes an invalid UTF-8 byte */
    gsize off = 4;
    for (int id = 0; id < 2; id++) {
        gint32 n;
        memcpy(&n, t2 + off + 4, 4);
        off += 8 + (gsize)n;
    }
    t2[off + 8] = (char)0xff;
    g_assert_true(g_file_set_contents(bad, t2, (gssize)tl, NULL));
    expect_refused(model, bad, "not one character");
    g_assert_cmpint(g_unlink(bad), ==, 0);
    expect_refused(bad, NULL, "bad.bin");
    g_remove(model);
    g_remove(tokenizer);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/models/gpt/llama2c/char", test_char);
    g_test_add_func("/models/gpt/llama2c/bpe", test_bpe);
    g_test_add_func("/models/gpt/llama2c/bpe-scores", test_bpe_scores);
    g_test_add_func("/models/gpt/llama2c/bad-files", test_bad_files);
    return g_test_run();
}
