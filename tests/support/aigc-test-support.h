/* SPDX-License-Identifier: MIT
 *
 * Test support: finite-difference gradient checks, golden-file comparisons and random leaves.
 *
 * aigc_gradcheck(f, inputs): builds out = f(inputs), takes L = Σ w·out for fixed random w,
 * backpropagates, and compares every input's analytic dL/dx with the central difference
 * (L(x+ε) − L(x−ε)) / 2ε, evaluated in no-grad mode. It also checks that no-grad mode records
 * no node. Inputs are leaves (aigc_tensor_new_leaf); those with requires_grad are checked.
 */
#pragma once

#include "aigc-engine.h"
#include "tensor/aigc-params.h"
#include "tensor/aigc-tensor.h"
#include "tensor/aigc-view.h"

G_BEGIN_DECLS

typedef AigcTensor *(*AigcGradcheckFunc)(AigcCtx *ctx, AigcTensor *const *inputs,
                                         gpointer user_data);

typedef struct {
    double eps;      /* finite-difference step (default 1e-3) */
    double atol;     /* |analytic − numeric| ≤ atol + rtol·|numeric| (defaults 2e-3, 2e-2) */
    double rtol;
    int max_checks;  /* elements checked per input, chosen at random (default 64; 0 = all) */
    guint64 seed;
    gboolean training; /* context mode (default TRUE) */
} AigcGradcheckParams;

AigcGradcheckParams aigc_gradcheck_default_params(void);

/* Returns TRUE when every checked element agrees; otherwise reports the worst ones through
 * g_test_message and returns FALSE. `params` may be NULL. */
gboolean aigc_gradcheck(AigcGradcheckFunc f, int n_inputs, AigcTensor *const *inputs,
                        gpointer user_data, const AigcGradcheckParams *params);

#define aigc_assert_gradcheck(f, n, inputs, user_data, params)                                 \
    g_assert_true(aigc_gradcheck((f), (n), (inputs), (user_data), (params)))

/* (transfer full) A leaf filled uniformly in [lo, hi). */
AigcTensor *aigc_test_leaf(AigcRng *rng, int n_dims, const gint64 *shape, float lo, float hi,
                           gboolean requires_grad);

/* Asserts |got − want| ≤ atol + rtol·|want| for every element; names `what` on failure. */
void aigc_test_assert_close(const float *got, const float *want, gint64 n, double rtol,
                            double atol, const char *what);

/* (transfer full) Opens tests/reference/goldens/NAME.safetensors (from G_TEST_SRCDIR). */
AigcSafetensors *aigc_test_open_golden(const char *name);
/* (transfer full) A leaf holding golden tensor `name` (F32), with the given requires_grad. */
AigcTensor *aigc_test_golden_leaf(AigcSafetensors *st, const char *name, gboolean requires_grad);
/* (transfer none) The F32 data of golden tensor `name` (asserts it exists and is F32). */
const float *aigc_test_golden_data(AigcSafetensors *st, const char *name, gint64 *n_elements);

G_END_DECLS
