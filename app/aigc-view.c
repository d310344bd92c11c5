/* SPDX-License-Identifier: MIT
 *
 * `aigc-view`: a real-time window on a trained NeRF scene (SDL2).
 *
 * Drag with the left mouse button to orbit, with the right or middle one to pan; the wheel
 * zooms; W/S fly forward and back, A/D sideways, Q/E down and up (Shift: four times faster);
 * R returns to the first view; F12 saves a PNG screenshot; Esc or closing the window quits.
 * With --frames N it renders N frames, turning a little each time, prints the frame rate and
 * exits — which, with SDL_VIDEODRIVER=dummy, runs without a display.
 *
 * DESIGN: one thread drives SDL and renders; the renderer's own work is split over the
 * engine's compute pool (aigc_parallel_for), so the frame gets every core. Refinement is
 * progressive: while the camera moves every frame is rendered at ¼ of the resolution (⅛, 1/16 …
 * when the scene is too slow for a ¼ frame within MOVE_SECONDS) and shown with nearest-neighbour
 * upscaling; once it has stood still for SETTLE_MS the view is refined, halving the divisor each
 * time (¼ → ½ → full), in strips of rows sized to take about STRIP_SECONDS each, with the events
 * read between strips — so a move abandons the refinement at once and the window never stalls
 * for a whole frame. When the full view is on screen nothing more is rendered and the loop sleeps
 * in SDL_WaitEventTimeout until the next event.
 */
#include "aigc-engine.h"
#include "aigc-config.h"
#include "aigc-view-camera.h"
#include "models/nerf/aigc-nerf.h"
#include "tensor/aigc-threads.h"

#include <SDL.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { VIEW_EXIT_OK = 0, VIEW_EXIT_FAILURE = 1, VIEW_EXIT_USAGE = 2 };

#define SETTLE_MS       120  /* still this long before refining */
#define MOVE_SECONDS    0.06 /* longest wanted time of a frame while moving */
#define MAX_LEVEL       64   /* coarsest resolution divisor */
#define STRIP_SECONDS   0.03 /* target time of one refinement strip */
#define FRAMES_TURN_DEG 2.0  /* --frames: azimuth step per frame */
#define ORBIT_PER_PIXEL 0.01 /* radians of orbit per pixel dragged */
#define ZOOM_PER_NOTCH  0.9
#define FLY_PER_SECOND  0.5 /* fraction of the starting distance flown per second */
#define MAX_SIDE        4096

typedef struct {
    /* options */
    const char *scene_path;
    int width, height;
    double fov; /* horizontal, radians */
    const char *screenshot_path;
    int n_frames;

    AigcNerf *nerf;
    float background[3];
    AigcViewCamera camera, home;
    double fly_speed; /* world units per second */

    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;
    AigcImage *frame; /* (height, width, 3): what the window shows */
    float *rgb;       /* (height, width, 3): one level's render */

    gboolean coarse_due;    /* the camera moved: render a coarse frame now */
    int next_level;         /* resolution divisor to refine to next (… 2, 1), 0 when done */
    int shown_level;        /* the divisor of the current camera's view on screen (0: none) */
    gint64 changed_us;      /* when the camera last moved */
    gint64 last_tick_us;    /* the previous loop iteration (for flying with held keys) */
    double rays_per_second; /* measured; sizes the strips and the coarse level */
    double coarse_fps;      /* smoothed frame rate while moving */
    gboolean flying;        /* a fly key was held at the previous iteration */
    gboolean quit, want_screenshot, camera_changed;
} View;

/* (transfer full) */
static char *level_name(int level)
{
    return level == 1   ? g_strdup("full")
           : level == 2 ? g_strdup("½")
           : level == 4 ? g_strdup("¼")
           : level == 8 ? g_strdup("⅛")
                        : g_strdup_printf("1/%d", level);
}

/* ---- rendering ---- */

static void level_size(const View *v, int level, int *lw, int *lh)
{
    *lw = MAX(1, v->width / level);
    *lh = MAX(1, v->height / level);
}

/* The pinhole of a level, cut to rows [y0, y1): the rays through its pixels are those of the
 * whole level image. */
static AigcPinhole level_camera(const View *v, int level, int y0, int y1)
{
    int lw, lh;
    level_size(v, level, &lw, &lh);
    double fl = 0.5 * v->width / tan(0.5 * v->fov); /* of the full view; square pixels */
    return (AigcPinhole){.width = lw,
                         .height = y1 - y0,
                         .fl_x = fl * lw / v->width,
                         .fl_y = fl * lh / v->height,
                         .cx = 0.5 * lw,
                         .cy = 0.5 * lh - y0};
}

static guint8 to_byte(float x)
{
    if (!(x > 0))
        return 0;
    return x >= 1 ? 255 : (guint8)lrintf(x * 255);
}

/* Copies level rows [y0, y1) into the shown frame, nearest-neighbour upscaled. */
static void blit_rows(View *v, int level, int y0, int y1)
{
    int lw, lh;
    level_size(v, level, &lw, &lh);
    for (int y = 0; y < v->height; y++) {
        int sy = (int)((gint64)y * lh / v->height);
        if (sy < y0 || sy >= y1)
            continue;
        guint8 *dst = v->frame->data + (gsize)y * v->width * 3;
        const float *src = v->rgb + (gsize)sy * lw * 3;
        for (int x = 0; x < v->width; x++) {
            const float *p = src + (gsize)((gint64)x * lw / v->width) * 3;
            for (int c = 0; c < 3; c++)
                dst[x * 3 + c] = to_byte(p[c]);
        }
    }
}

static void present(View *v)
{
    SDL_UpdateTexture(v->texture, NULL, v->frame->data, v->width * 3);
    SDL_RenderClear(v->renderer);
    SDL_RenderCopy(v->renderer, v->texture, NULL, NULL);
    SDL_RenderPresent(v->renderer);
}

static void set_title(View *v, const char *status)
{
    g_autofree char *name = g_path_get_basename(v->scene_path);
    g_autofree char *title =
        g_strdup_printf("%s — %d×%d — %s — aigc-view", name, v->width, v->height, status);
    SDL_SetWindowTitle(v->window, title);
}

static void handle_event(View *v, const SDL_Event *ev);

/* Reads every pending event; TRUE if the refinement in progress must stop. */
static gboolean poll_events(View *v)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev))
        handle_event(v, &ev);
    return v->quit || v->camera_changed;
}

/* Renders the view at resolution divisor `level` and shows it. With `abortable`, the events are
 * read between strips and a move or quit stops the render (returns FALSE; what was done stays
 * on screen). */
static gboolean render_level(View *v, int level, gboolean abortable)
{
    int lw, lh;
    level_size(v, level, &lw, &lh);
    double c2w[16];
    aigc_view_camera_get_c2w(&v->camera, c2w);
    gint64 start = g_get_monotonic_time();
    int rows = lh;
    if (abortable)
        rows = CLAMP((int)(v->rays_per_second * STRIP_SECONDS / lw), 1, lh);
    for (int y0 = 0; y0 < lh; y0 += rows) {
        int y1 = MIN(lh, y0 + rows);
        AigcPinhole cam = level_camera(v, level, y0, y1);
        gint64 t0 = g_get_monotonic_time();
        aigc_nerf_render(v->nerf, &cam, c2w, v->background, v->rgb + (gsize)y0 * lw * 3, NULL,
                         NULL);
        double seconds = MAX(1e-6, (g_get_monotonic_time() - t0) / 1e6);
        v->rays_per_second = (double)lw * (y1 - y0) / seconds;
        blit_rows(v, level, y0, y1);
        if (abortable) {
            present(v);
            if (poll_events(v))
                return FALSE;
        }
    }
    if (!abortable)
        present(v);
    v->shown_level = level;
    double seconds = MAX(1e-6, (g_get_monotonic_time() - start) / 1e6);
    g_autofree char *name = level_name(level);
    g_autofree char *status = NULL;
    if (!abortable && level > 1) { /* a frame while moving */
        double fps = 1.0 / seconds;
        v->coarse_fps = v->coarse_fps > 0 ? 0.8 * v->coarse_fps + 0.2 * fps : fps;
        status = g_strdup_printf("%s: %.1f frames/s", name, v->coarse_fps);
    } else {
        status = g_strdup_printf("%s in %.2f s", name, seconds);
    }
    set_title(v, status);
    return TRUE;
}

/* ---- screenshots ---- */

/* (transfer full) aigc-view-YYYYmmdd-HHMMSS.png in the current folder, numbered if taken. */
static char *screenshot_name(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    char *name = g_strdup_printf("aigc-view-%s.png", stamp);
    for (int i = 2; g_file_test(name, G_FILE_TEST_EXISTS) && i < 1000; i++) {
        g_free(name);
        name = g_strdup_printf("aigc-view-%s-%d.png", stamp, i);
    }
    return name;
}

/* Saves the full-resolution view (rendering it first if the screen shows less). */
static gboolean save_screenshot(View *v, const char *path, GError **error)
{
    if (v->shown_level != 1)
        render_level(v, 1, FALSE);
    g_autofree char *name = g_path_get_basename(v->scene_path);
    g_autofree char *size = g_strdup_printf("%dx%d", v->width, v->height);
    g_autofree char *az = g_strdup_printf("%.2f", v->camera.azimuth * 180 / G_PI);
    g_autofree char *el = g_strdup_printf("%.2f", v->camera.elevation * 180 / G_PI);
    g_autofree char *dist = g_strdup_printf("%.4g", v->camera.distance);
    g_autofree char *target = g_strdup_printf("%.4g %.4g %.4g", v->camera.target[0],
                                              v->camera.target[1], v->camera.target[2]);
    g_autofree char *fov = g_strdup_printf("%.2f", v->fov * 180 / G_PI);
    const char *keys[] = {"Model",    "Size",   "Azimuth", "Elevation",
                          "Distance", "Target", "FOV",     NULL};
    const char *values[] = {"NeRF", size, az, el, dist, target, fov, NULL};
    g_autofree char *params = aigc_png_format_parameters(name, keys, values);
    const char *text_keys[] = {"parameters", "Software", NULL};
    const char *text_values[] = {params, "aigc-view " AIGC_VERSION, NULL};
    return aigc_png_write(path, v->frame, text_keys, text_values, error);
}

static void take_screenshot(View *v)
{
    g_autofree char *path = v->screenshot_path ? g_strdup(v->screenshot_path) : screenshot_name();
    g_autoptr(GError) error = NULL;
    if (save_screenshot(v, path, &error))
        printf("aigc-view: saved %s\n", path);
    else
        fprintf(stderr, "aigc-view: the screenshot was not saved: %s\n", error->message);
    fflush(stdout);
}

/* ---- input ---- */

static void camera_moved(View *v)
{
    v->camera_changed = TRUE;
    v->shown_level = 0;
    v->changed_us = g_get_monotonic_time();
}

static gboolean is_fly_key(SDL_Keycode key)
{
    return key == SDLK_w || key == SDLK_a || key == SDLK_s || key == SDLK_d || key == SDLK_q ||
           key == SDLK_e;
}

static void handle_event(View *v, const SDL_Event *ev)
{
    switch (ev->type) {
    case SDL_QUIT:
        v->quit = TRUE;
        break;
    case SDL_KEYDOWN:
        if (ev->key.keysym.sym == SDLK_ESCAPE) {
            v->quit = TRUE;
        } else if (ev->key.keysym.sym == SDLK_F12 && !ev->key.repeat) {
            v->want_screenshot = TRUE;
        } else if (ev->key.keysym.sym == SDLK_r) {
            v->camera = v->home;
            camera_moved(v);
        } else if (is_fly_key(ev->key.keysym.sym)) {
            camera_moved(v); /* the flying itself happens per frame, see fly() */
        }
        break;
    case SDL_MOUSEMOTION:
        if (ev->motion.state & SDL_BUTTON_LMASK) {
            aigc_view_camera_orbit(&v->camera, -ev->motion.xrel * ORBIT_PER_PIXEL,
                                   ev->motion.yrel * ORBIT_PER_PIXEL);
            camera_moved(v);
        } else if (ev->motion.state & (SDL_BUTTON_RMASK | SDL_BUTTON_MMASK)) {
            /* The point under the cursor at the target's depth follows the cursor. */
            double per_pixel = 2 * v->camera.distance * tan(0.5 * v->fov) / v->width;
            aigc_view_camera_move(&v->camera, 0, -ev->motion.xrel * per_pixel,
                                  ev->motion.yrel * per_pixel);
            camera_moved(v);
        }
        break;
    case SDL_MOUSEWHEEL:
        if (ev->wheel.y != 0) {
            aigc_view_camera_zoom(&v->camera, pow(ZOOM_PER_NOTCH, ev->wheel.y));
            camera_moved(v);
        }
        break;
    case SDL_WINDOWEVENT:
        if (ev->window.event == SDL_WINDOWEVENT_EXPOSED ||
            ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
            present(v);
        break;
    default:
        break;
    }
}

/* Flies with the held keys for the time since the last iteration. */
static void fly(View *v)
{
    const Uint8 *keys = SDL_GetKeyboardState(NULL);
    int forward = keys[SDL_SCANCODE_W] - keys[SDL_SCANCODE_S];
    int right = keys[SDL_SCANCODE_D] - keys[SDL_SCANCODE_A];
    int up = keys[SDL_SCANCODE_E] - keys[SDL_SCANCODE_Q];
    gint64 now = g_get_monotonic_time();
    /* The first step after a key goes down, and steps after a pause (a screenshot), are short:
     * time spent idle is not flown. */
    double dt = v->flying ? CLAMP((now - v->last_tick_us) / 1e6, 0.0, 0.1) : 1.0 / 60;
    v->last_tick_us = now;
    v->flying = forward || right || up;
    if (!v->flying)
        return;
    double step = v->fly_speed * dt * ((SDL_GetModState() & KMOD_SHIFT) ? 4 : 1);
    aigc_view_camera_move(&v->camera, forward * step, right * step, up * step);
    camera_moved(v);
}

/* ---- the two loops ---- */

/* The finest divisor, from ¼ on, whose frame the measured speed renders within MOVE_SECONDS. */
static int coarse_level(const View *v)
{
    int level = 4, lw, lh;
    for (;;) {
        level_size(v, level, &lw, &lh);
        if (level >= MAX_LEVEL || (double)lw * lh / v->rays_per_second <= MOVE_SECONDS)
            return level;
        level *= 2;
    }
}

static void run_interactive(View *v)
{
    v->coarse_due = TRUE;
    v->changed_us = v->last_tick_us = g_get_monotonic_time();
    while (!v->quit) {
        int timeout = -1; /* idle: sleep until something happens */
        if (v->flying || v->camera_changed || v->coarse_due || v->want_screenshot) {
            timeout = 0;
        } else if (v->next_level > 0) {
            gint64 still_ms = (g_get_monotonic_time() - v->changed_us) / 1000;
            timeout = (int)MAX(0, SETTLE_MS - still_ms);
        }
        SDL_Event ev;
        if (SDL_WaitEventTimeout(&ev, timeout)) {
            handle_event(v, &ev);
            poll_events(v);
        }
        if (v->quit)
            break;
        fly(v);
        if (v->camera_changed) {
            v->camera_changed = FALSE;
            v->coarse_due = TRUE;
        }
        if (v->want_screenshot) {
            /* Renders the full view of the current camera if it is not on screen yet. */
            v->want_screenshot = FALSE;
            take_screenshot(v);
            v->coarse_due = FALSE;
            v->next_level = 0;
        } else if (v->coarse_due) {
            int level = coarse_level(v);
            render_level(v, level, FALSE);
            v->coarse_due = FALSE;
            v->next_level = level / 2;
        } else if (v->next_level > 0 &&
                   g_get_monotonic_time() - v->changed_us >= SETTLE_MS * 1000) {
            if (render_level(v, v->next_level, TRUE))
                v->next_level /= 2; /* … → 2 → 1 → 0 */
        }
    }
}

static void run_frames(View *v)
{
    gint64 start = g_get_monotonic_time();
    int n_done = 0;
    for (int i = 0; i < v->n_frames && !v->quit; i++) {
        if (i > 0)
            aigc_view_camera_orbit(&v->camera, FRAMES_TURN_DEG * G_PI / 180, 0);
        render_level(v, 1, FALSE);
        n_done++;
        SDL_Event ev;
        while (SDL_PollEvent(&ev))
            if (ev.type == SDL_QUIT || (ev.type == SDL_KEYDOWN && ev.key.keysym.sym == SDLK_ESCAPE))
                v->quit = TRUE;
    }
    double seconds = MAX(1e-6, (g_get_monotonic_time() - start) / 1e6);
    printf("aigc-view: %d frames of %d×%d in %.2f s: %.2f frames/s\n", n_done, v->width, v->height,
           seconds, n_done / seconds);
    fflush(stdout);
}

/* ---- setup ---- */

static gboolean parse_size(const char *text, int *w, int *h)
{
    char *end;
    gint64 a = g_ascii_strtoll(text, &end, 10);
    if (end == text || (*end != 'x' && *end != 'X'))
        return FALSE;
    const char *rest = end + 1;
    gint64 b = g_ascii_strtoll(rest, &end, 10);
    if (end == rest || *end || a < 1 || b < 1 || a > MAX_SIDE || b > MAX_SIDE)
        return FALSE;
    *w = (int)a;
    *h = (int)b;
    return TRUE;
}

static int usage_error(const char *format, ...) G_GNUC_PRINTF(1, 2);
static int usage_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *msg = g_strdup_vprintf(format, args);
    va_end(args);
    fprintf(stderr, "aigc-view: %s\nRun `aigc-view --help` for usage.\n", msg);
    return VIEW_EXIT_USAGE;
}

static int fail(const char *format, ...) G_GNUC_PRINTF(1, 2);
static int fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *msg = g_strdup_vprintf(format, args);
    va_end(args);
    fprintf(stderr, "aigc-view: %s\n", msg);
    return VIEW_EXIT_FAILURE;
}

static AigcNerf *load_scene(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL; /* the message names the file */
    AigcNerf *nerf = aigc_nerf_load(st, error);
    if (!nerf)
        g_prefix_error(error, "%s: ", path);
    return nerf;
}

static gboolean open_window(View *v)
{
    if (SDL_Init(SDL_INIT_VIDEO) != 0)
        return FALSE;
    v->window = SDL_CreateWindow("aigc-view", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                                 v->width, v->height, SDL_WINDOW_RESIZABLE);
    if (!v->window)
        return FALSE;
    v->renderer = SDL_CreateRenderer(v->window, -1, 0);
    if (!v->renderer)
        return FALSE;
    /* A resized window shows the view scaled, with bars where the aspect differs. */
    SDL_RenderSetLogicalSize(v->renderer, v->width, v->height);
    v->texture = SDL_CreateTexture(v->renderer, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING,
                                   v->width, v->height);
    return v->texture != NULL;
}

static void close_window(View *v)
{
    if (v->texture)
        SDL_DestroyTexture(v->texture);
    if (v->renderer)
        SDL_DestroyRenderer(v->renderer);
    if (v->window)
        SDL_DestroyWindow(v->window);
    SDL_Quit();
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    g_autofree char *size = NULL;
    g_autofree char *screenshot = NULL;
    g_autofree char *up = NULL;
    double fov_deg = 45;
    int n_frames = 0, n_threads = 0;
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        {"size", 0, 0, G_OPTION_ARG_STRING, &size, "Render size (256x256)", "WxH"},
        {"fov", 0, 0, G_OPTION_ARG_DOUBLE, &fov_deg, "Horizontal field of view (45)", "DEG"},
        {"up", 0, 0, G_OPTION_ARG_STRING, &up,
         "The scene's up axis: z (Blender scenes, the default), y, -y, …", "AXIS"},
        {"frames", 0, 0, G_OPTION_ARG_INT, &n_frames,
         "Render N frames turning around the scene, print the frame rate and exit", "N"},
        {"screenshot", 0, 0, G_OPTION_ARG_FILENAME, &screenshot,
         "Where F12 saves (default aigc-view-DATE-TIME.png here); with --frames, the last "
         "frame is saved there",
         "FILE"},
        {"threads", 0, 0, G_OPTION_ARG_INT, &n_threads, "Compute threads (0: all cores)", "N"},
        {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("SCENE.safetensors");
    g_option_context_set_summary(
        context, "Show a trained NeRF scene in a window and move around it in real time.\n\n"
                 "Left drag: orbit. Right or middle drag: pan. Wheel: zoom.\n"
                 "W/S: fly forward/back, A/D: left/right, Q/E: down/up (Shift: faster).\n"
                 "R: first view. F12: save a PNG screenshot. Esc: quit.\n\n"
                 "Exit status: 0 success, 1 failure, 2 usage error.");
    g_option_context_add_main_entries(context, entries, NULL);
    /* --help is answered here rather than by GLib, which would exit() from inside parse. */
    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h")) {
            g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);
            fputs(help, stdout);
            return VIEW_EXIT_OK;
        }
        if (g_str_equal(argv[i], "--"))
            break;
    }
    g_option_context_set_help_enabled(context, FALSE);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error))
        return usage_error("%s", error->message);
    if (version) {
        printf("aigc-view %s\n", AIGC_VERSION);
        return VIEW_EXIT_OK;
    }
    if (argc != 2)
        return usage_error("expected one SCENE file, got %d", argc - 1);

    View v = {.scene_path = argv[1],
              .width = 256,
              .height = 256,
              .background = {1, 1, 1},
              .screenshot_path = screenshot,
              .n_frames = n_frames};
    if (size && !parse_size(size, &v.width, &v.height))
        return usage_error("--size “%s”: expected WIDTHxHEIGHT, each 1–%d, e.g. 256x256", size,
                           MAX_SIDE);
    if (!(fov_deg >= 1 && fov_deg <= 170))
        return usage_error("--fov %g: expected 1–170 degrees", fov_deg);
    v.fov = fov_deg * G_PI / 180;
    int up_axis = 2, up_sign = 1;
    if (up && !aigc_view_camera_parse_up(up, &up_axis, &up_sign))
        return usage_error("--up “%s”: expected x, y or z with an optional sign, e.g. -y", up);
    if (n_frames < 0)
        return usage_error("--frames %d: expected a positive count", n_frames);
    if (n_threads < 0)
        return usage_error("--threads %d: expected 0 (all cores) or more", n_threads);

    aigc_threads_init(n_threads);
    v.nerf = load_scene(v.scene_path, &error);
    if (!v.nerf)
        return fail("%s", error->message);
    aigc_view_camera_init_box(&v.camera, v.nerf->aabb_min, v.nerf->aabb_max, v.fov, up_axis,
                              up_sign);
    v.home = v.camera;
    v.fly_speed = FLY_PER_SECOND * v.camera.distance;
    v.rays_per_second = 1e5; /* a first guess; every strip measures it */
    v.frame = aigc_image_new(v.width, v.height, 3);
    v.rgb = g_new0(float, (gsize)v.width *v.height * 3);

    int status = VIEW_EXIT_OK;
    if (open_window(&v)) {
        set_title(&v, "rendering");
        if (n_frames > 0) {
            run_frames(&v);
            if (v.screenshot_path && !v.quit && !save_screenshot(&v, v.screenshot_path, &error))
                status = fail("the screenshot was not saved: %s", error->message);
        } else {
            run_interactive(&v);
        }
    } else {
        status = fail("cannot open a window: %s (without a display, set "
                      "SDL_VIDEODRIVER=dummy and use --frames)",
                      SDL_GetError());
    }
    close_window(&v);
    g_free(v.rgb);
    aigc_image_free(v.frame);
    aigc_nerf_free(v.nerf);
    return status;
}
