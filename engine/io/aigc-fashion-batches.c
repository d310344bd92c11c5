/* SPDX-License-Identifier: MIT
 *
 * Fashion-MNIST training batches (see aigc-fashion-batches.h).
 */
#include "io/aigc-fashion-batches.h"

#include "io/aigc-idx.h"

enum { STREAM_ORDER = 1, STREAM_FLIP = 2 };

struct _AigcFashionBatches {
    AigcFashionMnist data;
    int n;              /* images in use */
    AigcRng rng;        /* forks only */
    int *order;         /* (n) the order of epoch `order_epoch` */
    gint64 order_epoch; /* −1: none yet */
};

AigcFashionBatches *aigc_fashion_batches_new(const char *data_dir, gint64 limit,
                                             const AigcRng *rng, GError **error)
{
    g_return_val_if_fail(rng != NULL, NULL);
    AigcFashionMnist data;
    if (!aigc_fashion_mnist_load(data_dir, TRUE, &data, error))
        return NULL;
    AigcFashionBatches *b = g_new0(AigcFashionBatches, 1);
    b->data = data;
    b->n = limit > 0 ? (int)MIN(limit, (gint64)data.n) : data.n;
    b->rng = *rng;
    b->order = g_new(int, b->n);
    b->order_epoch = -1;
    return b;
}

void aigc_fashion_batches_free(AigcFashionBatches *b)
{
    if (!b)
        return;
    aigc_fashion_mnist_clear(&b->data);
    g_free(b->order);
    g_free(b);
}

int aigc_fashion_batches_get_n(AigcFashionBatches *b)
{
    return b->n;
}

/* The image at position g of the run (epochs laid end to end). */
static int image_at(AigcFashionBatches *b, gint64 g)
{
    gint64 epoch = g / b->n;
    if (epoch != b->order_epoch) {
        AigcRng order_rng = aigc_rng_fork(&b->rng, STREAM_ORDER);
        AigcRng epoch_rng = aigc_rng_fork(&order_rng, (guint64)epoch);
        aigc_rng_permutation(&epoch_rng, b->order, b->n);
        b->order_epoch = epoch;
    }
    return b->order[g % b->n];
}

void aigc_fashion_batches_fill(AigcFashionBatches *b, gint64 step, int B, gboolean flip, float lo,
                               float hi, float *images, gint32 *labels)
{
    const int S = AIGC_FASHION_MNIST_SIDE;
    AigcRng flip_rng = aigc_rng_fork(&b->rng, STREAM_FLIP);
    for (int i = 0; i < B; i++) {
        const gint64 g = step * B + i;
        const int k = image_at(b, g);
        const float *src = b->data.images + (gint64)k * S * S;
        float *dst = images + (gint64)i * S * S;
        AigcRng one = aigc_rng_fork(&flip_rng, (guint64)g);
        gboolean mirror = flip && (aigc_rng_u64(&one) & 1);
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                dst[y * S + x] = lo + (hi - lo) * src[y * S + (mirror ? S - 1 - x : x)];
        labels[i] = b->data.labels[k];
    }
}
