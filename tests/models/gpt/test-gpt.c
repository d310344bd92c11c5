/* SPDX-License-Identifier: MIT
 *
 * GPT: the training forward agrees with token-by-token decoding, gradients are right (a finite
 * difference check on a tiny model), it overfits a short sequence, files round trip, and bad
 * configs and files are refused.
 */
#include "aigc-test-support.h"
#include "models/gpt/aigc-gpt.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static AigcGptConfig tiny_config(void)
{
    AigcGptConfig c = aigc_gpt_default_config();
    c.vocab_size = 11;
    c.dim = 16;
    c.n_layers = 2;
    c.n_heads = 2;
    c.hidden_dim = 24;
    c.max_seq_len = 12;
    return c;
}

static void test_decode_matches_forward(void)
{
    AigcGptConfig c = tiny_config();
    g_autoptr(AigcGpt) gpt = aigc_gpt_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_gpt_init_weights(gpt, &rng);
    /* Larger weights so the check is not trivially near zero. */
    AigcParams *p = aigc_gpt_get_params(gpt);
    aigc_rng_fill_normal(&rng, aigc_params_get_data(p), aigc_params_get_n_elements(p), 0, 0.3f);
    gint32 ids[9] = {1, 5, 2, 9, 9, 0, 3, 7, 10};
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    AigcTensor *logits = aigc_gpt_forward(ctx, gpt, ids, 1, 9);
    g_autoptr(AigcGptState) s = aigc_gpt_state_new(gpt);
    float out[11];
    for (int t = 0; t < 9; t++) {
        g_assert_true(aigc_gpt_decode(gpt, s, ids[t], out));
        aigc_test_assert_close(out, logits->data + t * 11, 11, 1e-4, 1e-5, "decode vs forward");
    }
    g_assert_cmpint(aigc_gpt_state_get_pos(s), ==, 9);
    for (int t = 9; t < 12; t++)
        g_assert_true(aigc_gpt_decode(gpt, s, 1, out));
    g_assert_false(aigc_gpt_decode(gpt, s, 1, out)); /* context full */
    aigc_gpt_state_reset(s);
    g_assert_true(aigc_gpt_decode(gpt, s, ids[0], out));
    aigc_test_assert_close(out, logits->data, 11, 1e-4, 1e-5, "after reset");
}

typedef struct {
    AigcGpt *gpt;
    gint32 ids[2 * 5], targets[2 * 5];
} LossCase;

static AigcTensor *loss_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    LossCase *lc = data;
    return aigc_gpt_loss(ctx, lc->gpt, lc->ids, lc->targets, 2, 5);
}

static void test_gradcheck(void)
{
    AigcGptConfig c = tiny_config();
    c.dim = 8;
    c.hidden_dim = 12;
    LossCase lc = {.gpt = aigc_gpt_new(&c)};
    AigcRng rng;
    aigc_rng_init(&rng, 2);
    AigcParams *p = aigc_gpt_get_params(lc.gpt);
    aigc_rng_fill_normal(&rng, aigc_params_get_data(p), aigc_params_get_n_elements(p), 0, 0.5f);
    for (int i = 0; i < 10; i++) {
        lc.ids[i] = (gint32)aigc_rng_below(&rng, 11);
        lc.targets[i] = i == 3 ? -1 : (gint32)aigc_rng_below(&rng, 11); /* one ignored */
    }
    guint n = aigc_params_get_n(p);
    AigcTensor **in = g_new(AigcTensor *, n);
    for (guint i = 0; i < n; i++)
        in[i] = aigc_params_get(p, i);
    AigcGradcheckParams gp = aigc_gradcheck_default_params();
    gp.max_checks = 12;
    aigc_assert_gradcheck(loss_fn, (int)n, in, &lc, &gp);
    g_free(in);
    aigc_gpt_free(lc.gpt);
}

static void test_overfit(void)
{
    AigcGptConfig c = tiny_config();
    c.dim = 32;
    c.n_heads = 4;
    c.hidden_dim = 64;
    g_autoptr(AigcGpt) gpt = aigc_gpt_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    aigc_gpt_init_weights(gpt, &rng);
    gint32 seq[12] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
    gint32 ids[11], targets[11];
    memcpy(ids, seq, sizeof ids);
    memcpy(targets, seq + 1, sizeof targets);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp,
                                                      aigc_gpt_get_params(gpt));
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float loss = 0;
    for (int step = 0; step < 300; step++) {
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(aigc_gpt_get_params(gpt));
        AigcTensor *l = aigc_gpt_loss(ctx, gpt, ids, targets, 1, 11);
        aigc_ctx_backward(ctx, l);
        aigc_optimizer_step(opt, 3e-3f);
        loss = l->data[0];
    }
    g_test_message("loss after 300 steps: %.5f", loss);
    g_assert_cmpfloat(loss, <, 0.05);
    /* Greedy decoding now reproduces the sequence. */
    g_autoptr(AigcGptState) s = aigc_gpt_state_new(gpt);
    float logits[11];
    for (int t = 0; t < 11; t++) {
        aigc_gpt_decode(gpt, s, seq[t], logits);
        int best = 0;
        for (int v = 1; v < 11; v++)
            if (logits[v] > logits[best])
                best = v;
        g_assert_cmpint(best, ==, seq[t + 1]);
    }
}

static void test_file_roundtrip(void)
{
    AigcGptConfig c = tiny_config();
    g_autoptr(AigcGpt) gpt = aigc_gpt_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 4);
    aigc_gpt_init_weights(gpt, &rng);
    g_autofree char *dir = g_dir_make_tmp("aigc-gpt-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "m.safetensors", NULL);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_assert_true(aigc_gpt_save(gpt, w, AIGC_DTYPE_F32, NULL));
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, NULL));
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    GError *error = NULL;
    g_autoptr(AigcGpt) back = aigc_gpt_load(st, &error);
    g_assert_no_error(error);
    const AigcGptConfig *bc = aigc_gpt_get_config(back);
    g_assert_cmpint(bc->dim, ==, 16);
    g_assert_cmpint(bc->hidden_dim, ==, 24);
    g_assert_cmpmem(aigc_params_get_data(aigc_gpt_get_params(back)),
                    aigc_params_get_n_elements(aigc_gpt_get_params(back)) * 4,
                    aigc_params_get_data(aigc_gpt_get_params(gpt)),
                    aigc_params_get_n_elements(aigc_gpt_get_params(gpt)) * 4);
    g_unlink(path);
    g_rmdir(dir);
}

/* Dropout acts while training only: generation and evaluation see the whole network. */
static void test_dropout(void)
{
    AigcGptConfig c = tiny_config();
    c.dropout = 0.3f;
    g_autoptr(AigcGpt) gpt = aigc_gpt_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    aigc_gpt_init_weights(gpt, &rng);
    gint32 ids[6] = {1, 2, 3, 4, 5, 6};
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_rng_init(aigc_ctx_get_rng(ctx), 1);
    AigcTensor *a = aigc_gpt_forward(ctx, gpt, ids, 1, 6);
    aigc_rng_init(aigc_ctx_get_rng(ctx), 2);
    AigcTensor *b = aigc_gpt_forward(ctx, gpt, ids, 1, 6);
    g_assert_true(memcmp(a->data, b->data, 66 * sizeof(float)) != 0);
    aigc_ctx_set_training(ctx, FALSE);
    AigcTensor *e = aigc_gpt_forward(ctx, gpt, ids, 1, 6);
    g_autoptr(AigcGptState) s = aigc_gpt_state_new(gpt);
    float out[11];
    for (int t = 0; t < 6; t++) {
        aigc_gpt_decode(gpt, s, ids[t], out);
        aigc_test_assert_close(out, e->data + t * 11, 11, 1e-4, 1e-5, "eval forward vs decode");
    }
    AigcGptConfig back;
    g_autofree char *json = aigc_gpt_config_to_json(&c);
    g_assert_true(aigc_gpt_config_from_json(&back, json, NULL));
    g_assert_cmpfloat(back.dropout, ==, 0.3f);
}

static void test_bad_configs(void)
{
    struct {
        const char *key, *value, *expect;
    } cases[] = {
        {"dim", "30", "n_heads must divide dim"},     /* 8 heads */
        {"n_layers", "0", "n_layers"},
        {"dim", "abc", "not a valid number"},
        {"depth", "3", "unknown GPT setting"},
        {"max_seq_len", "-4", "not a valid number"},
        {"n_heads", "5", "n_heads must divide dim"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        AigcGptConfig c = aigc_gpt_default_config();
        GError *error = NULL;
        gboolean ok = aigc_gpt_config_set(&c, cases[i].key, cases[i].value, &error) &&
                      aigc_gpt_config_validate(&c, &error);
        g_assert_false(ok);
        g_assert_nonnull(strstr(error->message, cases[i].expect));
        g_clear_error(&error);
    }
    AigcGptConfig c;
    GError *error = NULL;
    g_assert_false(aigc_gpt_config_from_json(&c, "{\"dim\": 16}", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    g_assert_false(aigc_gpt_config_from_json(&c, "not json", &error));
    g_clear_error(&error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/models/gpt/decode-matches-forward", test_decode_matches_forward);
    g_test_add_func("/models/gpt/gradcheck", test_gradcheck);
    g_test_add_func("/models/gpt/overfit", test_overfit);
    g_test_add_func("/models/gpt/file-roundtrip", test_file_roundtrip);
    g_test_add_func("/models/gpt/bad-configs", test_bad_configs);
    g_test_add_func("/models/gpt/dropout", test_dropout);
    return g_test_run();
}
