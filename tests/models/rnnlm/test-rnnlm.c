/* SPDX-License-Identifier: MIT
 *
 * RNN language models (LSTM, GRU, RNN): token-by-token decoding agrees with the training forward
 * and carries on past the training window, the total NLL equals the decoded one, gradients are
 * right (a finite difference check on a tiny model of each cell), each overfits a short
 * sequence, files round trip with their family, and bad configs and files are refused.
 */
#include "aigc-test-support.h"
#include "models/rnnlm/aigc-rnnlm.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static const AigcRnnlmCell cells[] = {AIGC_RNNLM_CELL_LSTM, AIGC_RNNLM_CELL_GRU,
                                      AIGC_RNNLM_CELL_RNN};

static AigcRnnlmConfig tiny_config(AigcRnnlmCell cell)
{
    AigcRnnlmConfig c = aigc_rnnlm_default_config();
    c.cell = cell;
    c.vocab_size = 11;
    c.embed_dim = 7;
    c.hidden_dim = 13;
    c.n_layers = 2;
    c.max_seq_len = 9;
    return c;
}

static AigcRnnlm *random_model(const AigcRnnlmConfig *c, guint64 seed, float std)
{
    AigcRnnlm *m = aigc_rnnlm_new(c);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcParams *p = aigc_rnnlm_get_params(m);
    aigc_rng_fill_normal(&rng, aigc_params_get_data(p), aigc_params_get_n_elements(p), 0, std);
    return m;
}

static void test_decode_matches_forward(void)
{
    for (guint k = 0; k < G_N_ELEMENTS(cells); k++) {
        AigcRnnlmConfig c = tiny_config(cells[k]);
        /* Larger weights than the init so the check is not trivially near zero. */
        g_autoptr(AigcRnnlm) m = random_model(&c, 1 + k, 0.4f);
        gint32 ids[2 * 9] = {1, 5, 2, 9, 9, 0, 3, 7, 10, 4, 4, 8, 1, 6, 2, 0, 10, 3};
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        aigc_ctx_set_grad_enabled(ctx, FALSE);
        AigcTensor *logits = aigc_rnnlm_forward(ctx, m, ids, 2, 9); /* (18, 11) */
        g_autoptr(AigcRnnlmState) s = aigc_rnnlm_state_new(m);
        float out[11];
        for (int b = 0; b < 2; b++) {
            aigc_rnnlm_state_reset(s);
            for (int t = 0; t < 9; t++) {
                g_assert_true(aigc_rnnlm_decode(m, s, ids[b * 9 + t], out));
                aigc_test_assert_close(out, logits->data + (b * 9 + t) * 11, 11, 1e-4, 1e-5,
                                       aigc_rnnlm_cell_name(cells[k]));
            }
        }
        g_assert_cmpint(aigc_rnnlm_state_get_pos(s), ==, 9);
        /* No context limit: the state carries on past max_seq_len. */
        for (int t = 0; t < 20; t++)
            g_assert_true(aigc_rnnlm_decode(m, s, t % 11, out));
        for (int v = 0; v < 11; v++)
            g_assert_true(isfinite(out[v]));
        g_assert_cmpint(aigc_rnnlm_state_get_pos(s), ==, 29);
        aigc_rnnlm_state_reset(s);
        g_assert_true(aigc_rnnlm_decode(m, s, ids[0], out));
        aigc_test_assert_close(out, logits->data, 11, 1e-4, 1e-5, "after reset");
    }
}

/* −log p of each token after the first, decoded from a zero state and summed. */
static double decoded_nll(AigcRnnlm *m, const gint32 *ids, int n)
{
    g_autoptr(AigcRnnlmState) s = aigc_rnnlm_state_new(m);
    float out[11];
    double total = 0;
    for (int t = 0; t + 1 < n; t++) {
        aigc_rnnlm_decode(m, s, ids[t], out);
        double sum = 0;
        for (int v = 0; v < 11; v++)
            sum += exp(out[v]);
        total += log(sum) - out[ids[t + 1]];
    }
    return total;
}

static void test_total_nll(void)
{
    AigcRnnlmConfig c = tiny_config(AIGC_RNNLM_CELL_LSTM);
    g_autoptr(AigcRnnlm) m = random_model(&c, 5, 0.3f);
    /* 9 + 9 + 5 tokens: windows of max_seq_len = 9, each from a zero state; the last is short. */
    gint32 ids[23];
    for (int i = 0; i < 23; i++)
        ids[i] = (i * 7 + 3) % 11;
    double nats = 0;
    g_assert_true(aigc_rnnlm_total_nll(m, ids, 23, NULL, &nats, NULL));
    /* Window w predicts ids[9w+1 … 9w+9] from ids[9w …]: decode each window's tokens plus the
     * one after it. */
    double want =
        decoded_nll(m, ids, 10) + decoded_nll(m, ids + 9, 10) + decoded_nll(m, ids + 18, 5);
    g_assert_cmpfloat(fabs(nats - want), <, 1e-4 * fabs(want));
    g_assert_true(aigc_rnnlm_total_nll(m, ids, 1, NULL, &nats, NULL));
    g_assert_cmpfloat(nats, ==, 0);
}

typedef struct {
    AigcRnnlm *m;
    gint32 ids[2 * 5], targets[2 * 5];
} LossCase;

static AigcTensor *loss_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    LossCase *lc = data;
    return aigc_rnnlm_loss(ctx, lc->m, lc->ids, lc->targets, 2, 5);
}

static void test_gradcheck(void)
{
    for (guint k = 0; k < G_N_ELEMENTS(cells); k++) {
        AigcRnnlmConfig c = tiny_config(cells[k]);
        c.vocab_size = 7;
        c.embed_dim = 5;
        c.hidden_dim = 3;
        LossCase lc = {.m = random_model(&c, 10 + k, 0.5f)};
        AigcRng rng;
        aigc_rng_init(&rng, 20 + k);
        for (int i = 0; i < 10; i++) {
            lc.ids[i] = (gint32)aigc_rng_below(&rng, 7);
            lc.targets[i] = i == 3 ? -1 : (gint32)aigc_rng_below(&rng, 7); /* one ignored */
        }
        AigcParams *p = aigc_rnnlm_get_params(lc.m);
        guint n = aigc_params_get_n(p);
        AigcTensor **in = g_new(AigcTensor *, n);
        for (guint i = 0; i < n; i++)
            in[i] = aigc_params_get(p, i);
        AigcGradcheckParams gp = aigc_gradcheck_default_params();
        gp.max_checks = 16;
        aigc_assert_gradcheck(loss_fn, (int)n, in, &lc, &gp);
        g_free(in);
        aigc_rnnlm_free(lc.m);
    }
}

static void test_overfit(void)
{
    gint32 seq[12] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
    gint32 ids[11], targets[11];
    memcpy(ids, seq, sizeof ids);
    memcpy(targets, seq + 1, sizeof targets);
    for (guint k = 0; k < G_N_ELEMENTS(cells); k++) {
        AigcRnnlmConfig c = tiny_config(cells[k]);
        c.embed_dim = 16;
        c.hidden_dim = 32;
        c.max_seq_len = 11;
        g_autoptr(AigcRnnlm) m = aigc_rnnlm_new(&c);
        AigcRng rng;
        aigc_rng_init(&rng, 3);
        aigc_rnnlm_init_weights(m, &rng);
        AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
        g_autoptr(AigcOptimizer) opt =
            aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, aigc_rnnlm_get_params(m));
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        float loss = 0;
        for (int step = 0; step < 300; step++) {
            aigc_ctx_reset(ctx);
            aigc_params_zero_grad(aigc_rnnlm_get_params(m));
            AigcTensor *l = aigc_rnnlm_loss(ctx, m, ids, targets, 1, 11);
            aigc_ctx_backward(ctx, l);
            aigc_optimizer_step(opt, 1e-2f);
            loss = l->data[0];
        }
        g_test_message("%s loss after 300 steps: %.5f", aigc_rnnlm_cell_name(cells[k]), loss);
        g_assert_cmpfloat(loss, <, 0.05);
        /* Greedy decoding now reproduces the sequence. */
        g_autoptr(AigcRnnlmState) s = aigc_rnnlm_state_new(m);
        float logits[11];
        for (int t = 0; t < 11; t++) {
            aigc_rnnlm_decode(m, s, seq[t], logits);
            int best = 0;
            for (int v = 1; v < 11; v++)
                if (logits[v] > logits[best])
                    best = v;
            g_assert_cmpint(best, ==, seq[t + 1]);
        }
    }
}

static void test_file_roundtrip(void)
{
    AigcRnnlmConfig c = tiny_config(AIGC_RNNLM_CELL_GRU);
    g_autoptr(AigcRnnlm) m = aigc_rnnlm_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 4);
    aigc_rnnlm_init_weights(m, &rng);
    g_autofree char *dir = g_dir_make_tmp("aigc-rnnlm-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "m.safetensors", NULL);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_assert_true(aigc_rnnlm_save(m, w, AIGC_DTYPE_F32, NULL));
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, NULL));
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "gru");
    /* PyTorch's names and shapes. */
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, "rnn.weight_ih_l1");
    g_assert_nonnull(t);
    g_assert_cmpint(t->shape[0], ==, 3 * 13);
    g_assert_cmpint(t->shape[1], ==, 13);
    g_assert_nonnull(aigc_safetensors_find(st, "rnn.bias_hh_l0"));
    g_assert_nonnull(aigc_safetensors_find(st, "head.bias"));
    GError *error = NULL;
    g_autoptr(AigcRnnlm) back = aigc_rnnlm_load(st, &error);
    g_assert_no_error(error);
    const AigcRnnlmConfig *bc = aigc_rnnlm_get_config(back);
    g_assert_cmpint(bc->cell, ==, AIGC_RNNLM_CELL_GRU);
    g_assert_cmpint(bc->embed_dim, ==, 7);
    g_assert_cmpint(bc->hidden_dim, ==, 13);
    g_assert_cmpint(bc->n_layers, ==, 2);
    g_assert_cmpmem(aigc_params_get_data(aigc_rnnlm_get_params(back)),
                    aigc_params_get_n_elements(aigc_rnnlm_get_params(back)) * 4,
                    aigc_params_get_data(aigc_rnnlm_get_params(m)),
                    aigc_params_get_n_elements(aigc_rnnlm_get_params(m)) * 4);

    /* A file whose family names another cell than its config is refused. */
    g_autofree char *bad = g_build_filename(dir, "bad.safetensors", NULL);
    {
        g_autoptr(AigcSafetensorsWriter) bw = aigc_safetensors_writer_new();
        g_assert_true(aigc_rnnlm_save(m, bw, AIGC_DTYPE_F32, NULL));
        aigc_safetensors_writer_set_metadata(bw, "family", "lstm");
        g_assert_true(aigc_safetensors_writer_write(bw, bad, NULL, NULL, NULL));
    }
    g_autoptr(AigcSafetensors) bst = aigc_safetensors_open(bad, NULL);
    g_assert_null(aigc_rnnlm_load(bst, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "disagree"));
    g_clear_error(&error);
    g_unlink(bad);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_bad_configs(void)
{
    struct {
        const char *key, *value, *expect;
    } cases[] = {
        {"n_layers", "0", "n_layers"},
        {"hidden_dim", "abc", "not a valid number"},
        {"embed_dim", "0", "embed_dim"},
        {"cell", "transformer", "not lstm, gru or rnn"},
        {"n_heads", "3", "unknown RNN LM setting"},
        {"max_seq_len", "-4", "not a valid number"},
        {"vocab_size", "1", "vocab_size"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        AigcRnnlmConfig c = aigc_rnnlm_default_config();
        GError *error = NULL;
        gboolean ok = aigc_rnnlm_config_set(&c, cases[i].key, cases[i].value, &error) &&
                      aigc_rnnlm_config_validate(&c, &error);
        g_assert_false(ok);
        g_assert_nonnull(strstr(error->message, cases[i].expect));
        g_clear_error(&error);
    }
    AigcRnnlmConfig c = aigc_rnnlm_default_config();
    g_assert_true(aigc_rnnlm_config_set(&c, "cell", "rnn", NULL));
    g_assert_cmpint(c.cell, ==, AIGC_RNNLM_CELL_RNN);
    /* JSON round trip, and incomplete or malformed JSON refused. */
    c.hidden_dim = 17;
    g_autofree char *json = aigc_rnnlm_config_to_json(&c);
    AigcRnnlmConfig back;
    g_assert_true(aigc_rnnlm_config_from_json(&back, json, NULL));
    g_assert_cmpmem(&back, sizeof back, &c, sizeof c);
    GError *error = NULL;
    g_assert_false(aigc_rnnlm_config_from_json(&back, "{\"cell\": \"lstm\"}", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    g_assert_false(aigc_rnnlm_config_from_json(
        &back,
        "{\"cell\": \"cnn\", \"vocab_size\": 5, \"embed_dim\": 4, \"hidden_dim\": 4, "
        "\"n_layers\": 1, \"max_seq_len\": 8}",
        &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    g_assert_false(aigc_rnnlm_config_from_json(&back, "not json", &error));
    g_clear_error(&error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/models/rnnlm/decode-matches-forward", test_decode_matches_forward);
    g_test_add_func("/models/rnnlm/total-nll", test_total_nll);
    g_test_add_func("/models/rnnlm/gradcheck", test_gradcheck);
    g_test_add_func("/models/rnnlm/overfit", test_overfit);
    g_test_add_func("/models/rnnlm/file-roundtrip", test_file_roundtrip);
    g_test_add_func("/models/rnnlm/bad-configs", test_bad_configs);
    return g_test_run();
}
